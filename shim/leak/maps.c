/*
 * maps.c - the address ranges the leak check must not read: everything
 * that is not a readable mapping, from /proc/self/maps.
 *
 * A program may make part of a live block PROT_NONE (a guard page, as
 * valgrind's leak-segv-jmp test does) or unmap part of a large block; a
 * scan that reads it dies with SIGSEGV.  The model scans around these
 * holes.  They are read with the world stopped (no thread can map or
 * protect meanwhile) by procmaps.h: no stdio, no malloc.  The holes are
 * the complement of the readable mappings over the whole address space,
 * adjacent readable mappings merged, so there are about as many as there
 * are mappings.
 *   The host adds words of live memory that hold no references though
 * they look like them (leak_host.stale_words: a CPython free list's dead
 * list still points at the item array it freed, which the C heap may
 * have handed out again); inserted in order, so that the model skips
 * them in roots and blocks alike.  Such a block is no partial one
 * (maps_unflag): an unreadable hole is whole pages, a stale word is not.
 */
#include <string.h>

#include "leakinner.h"
#include "procmaps.h"

#define MAPS_SLACK 256 /* holes beyond the first count: the array's own mapping */

struct maps_fill {
    struct model_range *h;
    size_t n, cap;
    uintptr_t readable_end; /* end of the last readable mapping */
};

static void maps_count(const struct procmaps_line *l, void *arg)
{
    (*(size_t *)arg)++;
}

#define MAPS_PAGE 4096u /* the smallest unreadable hole */

/* Appends [lo, hi) to the holes. */
static void maps_hole(struct maps_fill *f, uintptr_t lo, uintptr_t hi)
{
    if (lo < hi && f->n < f->cap)
        f->h[f->n++] = (struct model_range){lo, hi};
}

static void maps_fill_line(const struct procmaps_line *l, void *arg)
{
    struct maps_fill *f = arg;
    if (l->readable && l->hi > l->lo) {
        maps_hole(f, f->readable_end, l->lo);
        f->readable_end = l->hi;
    }
}

static void maps_stale_count(uintptr_t lo, uintptr_t hi, void *arg)
{
    *(size_t *)arg += lo < hi;
}

/* Inserts the stale words [lo, hi) among the sorted holes, unless they
 * overlap one (a hole's words are not read anyway). */
static void maps_stale_add(uintptr_t lo, uintptr_t hi, void *arg)
{
    struct maps_fill *f = arg;
    size_t l = 0, r = f->n;
    if (lo >= hi || f->n == f->cap)
        return;
    while (l < r) { /* the first hole that ends after lo */
        size_t m = l + (r - l) / 2;
        if (f->h[m].hi <= lo)
            l = m + 1;
        else
            r = m;
    }
    if (l < f->n && f->h[l].lo < hi)
        return;
    memmove(&f->h[l + 1], &f->h[l], (f->n - l) * sizeof *f->h);
    f->h[l] = (struct model_range){lo, hi};
    f->n++;
}

/* Fills *holes (a mapping of *bytes bytes, release with maps_free) with
 * the unreadable ranges, sorted; 0, or -1 when /proc/self/maps cannot be
 * read (then there are none, and the scan trusts every block).  Two
 * passes: a count, then the holes into an array of that size. */
int maps_holes(struct model_range **holes, size_t *n, size_t *bytes)
{
    static char buf[8192]; /* one check at a time (the snapshot lock) */
    size_t lines = 0, stale = 0;
    *holes = NULL;
    *n = *bytes = 0;
    if (procmaps_each(buf, sizeof buf, maps_count, &lines) != 0)
        return -1;
    if (collect_host->stale_words)
        collect_host->stale_words(maps_stale_count, &stale);
    struct maps_fill f = {.cap = lines + 1 + MAPS_SLACK + stale};
    f.h = collect_host->map(f.cap * sizeof *f.h);
    if (!f.h)
        return -1;
    if (procmaps_each(buf, sizeof buf, maps_fill_line, &f) != 0 || f.n == f.cap) {
        collect_host->unmap(f.h, f.cap * sizeof *f.h);
        return -1;
    }
    maps_hole(&f, f.readable_end, UINTPTR_MAX);
    if (stale)
        collect_host->stale_words(maps_stale_add, &f);
    *holes = f.h;
    *n = f.n;
    *bytes = f.cap * sizeof *f.h;
    return 0;
}

void maps_free(struct model_range *holes, size_t bytes)
{
    if (holes)
        collect_host->unmap(holes, bytes);
}

void maps_unflag(struct hsnap_block *b, uint64_t n, const struct model_range *h, size_t nh)
{
    size_t k = 0;
    for (uint64_t i = 0; i < n && nh; i++) {
        if (!(b[i].flags & MODEL_BF_PARTIAL))
            continue;
        uintptr_t lo = b[i].addr, hi = lo + b[i].size;
        while (k < nh && h[k].hi <= lo)
            k++;
        int unreadable = 0;
        for (size_t j = k; j < nh && h[j].lo < hi && !unreadable; j++)
            unreadable = h[j].hi - h[j].lo >= MAPS_PAGE;
        if (!unreadable)
            b[i].flags &= ~MODEL_BF_PARTIAL;
    }
}
