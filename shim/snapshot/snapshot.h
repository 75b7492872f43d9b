/*
 * snapshot.h - what snapshot.c (the writer) and leakcheck.c (the leak
 * check's runs) share, included by those two only: the slots of the
 * sections, the live sums per trace, the snapshot lock as a run takes it,
 * and what the last run left for the other file.  All of it is guarded by
 * the snapshot lock: one snapshot or check at a time.
 */
#ifndef HEAPSNAP_SNAPSHOT_H
#define HEAPSNAP_SNAPSHOT_H

#include "shim.h"

#define SNAP_FATAL_TRIES 2000 /* lock attempts on the fatal path: never hang */

/* The sections in the order they are written (snapshot.c's snap_types). */
enum { SEC_META, SEC_MODULES, SEC_TRACES, SEC_STATS, SEC_BLOCKS, SEC_TIMELINE, SEC_LEAKS,
       SEC_RETAINERS, SEC_PEAK, SEC_SITELINE, SEC_TEMPS, SEC_PYCODE /* shim/python */, SEC_SUPP,
       SEC_FAILED, SEC_GONE, SEC_STATE, SEC_MAPLINE, SEC_PYTYPES, SEC_PYRETAIN, SEC_N };

/* Live sums per trace, derived rather than kept on the hot path: from the
 * blocks as BLOCKS is written when there is one, else from a walk of the
 * table (one stripe locked at a time).  Traces born after the array was
 * sized get zero live sums in this snapshot (BLOCKS grows it). */
struct snap_live {
    struct trace_live *live; /* arena_map'd; NULL when n is 0 */
    uint32_t n;              /* traces it has room for */
    size_t len;              /* its bytes, for arena_unmap */
};
/* The array, for n traces (and slack: traces born while the blocks are
 * written); 0 or -1. */
int snap_live_init(struct snap_live *lv, uint32_t n);

/* What the last run (a snapshot, a check) left behind. */
struct snap_run {
    struct pend_left left; /* held blocks the last walk left out */
    int64_t unreachable;   /* the last leak check's leaked blocks, or -1 */
    int leaks_skipped;     /* asked for, the check could not run (META) */
};
extern struct snap_run snap_run;

/* ---- snapshot.c ---- */
void snap_take_lock(void); /* a run's lock, after any snap_lock caller */
void snap_drop_lock(void); /* the run's end: advances the birth epoch */
/* snap_take, with the leaked blocks the check found in *found (may be
 * NULL; -1 without a check). */
int snap_take_found(unsigned reason, const char *path, int fatal, int64_t *found);
/* BLOCKS into the file (f->fd < 0: none), the live sums into *lv, the
 * blocks written into *count; with the leak check (*leaks; on a fork or in
 * place, as HEAPSNAP_LEAK_FORK says for reason), LEAKS and
 * RETAINERS too, or into their sbufs in sec; *leaks cleared when it could
 * not run.  0 or -1. */
int snap_put_blocks(struct side_file *f, struct sbuf *sec, unsigned reason, int fatal,
                    int *leaks, struct snap_live *lv, uint64_t *count);

/* The state file's document (state.c): 0, 1 (busy: not now), -1. */
int snap_state_doc(int fd, struct snap_live *lv);

/* What the writer asks of the rooms above it: the leak check (leak/) and
 * life.c.  life.c names them once at start-up (snap_set_host), before any
 * snapshot; the writer calls none of them by name. */
struct snap_host {
    int (*own_process)(void);        /* life_own_process */
    int (*leak_wanted)(unsigned reason, int fatal, unsigned *why); /* lchk_wanted */
    int (*leak_forked)(struct side_file *f, struct snap_live *lv, uint64_t *count);
    int (*leak_inplace)(struct side_file *f, struct sbuf *sec, int fatal, int *leaks,
                        struct snap_live *lv, uint64_t *count);
    int (*can_hold)(void);           /* stop_can_hold */
    void (*read_suppressions)(void); /* lsan_read_suppressions */
    const char *(*suppressions)(size_t *len); /* lsan_suppressions */
    void (*state_use)(struct sbuf *b); /* state_put: the STATE section */
    int (*state_yield)(void);          /* state_yield: its blocks back (0), or -1 */
};
void snap_set_host(const struct snap_host *host);
extern const struct snap_host *snap_host; /* snapshot.c's, for snapblocks.c */

/* ---- leakcheck.c ---- */
/* Whether this snapshot runs the check; *why: why the exit's does not
 * (HSNAP_META_LSAN_*, for META).  Not under a lock. */
int lchk_wanted(unsigned reason, int fatal, unsigned *why);
/* The check on a fork of the process: 0 (BLOCKS, LEAKS and RETAINERS are
 * in the file, *lv and *count filled), -1 (it failed, warned: the file is
 * as it was), or COLLECT_NOFORK. */
int lchk_forked(struct side_file *f, struct snap_live *lv, uint64_t *count);
/* The check in place, or the sorted copy alone when *leaks is 0 or the
 * check could not run (then *leaks is cleared): BLOCKS into the file,
 * LEAKS and RETAINERS into their sbufs in sec.  0 or -1, or
 * COLLECT_UNSTOPPED (a thread could not be stopped: nothing written). */
int lchk_inplace(struct side_file *f, struct sbuf *sec, int fatal, int *leaks,
                 struct snap_live *lv, uint64_t *count);

#endif
