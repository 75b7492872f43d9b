/*
 * memline.h - memory over time of ONE process, as `heapsnap timeline` and
 * the HTML report show it (memline_build): the points of its snapshots,
 * merged, with the traced heap, the resident set and the live bytes of
 * its largest allocation sites, symbolized (frames_get) and ranked.
 *
 * Every snapshot of a process carries its whole history since the start
 * (bounded by halving, the shim's sl_halve), so the points of all the
 * snapshots given are merged by time, each once: the latest snapshot's,
 * plus the finer early points that earlier snapshots still held.  A
 * snapshot without SITELINE (format 1, or HEAPSNAP_SITELINE=0) gives its
 * TIMELINE points and its own total, heap only.  If any snapshot of the
 * process has SITELINE, only SITELINE points are used.  Each snapshot's
 * traced peak is a point too, at the time the shim captured it (PEAK).
 */
#ifndef REPORT_MEMLINE_H
#define REPORT_MEMLINE_H

#include <stddef.h>
#include <stdint.h>

#include "snap.h"

struct ml_site {
    const char *name;    /* "file.c:12", or the function without a file */
    const char *func;    /* the site's function */
    uint64_t max;        /* its most bytes at any point */
};

struct ml_ent {
    uint32_t site;       /* index into memline.sites */
    uint64_t bytes;
};

struct ml_point {
    uint64_t t_ns;       /* since the process started */
    uint64_t heap;       /* traced bytes live */
    uint64_t rss;        /* resident set in bytes; 0 = unknown */
    uint64_t other;      /* heap less the sites listed in ent */
    size_t first, n;     /* its sites: memline.ent[first .. first + n), biggest first */
    int full;            /* every site slot was used: a site not listed held at
                            most the smallest listed (else it held 0) */
    int captured;        /* the traced peak at its capture (PEAK), not a sample */
};

struct memline {
    const struct snap *latest; /* the process's latest snapshot */
    int kind;            /* SNAP_KIND_*: the heap and sites of one kind only */
    int nsnaps;
    int has_sites;       /* points from SITELINE: rss and sites recorded */
    uint32_t per_point;  /* sites recorded per point */
    uint64_t step_ns;    /* the latest SITELINE's spacing now */
    uint64_t first_step_ns; /* ... at the start (HEAPSNAP_SITELINE) */
    struct ml_point *pts; /* by time */
    size_t n;
    struct ml_site *sites; /* most bytes first (then by name) */
    size_t nsites;
    struct ml_ent *ent;
    size_t nent;
    size_t peak;         /* the point with the most heap (the first such) */
};

/* Numbers the processes of snaps[0..n) (pid and start time) into proc[i];
 * returns how many there are. */
int memline_procs(const struct snap *snaps, int n, int *proc);

/* The memory over time of the snapshots snaps[0..n) of one process
 * (n >= 1; loaded by snap_load, they must outlive ml).  0, or -1 when out
 * of memory. */
int memline_build(struct memline *ml, const struct snap *const *snaps, int n);

/* The same for one kind of memory (SNAP_KIND_*, timeline --kind): its
 * bytes at each point (MAPLINE) and its sites only.  The caller checks
 * first that the snapshots know their kinds (siteline_kinds_known). */
int memline_build_kind(struct memline *ml, const struct snap *const *snaps, int n, int kind);
void memline_free(struct memline *ml);

/* Bytes of site at point p: 1 and *bytes when listed or known to be 0,
 * 0 when below the point's largest (unknown). */
int memline_bytes(const struct memline *ml, const struct ml_point *p, size_t site,
                  uint64_t *bytes);

#endif
