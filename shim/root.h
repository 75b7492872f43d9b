/*
 * root.h - the door of the shim's root (shim/), which composes: start-up,
 * exit, fork and attach (life.c), the helper thread, the program's
 * threads, signals, set*id calls and execs, clone children no fork
 * handler reached, the API (api.c) and the leak check's runs (leakrun.c,
 * lsan.c, elfsym.c).  It stands on the doors of the rooms it wires,
 * included here (CPython's domains, the hooks, the state file, the
 * snapshot writer, the leak check, python, record, unwind, base), and
 * hands each what it needs from above through a host struct (hook_host,
 * state_host, snap_host, dom_host); only shim/attach stands on it.
 * Prefixes: life_, helper_, orph_, sig_, term_, pause_, lchk_,
 * lsan_ and __lsan_*, elfsym_, heapsnap_* (api.c);
 * besides the libc names interposed (threads.c, exec.c, creds.c, ...).
 * The lock order below is every room's.
 */
#ifndef HEAPSNAP_ROOT_H
#define HEAPSNAP_ROOT_H

/*
 * Lock order.  Every lock the shim takes, in the one order in which they
 * may be nested (fork's prepare handler takes them all in this order, and
 * nobody takes two of them in another):
 *
 *   1. snap         snapshot.c: one snapshot or leak check (leakrun.c)
 *                   at a time (and the API's ignore list)
 *   2. loader gate  base/loader.c: loader_enter/leave around every call that
 *                   takes glibc's loader lock (dl_iterate_phdr, libunwind,
 *                   dlsym); fork closes it and waits for those inside
 *   2a. roots       leak/roots.c: the registered roots (the API's,
 *                   pymalloc's arenas): taken alone by a registration, by
 *                   the leak check from before its stop to the resume
 *   2b. pycode      python/frames/code.c: the Python code table, and native.c's
 *                   numbered native stacks (a hook takes it after the
 *                   unwind, when its thread's caches miss; the writer after
 *                   TRACES)
 *   3. traces       traces.c: the intern table, frametree.c's new nodes and
 *                   tracefail.c's failures
 *   3b. peak        peak.c: the peak's capture (tried from a hook, never
 *                   waited for there; no other lock is taken under it)
 *   4. pending      pending.c: pend_claim (a thread claiming a queue, and
 *                   fork), then every claimed queue's held frees (fork only)
 *   5. table        tblpool.c's registry, then its regions (a pool's blocks;
 *                   a region hands stale ones to the hash), then
 *                   table_hint.c's claims of a group, then table.c's
 *                   stripes, in ascending order
 *   5b. regions     record/regions.c: the program's mapped ranges (taken alone
 *                   by a mapping hook, the snapshot and the site line)
 *   6. arena        arena.c
 *   7. timeline     record/timepoints.c
 *   8. siteline     siteline.c: the per-site points (taken alone, or
 *                   after snap by the writer)
 *   9. threads      leak/stop.c: the registry (the leak check, after the
 *                   arena; fork's child resets it)
 *  10. arena maps   arena.c: a mapping's system call and its listing as one
 *                   step (arena_maps_hold: fork, the leak check's stop and
 *                   its read of /proc/self/maps)
 *  11. pydomain     python/wrap/pydomain.c: tracemalloc's domains (taken alone:
 *                   by PyTraceMalloc_Track's wrapper and heapsnap_dump;
 *                   its fork handler before the others; pytrack.c's GOT
 *                   walks under their own lock, which takes the loader gate)
 *
 * A hook holds no lock while it unwinds (the loader lock: a thread inside
 * dlopen may be waiting for malloc).  A snapshot holds only snap while it
 * walks the modules.  The fatal-signal path tries every lock a bounded
 * number of times and gives up rather than wait.
 */

#include <limits.h>

#include "base.h"
#include "domain.h"
#include "hooks.h"
#include "hsnap_format.h"
#include "leak.h"
#include "pyexit.h"
#include "pylayout.h"
#include "pyleakref.h"
#include "pyretain.h"
#include "python.h"
#include "pyobjects.h"
#include "pywrap.h"
#include "record.h"
#include "snapshot.h"
#include "state.h"
#include "unwind.h"

/* term.c: SIGTERM's default, a snapshot first in a Python process */
struct sigaction;
int term_sigaction(int s, const struct sigaction *act, struct sigaction *old, int *r);
/* start-up: the root's own_process (life_own_process), which the
 * SIGTERM handler asks before it writes */
void term_set_own(int (*own_process)(void));
int term_hold(void);          /* life_atexit: SIGTERM waits for the exit snapshot */
void term_release(int held);  /* ... and then ends the process, if it came */
void life_exit_early(void); /* life.c: the exit snapshot now (pyexit_host) */
/* pause.c: heapsnap_stop / heapsnap_start, HEAPSNAP_PAUSED */
void pause_stop(void);
void pause_start(void);
int pause_is_on(void); /* stopped by the program: no exit snapshot */
int pause_thread(int off); /* this thread's allocations unrecorded (off); was it recording */

