/*
 * leak.h - the door of the leak check (the reference model, run inside the
 * profiled process): what the recorder may ask it, and what it needs from
 * the recorder in return.
 *
 * The recorder (shim/) introduces itself once (collect_init with a
 * leak_host: its memory, warnings, loader guard, locks and traces) and
 * then asks one question per check: collect_check stops the world, calls
 * back for the live blocks (sorted by address, copied while nothing
 * moves), classifies them in place and answers with the encoded LEAKS,
 * RETAINERS and HOLDERS payloads; collect_check_fork asks the same of a fork of the
 * process, which hands its answer to the recorder's report callback.
 * Nothing here calls into shim/ but through the host: the room sits below
 * the recorder, never beside it in a circle.  The glue that drives it
 * from a snapshot (lchk_, lsan_, elfsym_) is the root's.  The
 * thread registry the stop needs is here too (stop_*), fed by shim/'s
 * pthread_create hook.
 */
#ifndef HEAPSNAP_LEAK_H
#define HEAPSNAP_LEAK_H

#include <stddef.h>
#include <sys/types.h>
#include <stdint.h>

#include "hsnap_format.h"

struct heapsnap_ref;
struct sigaction;

/* What the check needs from the recorder; every member is required. */
struct leak_host {
    void *(*map)(size_t n);                 /* zeroed whole pages, or NULL */
    void (*unmap)(void *p, size_t n);       /* n as given to map; NULL p: nothing */
    /* map's p of old bytes grown to n, its pages moved, not copied; NULL:
     * out of memory, p kept */
    void *(*remap)(void *p, size_t old, size_t n);
    /* [p, p + n) of a map made resident at once, for what is written whole
     * next (one system call, not a fault a page) */
    void (*populate)(void *p, size_t n);
    void (*warn)(const char *a, const char *b, const char *c);  /* capped */
    void (*debug)(const char *a, const char *b, const char *c); /* HEAPSNAP_VERBOSE */
    void (*loader_enter)(void);             /* around dlsym, dl_iterate_phdr, */
    void (*loader_leave)(void);             /* libunwind (fork-safe guard) */
    void (*lock_all)(void);   /* the recorder's locks taken: no thread is inside them */
    void (*unlock_all)(void);
    /* the real sigaction (the recorder watches the program's own calls) */
    int (*sigaction)(int sig, const struct sigaction *act, struct sigaction *old);
    void (*trace_lock)(void);
    void (*trace_unlock)(void);
    uint32_t (*trace_count)(void);
    /* With the trace lock held: trace id's first max frames (innermost
     * first) copied to ip; its depth (traces.c's trace_stack) */
    unsigned (*trace_stack)(uint32_t id, uintptr_t *ip, unsigned max, unsigned *flags);
    /* The block at addr (size bytes, live, the world stopped) is the
     * runtime's for good (a CPython immortal object): ignored, a root.
     * NULL: none are. */
    int (*runtime_owned)(uintptr_t addr, uint64_t size);
    /* Each range [lo, hi) of live memory whose words look like references
     * and are none (a CPython free list's dead list, which still points at
     * the item array it freed) to fn, the world stopped: the scan reads
     * around them (maps_holes).  NULL: none. */
    void (*stale_words)(void (*fn)(uintptr_t lo, uintptr_t hi, void *arg), void *arg);
    /* Where each block of b[0, n) (sorted, the world stopped) that holds
     * a Python object has the object, into its reserved field (0: its
     * start): a reference to it there is a start reference, as one to a
     * block's first byte.  NULL: none. */
    void (*object_starts)(struct hsnap_block *b, uint64_t n);
    /* Whether the trace ip[0, n) (innermost first) is a C extension's
     * initialisation making a block in its own code (more: the trace
     * has frames past n, which -1 asks to be shown); and whether the
     * block at addr holds an object with references counted (live, the
     * world stopped): such a block no pointer reaches is the runtime's
     * (collect_mark_init).  NULL: none is. */
    int (*init_trace)(const uintptr_t *ip, unsigned n, int more);
    int (*init_object)(uintptr_t addr, uint64_t size);
    /* After those are marked: the direct blocks they stand for (made by
     * such an initialisation: init(trace, arg) says whose) that got
     * memory the interpreter recycled (a free list's, whose trace is its
     * first life's) marked too; how many. */
    uint64_t (*init_held)(struct hsnap_block *b, uint64_t n, int (*init)(uint32_t, void *),
                          void *arg);
    /* Each of the recorder's own mappings to fn (no lock: the world may
     * be stopped); -1 when some are not listed (arena.c's arena_each_map) */
    int (*own_maps)(void (*fn)(uintptr_t lo, uintptr_t hi, void *arg), void *arg);
    /* Around a read of /proc/self/maps that own_maps must agree with: none
     * of the recorder's mappings is made, moved or removed meanwhile (its
     * helper thread runs on while the world is stopped). */
    void (*own_maps_hold)(void);
    void (*own_maps_release)(void);
    /* Before a check stops the world: what init_trace will read looked up
     * (it may take the recorder's Python locks).  NULL: nothing. */
    void (*init_prepare)(void);
};

