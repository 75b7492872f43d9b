/*
 * blockstream.c - the live blocks in address order for a snapshot's BLOCKS
 * section, in bounded memory.  A sorted copy of the blocks took 32 bytes a
 * block (40 with its slack) on top of the table's 26-38, and doubled a big
 * heap's footprint while the snapshot was written.  Here only the blocks'
 * addresses are gathered (8 bytes each), sorted in place, and each block
 * is looked up in the table as it is handed on.
 *
 * A block freed between the two steps is left out and one allocated since
 * is not seen, as with any block born or freed during a snapshot's walk;
 * an address reused meanwhile gives the newer block.  The lookups run
 * BSTREAM_AHEAD addresses behind their prefetches: the table is far bigger
 * than the cache, and each lookup would otherwise wait for its line.  The
 * leak check and the fatal-signal path keep the copy (blocksort.c): the
 * model wants the whole array, and a crashing thread may hold a stripe.
 */
#include "shim.h"

#define BSTREAM_AHEAD 8

struct bstream_gather {
    uint64_t *a;
    uint64_t n, cap;
};

static int bstream_addr(const struct tbl_entry *e, void *arg)
{
    struct bstream_gather *g = arg;
    if (g->n == g->cap)
        return 1; /* overflow: again with more room */
    g->a[g->n++] = e->ptr;
    return 0;
}

/* The addresses of the live blocks into *g (a mapping of g->cap words);
 * 0, or -1 out of memory. */
static int bstream_gather(struct bstream_gather *g, struct pend_left *left)
{
    uint64_t cap = pend_live_count();
    for (cap += cap / 8 + 1024;; cap *= 2) {
        *g = (struct bstream_gather){arena_map(cap * sizeof *g->a), 0, cap};
        if (!g->a)
            return -1;
        int r = pend_foreach(bstream_addr, g, 0, left);
        if (r == 0)
            return 0;
        arena_unmap(g->a, cap * sizeof *g->a);
        if (r < 0)
            return -1;
    }
}

int bstream_blocks(bstream_fn fn, void *arg, struct pend_left *left)
{
    struct bstream_gather g;
    if (bstream_gather(&g, left) != 0)
        return -1;
    bsort_addrs(g.a, g.n);
    for (uint64_t i = 0; i < g.n; i++) {
        struct tbl_entry e;
        if (i + BSTREAM_AHEAD < g.n)
            tbl_prefetch_ptr(g.a[i + BSTREAM_AHEAD]);
        if (!tbl_find(g.a[i], &e) && !pend_find_fresh(g.a[i], &e))
            continue; /* freed since */
        struct hsnap_block b = {.addr = e.ptr, .size = e.size, .trace = e.trace, .epoch = e.epoch};
        fn(&b, arg);
    }
    arena_unmap(g.a, g.cap * sizeof *g.a);
    return 0;
}