/* ---- leakrun.c: the leak check's runs (under the snapshot lock) ---- */
/* heapsnap_collect: the leak check, and a snapshot when path != NULL; the
 * leaked blocks the last check found, or -1. */
int64_t lchk_collect(const char *path);
/* heapsnap_refcount and friends: the leak room's query on the live heap. */
long lchk_query(int referents, struct heapsnap_ref *out, size_t max);
int lchk_ignore(const void *p); /* heapsnap_ignore: 0, or -1 (not in a live block) */
/* A snapshot with the leak check (to HEAPSNAP_OUTPUT's next name): the
 * blocks it found leaked (direct, indirect, cycle), or -1. */
int64_t lchk_check(unsigned reason);
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

/* ---- threads.c: the pthread_create hook; per-thread set-up and end ---- */
/* (the registry the leak check stops and scans is the leak room's: stop_*) */

/* ---- signals.c: the program's sigaction/signal, watched ---- */
struct sigaction;
void sig_init(void);
int sig_install(int s, const struct sigaction *act, struct sigaction *old); /* unwatched */
void sig_watch(int s, void (*ours)(int)); /* HEAPSNAP_SIGNAL, with our handler on it */
int sig_owned(void);                      /* it still reaches that handler */
void sig_keep_open(int s); /* the leak check's stop signal: no mask blocks it (0: none) */
void sig_stand_in(int s, const struct sigaction *host); /* ours on s: queries answer host */

/* ---- lsan.c: LeakSanitizer's interface ---- */
/* lsan_disabled (hs_hot): __lsan_disable nesting on this thread */
/* Why the leak check at exit does not run (HSNAP_META_LSAN_*), or 0:
 * __lsan_do_leak_check ran (said whether or not a check is wanted), or,
 * when one is, __lsan_is_turned_off() is nonzero. */
unsigned lsan_exit_check(int wanted);
void lsan_read_suppressions(void); /* __lsan_default_suppressions(), once */
const char *lsan_suppressions(size_t *len); /* what it returned; NULL: none */

/* ---- elfsym.c: the program's functions by name (.dynsym, the exe's .symtab) ---- */
void elfsym_find(const char *const *names, void **out, unsigned n);

/* ---- life.c ---- */
void life_tick(void);             /* from the record slow path, now and then */
int life_start_early(void);        /* an allocation before the constructor */
/* not a vfork child, nor a clone child that no fork handler reached: the
 * process that writes snapshots */
int life_own_process(void);
void life_adopt(void); /* a clone child's locks taken back (orph_init's adopt) */
int life_attach(const char *conf);  /* shim/attach: start now; 0, or -1 */
void life_detach(void);             /* shim/attach: stop for good */

/* ---- orphan.c: clone children that no fork handler reached ---- */
void orph_init(void (*adopt)(void)); /* start-up; adopt: takes a child's locks back */
/* hook_fork_page (hooks.h): the MADV_WIPEONFORK page it marks */
void orph_forked(void); /* fork's child handler */
int orph_foreign(void); /* such a child (its tables may be half changed) */
int orph_stop(void);    /* such a child: recording stops (1), before a new walk */
/* exec.c: before an exec of path (NULL: a search of PATH, or by fd),
 * and after one that failed (errno kept) */
void life_before_exec(const char *path);
void life_after_exec(void);
void life_made(pid_t pid); /* posix_spawn's child: run told its pid, as fork's is */

/* ---- helper.c: the helper thread (HEAPSNAP_SIGNAL, intervals, heartbeat) ---- */
void helper_init(void);   /* start-up and attach: the signal's handler, the thread */
void helper_tick(void);   /* life_tick: a fork child's helper starts */
void helper_after_fork_child(void);
void helper_wake(void);   /* a running helper wakes now */
int helper_running(void); /* this process's helper thread runs */
int helper_signal_owed(void); /* a HEAPSNAP_SIGNAL not taken yet (taken now) */
void helper_reattach(void);   /* an attach after a detach */
void helper_stop(void);       /* heapsnap detach: joined, never again */
/* A piece of a snapshot on a second thread of the shim's own (snap_host's
 * job): fn(arg) started there (1), or run here where none can be made (0);
 * helper_job_wait joins it.  One at a time, under the snapshot lock. */
int helper_job(void (*fn)(void *), void *arg);
void helper_job_wait(void);
/* creds.c, around a set*id call: the helper thread stopped and joined (1:
 * it was running), then started again. */
int helper_pause(void);
void helper_resume(void);

#endif