/* The live blocks, sorted by address, into *b (n of them) while the world
 * is stopped; 0, or -1.  The array stays the caller's. */
typedef int (*leak_blocks_fn)(void *ctx, struct hsnap_block **b, uint64_t *n);

/* One check's answer: the blocks' classes and refcounts are in the array
 * the callback gave; the payloads are mappings of host->map (len bytes
 * used, cap mapped), the caller's to unmap; NULL when not built. */
struct leak_answer {
    void *leaks, *retainers, *holders;
    size_t leaks_len, leaks_cap, ret_len, ret_cap, hold_len, hold_cap;
    int64_t unreachable; /* direct + indirect + cycle blocks */
};

/* In the fork of collect_check_fork, after the model: the classified
 * blocks (sorted) and the answer, put where the caller's process will find
 * them (a file descriptor it opened, a shared mapping it made); 0, or -1.
 * It runs in a copy of the process whose only thread is the caller's: no
 * malloc, no stdio, no lock another thread could have held. */
typedef int (*leak_report_fn)(void *ctx, const struct hsnap_block *b, uint64_t n,
                              const struct leak_answer *a);

/* ---- collect.c: the check and the queries (callers serialise them and
 * set the re-entry guard) ---- */
void collect_init(const struct leak_host *h); /* once, before any other call */
/* The tid of the glibc thread whose stack is [lo, hi), 0 when unknown;
 * -1: no thread stack; STOP_STACK_SHIM: a thread of the shim's own, whose
 * stack is no root (foreign.c; the roots' names, pyroots.c). */
#define STOP_STACK_SHIM (-2)
int stop_stack_tid(uintptr_t lo, uintptr_t hi);
/* keptregs.c: the general registers of thread tid as the last stop found
 * them, while it still waits where it was stopped (its stack pointer sp
 * and pc now, read from /proc/self/task/TID/syscall): *n words, or NULL;
 * stop_kept_drop forgets them (the Python pass heard them). */
const uintptr_t *stop_kept_regs(int tid, uintptr_t sp, uintptr_t pc, size_t *n);
/* The stack pointer (and *pc) the last stop kept for thread tid, 0 when none. */
uintptr_t stop_kept_sp(int tid, uintptr_t *pc);
/* 1 while the last stop's budget for waiting on its threads to settle back
 * where they were stopped (KR_SETTLE_MS, all threads together) lasts: a
 * millisecond of it taken; else 0. */
int stop_kept_settle(void);
void stop_kept_drop(void);
/* Roots, the stop, blocks(ctx), the model, the resume: 0, or -1 (warned;
 * nothing in *a to release), or COLLECT_UNSTOPPED: a thread could not be
 * stopped, and a scan in place would read memory it is changing (nothing
 * done, blocks() not called: the caller runs collect_check_fork, or no
 * check).  *a's payloads need a->leaks_len != 0. */
#define COLLECT_UNSTOPPED 2
int collect_check(leak_blocks_fn blocks, void *ctx, struct leak_answer *a);
/* In the parent of collect_check_fork, once the child runs and the world
 * is resumed, before the wait for its answer: work of the caller's that
 * needs no answer of the check, done while the child scans. */
typedef void (*leak_meanwhile_fn)(void *ctx);
/* The same check on a fork of the process (fork.c): the world is stopped
 * only until the fork, blocks(ctx) and report(ctx) run in the child, and
 * meanwhile(ctx) (when not NULL) in the parent as it runs.  0 (the child
 * reported), -1 (warned; the check failed), or COLLECT_NOFORK (no fork
 * could be made: the caller runs collect_check instead; meanwhile not
 * called). */
#define COLLECT_NOFORK 1
int collect_check_fork(leak_blocks_fn blocks, leak_report_fn report, leak_meanwhile_fn meanwhile,
                       void *ctx);
void collect_target(const void *p); /* the next collect_query's target */
/* The referrers (referents = 0) or referents of the target's block, at
 * most max into out; how many there are, or -1 (not a live block). */
