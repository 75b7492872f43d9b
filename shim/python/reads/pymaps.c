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
 */
#include <stdint.h>

#include "base.h"
#include "pyreads.h"
#include "procmaps.h"

#define PYMAP_CAP 8192u /* ranges kept; past that, nothing is trusted */

static struct {
    struct pyrd_map_range {
        uintptr_t lo, hi;
    } *r;
    unsigned n;
    int full; /* the table overflowed: every check fails */
} pymap;

static void pyrd_map_line(const struct procmaps_line *l, void *arg)
{
    (void)arg;
    if (!l->readable || pymap.full)
        return;
    if (pymap.n && pymap.r[pymap.n - 1].hi == l->lo) {
        pymap.r[pymap.n - 1].hi = l->hi;
        return;
    }
    if (pymap.n == PYMAP_CAP) {
        pymap.full = 1;
        return;
    }
    pymap.r[pymap.n].lo = l->lo;
    pymap.r[pymap.n++].hi = l->hi;
}

int pyrd_map_load(void)
{
    char buf[512];
    if (!pymap.r && !(pymap.r = arena_map(PYMAP_CAP * sizeof *pymap.r)))
        return -1;
    pymap.n = 0;
    pymap.full = 0;
    if (procmaps_each(buf, sizeof buf, pyrd_map_line, NULL) != 0 || pymap.full) {
        pymap.n = 0;
        return -1;
    }
    return 0;
}

int pyrd_map_readable(uintptr_t p, size_t n)
{
    unsigned lo = 0, hi = pymap.n;
    if (p + n < p)
        return 0;
    while (lo < hi) { /* the first range whose end is past p */
        unsigned mid = lo + (hi - lo) / 2;
        if (pymap.r[mid].hi <= p)
            lo = mid + 1;
        else
            hi = mid;
    }
    return lo < pymap.n && pymap.r[lo].lo <= p && p + n <= pymap.r[lo].hi;
}
