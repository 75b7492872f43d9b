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
 */
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

/* Fills *holes (a mapping of *bytes bytes, release with maps_free) with
 * the unreadable ranges, sorted; 0, or -1 when /proc/self/maps cannot be
 * read (then there are none, and the scan trusts every block).  Two
 * passes: a count, then the holes into an array of that size. */
int maps_holes(struct model_range **holes, size_t *n, size_t *bytes)
{
    static char buf[8192]; /* one check at a time (the snapshot lock) */
    size_t lines = 0;
    *holes = NULL;
    *n = *bytes = 0;
    if (procmaps_each(buf, sizeof buf, maps_count, &lines) != 0)
        return -1;
    struct maps_fill f = {.cap = lines + 1 + MAPS_SLACK};
    f.h = collect_host->map(f.cap * sizeof *f.h);
    if (!f.h)
        return -1;
    if (procmaps_each(buf, sizeof buf, maps_fill_line, &f) != 0 || f.n == f.cap) {
        collect_host->unmap(f.h, f.cap * sizeof *f.h);
        return -1;
    }
    maps_hole(&f, f.readable_end, UINTPTR_MAX);
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