long collect_query(leak_blocks_fn blocks, void *ctx, int referents, struct heapsnap_ref *out,
                   size_t max);
/* heapsnap_ignore: the block at p, with its trace and epoch (a later block
 * at the same address is not ignored); 0, or -1 out of memory. */
int collect_ignore(uintptr_t p, uint32_t trace, uint32_t epoch);

/* Where the program's frames end on this thread: the CFA of the shim's
 * entry point (COLLECT_ENTRY, in the entry points that can run the check:
 * the API, the atexit handler); 0 where none is active.  The calling
 * thread's stack is scanned from there, so the shim's own frames, which
 * hold block addresses, are never roots. */
extern __thread uintptr_t collect_entry_sp;
/* The shim is built with frame pointers: its frame address + 16 is its
 * CFA, the program's stack pointer at the call.  The outermost entry on a
 * thread sets the mark; COLLECT_LEAVE, before it returns, clears it, and
 * the thread of the addresses the check read: COLLECT_SCRUB bytes of its
 * dead frames (no more than a check or a snapshot uses) and the
 * registers (scrub.c). */
#define COLLECT_SCRUB 8192
#define COLLECT_ENTRY()                                                              \
    const int collect_outer_ = !collect_entry_sp;                                    \
    if (collect_outer_)                                                              \
        collect_entry_sp = (uintptr_t)__builtin_frame_address(0) + 2 * sizeof(void *)
#define COLLECT_LEAVE()                                                              \
    do {                                                                             \
        if (collect_outer_)                                                          \
            collect_entry_sp = 0, collect_entry_exit = 0;                            \
        scrub_frames(COLLECT_SCRUB);                                                 \
    } while (0)
/* The entry of the exit-time check (an atexit handler): the program's
 * frames end where exit() was called, not at the handler.  exit()'s own
 * frames below that point hold what the dead frames of main (or of the
 * function that called exit) left there: they are not roots, as in
 * LeakSanitizer.  Without an exit() frame above the mark (_exit), the
 * mark is used. */
extern __thread int collect_entry_exit;
#define COLLECT_ENTRY_EXIT()                                                         \
    COLLECT_ENTRY();                                                                 \
    if (collect_outer_)                                                              \
        collect_entry_exit = 1

/* ---- roots.c: the program's own roots (their own lock) ---- */
int roots_register(const void *p, size_t len); /* 0, or -1 (bad range, full, no memory) */
/* The range registered at p (and of len bytes, unless len is 0): 0, or -1
 * (not registered). */
int roots_unregister(const void *p, size_t len);
void roots_set_mapped(int on); /* start-up: the program's mappings are roots (1) */
void roots_user_lock(void);    /* the fork handlers: after the snapshot lock */
void roots_user_unlock(void);

/* ---- stop.c: the registry of threads the check stops and scans ---- */
struct stop_slot;
/* At pthread_create: a slot for the thread-to-be (arg is scanned as a root
 * until it runs); NULL when full (warned). */
struct stop_slot *stop_claim(void *(*start)(void *), void *arg);
void stop_unclaim(struct stop_slot *s);       /* the thread was not created */
/* On the new thread: its start routine and argument, then it is live with
 * stack [lo, hi). */
void stop_attach(struct stop_slot *s, uintptr_t lo, uintptr_t hi, void *(**start)(void *),
                 void **arg);
/* A thread the shim started for itself (its pthread_create binds to
 * libc's, past the hook): never stopped, never scanned, never taken for a
 * foreign one. */
void stop_own_thread(uintptr_t t); /* its pthread_t: creator, then itself; 0: joined */
void stop_aux_thread(pid_t tid);   /* shim/attach's control thread, from itself; 0: ended */
void stop_release_signal(void);    /* detach: the stop signal's default back */
/* Its start routine is over: its DTV block (or 0).  The slot stays live
 * (stopped, scanned) through the TLS destructors, until the thread is gone. */
uintptr_t stop_detach(struct stop_slot *s);
/* Start-up, on the main thread: the stop signal (0: never stop) and the
 * main stack; dlsym inside (the re-entry guard set). */
void stop_init(int sig, uintptr_t lo, uintptr_t hi);
int stop_can_hold(void);  /* a stop signal: an in-place check holds the threads */
void stop_after_fork_child(void);
void task_bounds(uintptr_t *lo, uintptr_t *hi); /* tasks.c: this thread's stack (may allocate) */

/* ---- results.c: ended, unjoined threads' return values (roots) ---- */
void result_keep(uintptr_t thread, uintptr_t val); /* a joinable thread ended with val */
void result_drop(uintptr_t thread); /* joined or detached: its value is no root */

#endif
