/*
 * pymaps.c - the readable ranges of the address space, loaded once before
 * a walk of the interpreter's own memory (the collector's lists, a dict's
 * keys, a tuple's items) and asked before each load the walk makes.  A
 * walk follows pointers that a layout says are there; a layout misread
 * (a point release that moved a field, a version never seen) hands it a
 * word that is no pointer, and a plain load through it kills the host.
 * Each address is checked here instead: the walk then stops, and the
 * Python view loses what it would have named, never the host its life.
 * A peek (process_vm_readv) a load would cost a start-up tens of
 * milliseconds over a million objects; a binary search over a few hundred
 * ranges costs nothing.  The ranges are those of one moment: a walk runs
 * under the GIL over objects the interpreter keeps alive, so what it
 * reads stays mapped, and the check is against garbage, not against
 * munmap.  Merged neighbours keep the table short; the table is mapped
 * once (arena_map) and lives as long as the process.
 *   A second table holds the writable ranges (pyrd_wmap_load), loaded at
 * a snapshot's typing pass: a block's second word is taken for a type
 * only where it points into one, since every type object is written
 * (PyType_Ready sets its flags; a static type lies in .data, a heap type
 * in the heap).  A C++ object's words point into code and read-only
 * data, and each was read as a type before, a page copy that faulted in
 * the library's page and its neighbours.
 */
#include <stdint.h>

#include "base.h"
#include "pyreads.h"
#include "procmaps.h"

#define PYMAP_CAP 8192u /* ranges kept; past that, nothing is trusted */

/* A table of ranges: the readable ones (pymap), or the writable ones
 * (pywmap: where a type object can be, pyrd_wmap_load). */
struct pyrd_ranges {
    struct pyrd_map_range {
        uintptr_t lo, hi;
    } *r;
    unsigned n;
    int full;     /* the table overflowed: every check fails */
    int writable; /* its ranges are the writable ones, not the readable */
};
static struct pyrd_ranges pymap, pywmap = {.writable = 1};

static void pyrd_map_line(const struct procmaps_line *l, void *arg)
{
    struct pyrd_ranges *m = arg;
    if (!(m->writable ? l->writable && l->readable : l->readable) || m->full)
        return;
    if (m->n && m->r[m->n - 1].hi == l->lo) {
        m->r[m->n - 1].hi = l->hi;
        return;
    }
    if (m->n == PYMAP_CAP) {
        m->full = 1;
        return;
    }
    m->r[m->n].lo = l->lo;
    m->r[m->n++].hi = l->hi;
}

static int pyrd_ranges_load(struct pyrd_ranges *m)
{
    char buf[512];
    if (!m->r && !(m->r = arena_map(PYMAP_CAP * sizeof *m->r)))
        return -1;
    m->n = 0;
    m->full = 0;
    if (procmaps_each(buf, sizeof buf, pyrd_map_line, m) != 0 || m->full) {
        m->n = 0;
        return -1;
    }
    return 0;
}

static int pyrd_ranges_hold(const struct pyrd_ranges *m, uintptr_t p, size_t n)
{
    unsigned lo = 0, hi = m->n;
    if (p + n < p)
        return 0;
    while (lo < hi) { /* the first range whose end is past p */
        unsigned mid = lo + (hi - lo) / 2;
        if (m->r[mid].hi <= p)
            lo = mid + 1;
        else
            hi = mid;
    }
    return lo < m->n && m->r[lo].lo <= p && p + n <= m->r[lo].hi;
}

int pyrd_map_load(void)
{
    return pyrd_ranges_load(&pymap);
}

int pyrd_map_readable(uintptr_t p, size_t n)
{
    return pyrd_ranges_hold(&pymap, p, n);
}

int pyrd_wmap_load(void)
{
    return pyrd_ranges_load(&pywmap);
}

int pyrd_map_writable(uintptr_t p, size_t n)
{
    return pyrd_ranges_hold(&pywmap, p, n);
}
