/*
 * root.h - the door of the shim's root room (shim/), the composition
 * root: the hooks (hooks.c, hookstack.c, realsym.c, maphooks.c, domain.c),
 * the process's life (life.c, helper.c, orphan.c, threads.c, signals.c,
 * exec.c, creds.c, pause.c, pyexit.c, state.c, statelife.c), the API
 * (api.c), and the leak check's runs (leakrun.c, lsan.c, elfsym.c),
 * which compose the leak room with the tables and the writer.  It stands
 * on every other room's door, included here; only shim/attach stands on
 * it.  Prefixes: hook_ (hooks.c, hookstack.c, realsym.c), maph_, dom_
 * (domain.c), life_ (life.c alone), helper_ (helper.c), orph_, sig_,
 * pause_, pyexit_, pytrack_, term_, state_ (state.c, statelife.c), lchk_
 * (leakrun.c), lsan_ and __lsan_*, elfsym_, heapsnap_* (api.c); besides
 * the libc names interposed (threads.c, exec.c, creds.c, ...).  The lock
 * order below is every room's.
 */
#ifndef HEAPSNAP_ROOT_H
#define HEAPSNAP_ROOT_H

/*
 * Lock order.  Every lock the shim takes, in the one order in which they
 * may be nested (fork's prepare handler takes them all in this order, and
 * nobody takes two of them in another):
 *
 *   1. snap         snapshot.c: one snapshot or leak check (leakrun.c)
 *                   at a time (and the API's root/ignore lists)
 *   2. loader gate  base/loader.c: loader_enter/leave around every call that
 *                   takes glibc's loader lock (dl_iterate_phdr, libunwind,
 *                   dlsym); fork closes it and waits for those inside
 *   2a. pycode      python/code.c: the Python code table, and native.c's
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
 *   7. timeline     record/timeline.c
 *   8. siteline     siteline.c: the per-site points (taken alone, or
 *                   after snap by the writer)
 *   9. threads      leak/stop.c: the registry (the leak check, after the
 *                   arena; fork's child resets it)
 *  10. arena maps   arena.c: a mapping's system call and its listing as one
 *                   step (arena_maps_hold: fork, the leak check's stop and
 *                   its read of /proc/self/maps)
 *  11. pydomain     python/pydomain.c: tracemalloc's domains (taken alone:
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
#include "hsnap_format.h"
#include "leak.h"
#include "python.h"
#include "record.h"
#include "snapshot.h"
#include "unwind.h"

/* ---- hooks.c ---- */
void hook_init(void);           /* resolve the real functions (idempotent) */
void *hook_real_sym(const char *name); /* realsym.c: the next definition of name, past the shim */
extern uintptr_t hook_loader_lo, hook_loader_hi; /* attach build: the loader's text */
void hook_set_active(int on);   /* start / stop recording */
int hook_is_active(void);
void hook_books_close(void);  /* no snapshot any more: free forwards (life_exit_early) */
struct unwind_origin;
void hook_adopt(void *p, size_t n, const struct unwind_origin *origin); /* shim/python */
/* shim/python (py_reborn_arm's host): block p, which a CPython free list
 * handed out again as a new object, charged to the stack at origin if it
 * is on the books; entered with the guard clear. */
void hook_reborn(uintptr_t p, const struct unwind_origin *origin);
void hook_reborn_near(uintptr_t p, uintptr_t fresh, const struct unwind_origin *origin);
/* A call returned NULL for n bytes asked: its site counts a failed
 * allocation (FAILED); guard_on set, no lock held; keeps errno. */
void hook_fail(uint64_t n, const struct unwind_origin *origin);
/* hookstack.c, guard_on set, no lock held: the trace of the stack at
 * origin, at most max frames, or UNWIND_NO_NAME (out of memory);
 * hook_stack when unwind_again named no stack (again: its answer). */
uint32_t hook_site(const struct unwind_origin *origin, unsigned max);
uint32_t hook_stack(const struct unwind_origin *origin, uint32_t again, unsigned max);
/* maphooks.c, with guard_on set by a caller that found it clear: the
 * trace (not yet the mmap kind's) of a mapping of n bytes made at origin,
 * sampled as a block is (the countdown moves), or UNWIND_NO_NAME: not
 * recorded (not recording, not sampled, out of memory); failed: a
 * failure's, which is never sampled. */
uint32_t hook_map_site(size_t n, const struct unwind_origin *origin, int failed);
/* Bytes to this thread's next sample: above 0 only in sampled mode
 * without HEAPSNAP_LEAKS (hooks.c says more); domain.c's fast path reads it. */
/* hook_countdown (base.h's hs_hot) */
int64_t hook_countdown_get(void); /* shim/python: the sampled countdown, kept */
void hook_countdown_set(int64_t v); /* across a domain's own call */

