/*
 * heap.c - the functions of the snapshot's heap (struct pyh_heap, pyheap.h)
 * that are not inline: a big block's size, kept apart from the 8-byte
 * block records (pyh_big_size), the arrays given back (pyh_heap_free),
 * and a walked array's pages given back as the walk passes them
 * (pyh_drop): the graph's marking and the retained sizes' sums read
 * arrays of a word an object once, in order, and the stop's peak is
 * lower by what they have read.  Memory is the arena's (arena_map).
 */
#include <string.h>
#include <sys/mman.h>

#include "pyheap.h"

uint64_t pyh_big_size(const struct pyh_heap *h, uint64_t addr)
{
    uint64_t lo = 0, hi = h->nbig;
    while (lo < hi) {
        uint64_t mid = lo + (hi - lo) / 2;
        if (h->big[mid].addr == addr)
            return h->big[mid].size;
        if (h->big[mid].addr < addr)
            lo = mid + 1;
        else
            hi = mid;
    }
    return PYG_BIG; /* not kept: at least so much */
}

void pyh_heap_free(struct pyh_heap *h, uint64_t capblk, uint64_t capobj)
{
    if (h->big)
        arena_unmap(h->big, h->capbig * sizeof *h->big);
    if (h->blk)
        arena_unmap(h->blk, capblk * sizeof *h->blk);
    if (h->rank)
        arena_unmap(h->rank, h->caprank * sizeof *h->rank);
    if (h->sel)
        arena_unmap(h->sel, h->capsel * sizeof *h->sel);
    if (h->obj)
        arena_unmap(h->obj, capobj * sizeof *h->obj);
    memset(h, 0, sizeof *h);
}

void pyh_drop(const void *a, uint64_t upto, uint64_t *dropped)
{
    uint64_t end = upto & ~(uint64_t)(PYG_DROP - 1);
    if (a && end > *dropped) {
        madvise((char *)(uintptr_t)a + *dropped, end - *dropped, MADV_DONTNEED); /* else kept */
        *dropped = end;
    }
}
