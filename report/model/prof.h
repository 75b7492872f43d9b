/*
 * prof.h - what the exports and the HTML report show, read once from the
 * snapshots given (prof_build): memory per distinct stack, and memory
 * over time.
 *
 * A STACK is an allocation site and its callers (the frames from the
 * trace's first frame past the wrappers outward: allocator wrappers such
 * as strdup or operator new are left out, as `top` leaves them out; in a
 * Python stack the C under the Python site stays, frames.h).  Its VALUES are the quantities
 * of prof_values[], one per enum prof_value: live ("inuse") and allocated
 * since the start ("alloc"), and live at the traced peak ("peak", from
 * PEAK: peak_decode), in blocks and in bytes; writers loop over
 * PROF_NVALUES.
 * The STATE of several snapshots is the latest snapshot of each process
 * (pid and start time), summed: series.h's one rule, which top applies
 * too.  The TIMELINE is a list of
 * series (the traced heap of each process now; others later), each a list
 * of points from the snapshots' TIMELINE sections and their own totals.
 */
#ifndef REPORT_PROF_H
#define REPORT_PROF_H

#include <stddef.h>
#include <stdint.h>

#include "frames.h"
#include "series.h"
#include "snap.h"

enum prof_value {
    PROF_ALLOC_OBJECTS,  /* blocks allocated since the start (total_count) */
    PROF_ALLOC_SPACE,    /* bytes allocated since the start (total_bytes) */
    PROF_INUSE_OBJECTS,  /* live blocks (live_count) */
    PROF_INUSE_SPACE,    /* live bytes (live_bytes) */
    PROF_PEAK_OBJECTS,   /* blocks live at the traced peak (PEAK; 0 without) */
    PROF_PEAK_SPACE,     /* bytes live at the traced peak */
    PROF_NVALUES
};

struct prof_value_info {
    const char *name;    /* "inuse_space": pprof's sample type, --value's name */
    const char *unit;    /* "bytes" or "count" */
    const char *title;   /* "live bytes", for people */
};
extern const struct prof_value_info prof_values[PROF_NVALUES];

/* The value named name ("inuse_space", ...); -1 when none is. */
int prof_value_parse(const char *name);

struct prof_stack {
    const struct frames_trace *t;  /* frames t->fr[t->first .. t->n) */
    int64_t v[PROF_NVALUES];
    const uint32_t *rk;            /* prof_sum's order only (NULL after): its idents from */
    uint32_t nrk;                  /* ... its first frame outward (identrank.h) */
};

struct prof_point {
    uint64_t t_ns;       /* since prof.t0_ns */
    int64_t v;
};

#define PROF_SITE_SERIES 6 /* sites drawn per process */

struct prof_series {
    const char *kind;    /* "heap": traced bytes live; "rss": the resident
                            set; "site": a site's live bytes (0 where it was
                            not among a point's largest) */
    char *label;         /* "pid 1234 demo", or the site: "demo.c:80 table_add" */
    int proc;            /* the process's index */
    struct prof_point *pts; /* by time */
    size_t n;
};

struct prof_input {
    const struct snap *s;
    const char *path;
    int proc;            /* index of its process among the inputs' processes */
    int latest;          /* the latest snapshot of its process */
};

struct prof {
    struct prof_input *in;  /* as given */
    size_t nin;
    int nprocs;
    uint64_t t0_ns;         /* the earliest start of the processes (realtime) */
    struct prof_stack *stacks; /* the state; one per distinct stack, largest
                                  live bytes first */
    size_t nstacks;
    struct prof_series *series;
    size_t nseries;
    char note[512];         /* series_note: how the snapshots were read */
};

/* --kind (export, html): only the stacks of that kind (SNAP_KIND_*; the
 * default all), for every prof_build and prof_sum after the call. */
void prof_set_kind(int kind);
int prof_get_kind(void);
/* Live stacks only (the tracemalloc export): a trace without live blocks
 * is not expanded, so a stack's alloc_* values (the tie-break of the
 * order) count its live traces alone, and no series is built; for every
 * prof_build and prof_sum after the call. */
void prof_set_live_only(int on);
/* Reads snaps[0..n) (loaded; they must outlive p).  0, or -1 with "export:
 * out of memory" in err. */
int prof_build(struct prof *p, const struct snap *snaps, char **paths, int n, char *err,
               size_t errlen);
void prof_free(struct prof *p);

/* What export and html both do first: load the snapshots at paths[0..n)
 * and build p from them (p.note: how several were read, for the command to
 * say).  0, or 2 with "CMD: why" in err; release with prof_unload either way. */
struct prof_run {
    struct prof p;
    struct snap *snaps;
    int loaded;
};
int prof_load(struct prof_run *r, const char *cmd, char **paths, int n, uint32_t skip,
              char *err, size_t errlen); /* skip: snap_load_skip's sections left stored */
void prof_unload(struct prof_run *r);

/* The stacks of the given snapshots summed (for one snapshot alone, a
 * massif snapshot or a diff side): *out, *nout, in prof_build's order.
 * 0, or -1 when out of memory. */
int prof_sum(const struct snap *const *snaps, size_t n, struct prof_stack **out,
             size_t *nout);

/* Distinct frames (function, file, line, module) numbered from 0 in the
 * order first asked for, for formats that list frames once and refer to
 * them by number (speedscope, the HTML report). */
struct prof_ftab {
    const struct frame **frames; /* by number */
    size_t n, cap;
    long *byident;               /* a frame's ident: its number + 1, or 0 */
    size_t capident;
};

/* f's number, new ones appended; -1 when out of memory. */
long prof_ftab_index(struct prof_ftab *ft, const struct frame *f);

/* Numbers the frames of stacks st[0..n), outermost first: stack i's are
 * (*ids)[(*off)[i] .. (*off)[i + 1]), 32 bits each (a big snapshot's
 * stacks hold tens of millions of frames).  0, or -1 when out of memory
 * (then nothing is to be freed); the caller frees *ids and *off. */
int prof_ftab_number(struct prof_ftab *ft, const struct prof_stack *st, size_t n,
                     uint32_t **ids, size_t **off);
void prof_ftab_free(struct prof_ftab *ft);

/* A stack's frame i counted from the outermost (0) to the first past the
 * wrappers (prof_depth - 1): the order of folded stacks and flame graphs. */
static inline int prof_depth(const struct prof_stack *st) { return st->t->n - st->t->first; }
static inline const struct frame *prof_frame(const struct prof_stack *st, int i)
{
    return st->t->fr[st->t->n - 1 - i];
}

#endif