/* The way out of a hook that kept the books (entered with the guard
 * clear): the guard left, then the thread cleared of the addresses the
 * books went through, which the leak check would take for the program's
 * (scrub.c).  Last, just before the return to the program.  A hook that
 * made a block (or a mapping) clears its dead frames below it and the
 * registers, as deep as its work said (hook_scrub_need: 0 when it only
 * passed the call on, as sampled mode's careful path mostly does;
 * hook_booked, or how deep hook_stack went), once; a hook that freed one,
 * the registers alone: its frames hold addresses that are free by then,
 * as the allocator's own free leaves them.  The windows cover the paths'
 * depths, painted and measured, with room to spare: a window past a
 * path's depth costs stores, one short of it leaves words
 * (tests/shim/leak/leftover.c). */
#define HOOK_SCRUB_STACK 768 /* the path that names a stack it has seen */
#define HOOK_SCRUB_CAREFUL 896 /* ... malloc's, past its one frame (hook_malloc_other) */
/* hook_scrub_need (base.h's hs_hot) */
static inline void hook_booked(void) /* the table, or a walk named before */
{
    if (HS_LIKELY(hook_scrub_need < HOOK_SCRUB_STACK)) /* 0 from the last scrub */
        hook_scrub_need = HOOK_SCRUB_STACK;
}
static inline void hook_leave(void)
{
    size_t n = hook_scrub_need;
    guard_leave(0);
    if (n) {
        hook_scrub_need = 0;
        scrub_frames(n);
    }
}
/* hook_leave for malloc's tracked path, where the books were almost always
 * kept: no test of the need (a 0 scrubs the registers alone), and the
 * hook's return: return hook_leave_booked(p), a tail call that clears the
 * hook's own dead frame too (its one frame holds the block's address). */
static inline void *hook_leave_booked(void *p)
{
    size_t n = hook_scrub_need;
    guard_leave(0);
    hook_scrub_need = 0;
    return scrub_frames_ret(n, p);
}
/* The same for malloc's plain recording (hook_record_plain_at with
 * book 0), which books here: its walk and insert always come, and an or
 * costs less than hook_booked's test and store.  A need a deeper path
 * set (hook_stack) is kept, or'ed a little wider. */
static inline void *hook_leave_plain(void *p)
{
    size_t n = hook_scrub_need | HOOK_SCRUB_STACK;
    guard_leave(0);
    hook_scrub_need = 0;
    return scrub_frames_ret(n, p);
}
static inline void hook_leave_free(void)
{
    guard_leave(0);
    scrub_regs();
}

/* ---- hookrecord.c: the recording's modes, a kept block's slow path ---- */
extern struct hook_modes {
    unsigned depth;     /* HEAPSNAP_DEPTH, cached for the slow path */
    int started;        /* options read, sampling set up (once) */
    int sample;         /* HEAPSNAP_SAMPLE is on */
    int all_blocks;     /* ... with HEAPSNAP_LEAKS: unsampled blocks enter too */
    uint32_t unsampled; /* their trace id */
} hook_mode;
void hook_modes_start(void (*real_free)(void *)); /* hook_set_active's first start */
void hook_filter_enable(void); /* tbl_filter_enable, and free's test of the filter's groups */
/* A block the hooks keep, with guard_on set; keeps errno.  The origin's
 * words by value (hookrecord.c says why), or from a struct. */
void hook_record_at(void *p, size_t n, uintptr_t ra, uintptr_t cfa, uintptr_t rbp);
/* ... its plain path (hook_plain() said 1), inlined into malloc's one frame;
 * book 0: the caller books its scrub on the way out (hook_leave_plain) */
void hook_record_plain_at(void *p, size_t n, uintptr_t ra, uintptr_t cfa, uintptr_t rbp,
                          int book);
static inline void hook_record(void *p, size_t n, const struct unwind_origin *origin)
{
    hook_record_at(p, n, origin->ra, origin->cfa, origin->rbp);
}
int hook_skip_sampled(size_t n); /* sampled mode: 1 when n's block is not kept */
int64_t *hook_countdown_at(void); /* the countdown the careful path moves */
/* orphan.c's MADV_WIPEONFORK page: its first word is HS_FORK_MARK, 0 in
 * a child no fork handler reached (and before orph_init, or between a
 * fork and its child handler) */
extern uint64_t orph_page[4096 / sizeof(uint64_t)];
/* hs_rare, this thread's rare_mine (base.h) and the fork mark (orphan.c):
 * no rarer mode is on, the thread's own queue and lines are set, and the
 * process is not a child no fork handler reached (base_unforked), for the
 * hooks' plain paths. */
static inline int hook_plain(void)
{
    return HS_LIKELY((atomic_load_explicit(&hs_rare, memory_order_relaxed) | hs_hot.rare_mine |
                      orph_page[0]) == (HS_MINE_PLAIN | HS_FORK_MARK));
}

/* ---- maphooks.c: the interposed mmap family ---- */
void maph_init(void); /* at start-up, outside any hook; until then nothing is tracked */

/* ---- the unwinders (shim/unwind/unwind.h), as the hooks start them ---- */
void hook_unwind_init(void);       /* HEAPSNAP_UNWIND's backend, with the shim as host */

/* ---- domain.c: CPython's allocator domains, wrapped (python.h is the room's door) ---- */
/* Nonzero while CPython was found but its domains are not wrapped yet. */
extern int dom_waiting;
/* Nonzero once Python code allocated since this process was forked. */
extern int dom_ran;

/* From the constructor (guard set): find CPython's symbols; reads
 * HEAPSNAP_PYTHON.  Costs nothing more in a process without CPython. */
void dom_init(void);

/* From a recording hook (guard set), while dom_waiting: wraps the domains
 * when the interpreter is initialized and this thread holds the GIL. */
void dom_poll(void);
int dom_detach(void);   /* shim/attach: the domains unwrapped under the GIL (pending call) */
void dom_close(void);   /* ... at once, the GIL held: Python's exit snapshot is written */
void dom_reattach(void); /* ... and wrapped again at the next attach */
void dom_kick(void);     /* ... the wrap asked of the interpreter (a pending call) */
/* preseed.c: dom_poll's, the domains just wrapped (GIL held, guard set):
 * the dead objects on the free lists booked as blocks (lookup: dlsym's) */
void dom_seed(void *(*lookup)(const char *));
/* ... and again at the end of a stretch run with the thread's recording
 * off (GIL held, guard set): the dead objects it left on the free lists. */
void dom_seed_again(void);

/* The leak check (world stopped): the live block at p (size bytes) is an
 * object CPython keeps for good (3.12 on: an immortal str, which an
 * interned string becomes and finalization forgets without freeing). */
int dom_immortal(uintptr_t p, uint64_t size);

/* pyexit.c: CPython's atexit runs the exit snapshot (domain.c's calls) */
void pyexit_find(void *(*lookup)(const char *));
void pyexit_arm(void);
void pytrack_arm(void *(*lookup)(const char *)); /* pytrack.c: the domains wrapped */
/* term.c: SIGTERM's default, a snapshot first in a Python process */
struct sigaction;
int term_sigaction(int s, const struct sigaction *act, struct sigaction *old, int *r);
int term_hold(void);          /* life_atexit: SIGTERM waits for the exit snapshot */
void term_release(int held);  /* ... and then ends the process, if it came */
void life_exit_early(void); /* life.c: the exit snapshot now (pyexit.c) */
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

/* ---- lsan.c: LeakSanitizer's interface ---- */
/* lsan_disabled (base.h's hs_hot): __lsan_disable nesting on this thread */
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
void life_adopt(void); /* orphan.c: a clone child's locks taken back */
int life_attach(const char *conf);  /* shim/attach: start now; 0, or -1 */
void life_detach(void);             /* shim/attach: stop for good */

/* ---- orphan.c: clone children that no fork handler reached ---- */
void orph_init(void);   /* start-up */
/* orph_page (above, for hook_plain): the MADV_WIPEONFORK page */
void orph_forked(void); /* fork's child handler */
int orph_foreign(void); /* such a child (its tables may be half changed) */
int orph_stop(void);    /* such a child: recording stops (1), before a new walk */
/* exec.c: before an exec of path (NULL: a search of PATH, or by fd),
 * and after one that failed (errno kept) */
void life_before_exec(const char *path);
void life_after_exec(void);

/* ---- helper.c: the helper thread (HEAPSNAP_SIGNAL, intervals, heartbeat) ---- */
void helper_init(void);   /* start-up and attach: the signal's handler, the thread */
void helper_tick(void);   /* life_tick: a fork child's helper starts */
void helper_after_fork_child(void);
void helper_wake(void);   /* a running helper wakes now */
int helper_signal_owed(void); /* a HEAPSNAP_SIGNAL not taken yet (taken now) */
void helper_reattach(void);   /* an attach after a detach */
void helper_stop(void);       /* heapsnap detach: joined, never again */
/* creds.c, around a set*id call: the helper thread stopped and joined (1:
 * it was running), then started again. */
int helper_pause(void);
void helper_resume(void);

/* ---- state.c: the state file (hsnap_state.h) ---- */
void state_init(void);            /* start-up, before recording */
int state_on(void);
const char *state_path(void);     /* NULL: none */
void *state_cells(unsigned line, unsigned chunk); /* zeroed cells in the file, or NULL */
void state_cells_drop(const void *c); /* ... not kept by the caller */
uint64_t state_due(void);         /* the helper's next heartbeat; 0: none */
void state_beat(void);            /* the helper: heartbeat, and a document */
void state_done(void);            /* a clean end: the file goes */
void state_reattach(void);        /* an attach after a detach: the file again */
int state_late(int again);        /* live asks a session without one: 0 once it has it */
int state_yield(void);            /* a full disk at the end: the helper's blocks back; 0 or -1 */
void state_exec(const char *path); /* the image is about to be replaced */
int state_exec_failed(void);       /* ... and was not: 1, the helper must be woken */
void state_after_fork_child(void);
int state_owner(uid_t uid);       /* the file given to uid (a change of ids): 0, or -1 */
uint64_t state_used(void);        /* bytes of the file in use */
void state_put(struct sbuf *b);   /* the snapshot's STATE section */

#endif
