/*
 * hooks.h - the door of the hooks room (shim/hooks/): the interposed
 * malloc family (hooks.c), what a kept block takes (hookrecord.c: the
 * recording's modes, the slow path), its stack (hookstack.c: the
 * unwinder started with the shim as host, an origin turned into a trace),
 * the interposed mmap family (maphooks.c) and the real functions behind
 * them (realsym.c).  One malloc runs downhill from here: into the record,
 * unwind, python and snapshot rooms' doors, never above.  What they need from
 * above (the start of a process whose first allocation came before the
 * constructor, the tick every 64 allocations, CPython's wrapping, a clone
 * child's stop) comes through struct hook_host, which the root fills; the
 * fast paths call nothing through it.  Prefixes: hook_, maph_.  The lock
 * order is the root's (root.h).
 */
#ifndef HEAPSNAP_HOOKS_H
#define HEAPSNAP_HOOKS_H

#include <stddef.h>
#include <stdint.h>

#include "base.h"
#include "record.h"
#include "snapshot.h"
#include "unwind.h"

/* ---- the host: what the hooks ask of the rooms above, never on a fast path ---- */
struct hook_host {
    /* An allocation before the constructor (guard clear): start now; 1
     * when recording (the root's life_start_early). */
    int (*start_early)(void);
    void (*tick)(void);          /* every 64 tracked allocations, guard set */
    /* While hook_py_waiting: from a recording hook (guard set), wraps
     * CPython's domains once the interpreter runs and this thread holds
     * the GIL (dom_poll). */
    void (*py_poll)(void);
    /* Before a new walk: 1 when this is a clone child no fork handler
     * reached, whose recording has just stopped (no walk is made). */
    int (*orphan_stop)(void);
};
/* The root's host.  The first allocation can come before any constructor
 * of the shim's (another library's, such as libstdc++'s emergency pool),
 * so it is not set by a call: the root puts a pointer to its host in the
 * section hs_hook_host (HOOK_HOST_PLACE), which the loader's relocations
 * fill before any code runs, and the hooks read it there (hook_up); the
 * hooks name no symbol of the root's. */
#define HOOK_HOST_PLACE(host)                                                                 \
    __attribute__((section("hs_hook_host"), used)) static const struct hook_host *const       \
        hook_host_placed = &(host)
extern const struct hook_host *const __start_hs_hook_host[];
static inline const struct hook_host *hook_up(void)
{
    return __start_hs_hook_host[0];
}

/* The fork mark's page, the hooks' plain test's word (hook_plain): its
 * first word is HS_FORK_MARK, 0 in a child no fork handler reached (and
 * before the root's orphan start, or between a fork and its child
 * handler).  Page-aligned in .bss, so that MADV_WIPEONFORK can take it;
 * the root's orphan code marks and advises it. */
extern uint64_t hook_fork_page[4096 / sizeof(uint64_t)];

/* Nonzero while CPython was found but its domains are not wrapped yet:
 * the root's domain code sets and clears it, and a recording hook's
 * careful path, finding it set, calls the host's py_poll.  The hooks' word,
 * so that the test is one load, as when the root owned it. */
extern int hook_py_waiting;

/* ---- hooks.c: the interposed malloc family ---- */
void hook_init(void);           /* resolve the real functions (idempotent) */
void *hook_real_sym(const char *name); /* realsym.c: the next definition of name, past the shim */
extern uintptr_t hook_loader_lo, hook_loader_hi; /* attach build: the loader's text */
void hook_set_active(int on);   /* start / stop recording */
int hook_is_active(void);
void hook_books_close(void);  /* no snapshot any more: free forwards (life_exit_early) */
struct unwind_origin;
void hook_adopt(void *p, size_t n, const struct unwind_origin *origin); /* shim/python */
/* shim/python (pyw_reborn_arm's host): block p, which a CPython free list
 * handed out again as a new object, charged to the stack at origin if it
 * is on the books; entered with the guard clear. */
void hook_reborn(uintptr_t p, const struct unwind_origin *origin);
/* shim/python (pyw_tml_arm's host): block p moved from trace from to
 * trace to, if it is still on the books at from; guard set; 1: moved. */
int hook_recharge(uintptr_t p, uint32_t from, uint32_t to);
/* A call returned NULL for n bytes asked: its site counts a failed
 * allocation (FAILED); guard_on set, no lock held; keeps errno. */
void hook_fail(uint64_t n, const struct unwind_origin *origin);
/* hookstack.c, guard_on set, no lock held: the trace of the stack at
 * origin, at most max frames, or UNWIND_NO_NAME (out of memory);
 * hook_stack when unwind_again named no stack (again: its answer). */
uint32_t hook_site(const struct unwind_origin *origin, unsigned max);
uint32_t hook_stack(const struct unwind_origin *origin, uint32_t again, unsigned max);
/* HEAPSNAP_PYTHON_NATIVE=caller with the domains wrapped (HS_RARE_PYCALLER):
 * hook_stack_caller records a thread that runs Python code without a
 * native walk; 1 and *id (UNWIND_NO_NAME: out of memory), or 0: walk. */
static inline int hook_py_caller(void)
{
    return (atomic_load_explicit(&hs_rare, memory_order_relaxed) & HS_RARE_PYCALLER) != 0;
}
int hook_stack_caller(const struct unwind_origin *origin, unsigned max, uint32_t *id);
/* maphooks.c, with guard_on set by a caller that found it clear: the
 * trace (not yet the mmap kind's) of a mapping of n bytes made at origin,
 * sampled as a block is (the countdown moves), or UNWIND_NO_NAME: not
 * recorded (not recording, not sampled, out of memory); failed: a
 * failure's, which is never sampled. */
uint32_t hook_map_site(size_t n, const struct unwind_origin *origin, int failed);
/* Bytes to this thread's next sample: above 0 only in sampled mode
 * without HEAPSNAP_LEAKS (hooks.c says more); py_malloc's fast path reads it. */
/* hook_countdown (hs_hot) */
int64_t hook_countdown_get(void); /* shim/python: the sampled countdown, kept */
void hook_countdown_set(int64_t v); /* across a domain's own call */

/* The way out of a hook that kept the books (entered with the guard
 * clear): the guard left, then the thread cleared of the addresses the
 * books went through, which the leak check would take for the program's
 * (scrub_use).  Last, just before the return to the program.  A hook that
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
/* ... and a tracked allocation's tick (hookrecord.c, every 64th: the host's
 * tick, a timeline point when its step has passed, the unwinder's unload
 * check), which runs past those two: on a loaded machine, where a step
 * passes more often, a native thread's mallocs left words past 896 bytes
 * (test_leak_leftovers' _native, one run in six or ten) */
#define HOOK_SCRUB_TICK 2048
/* ... and a repeat whose memo's compare list was made on the way
 * (unwind_host.deep, cfi_memo_list), which ran past 896 bytes: a native
 * thread's first repeats of stacks without frame pointers in a Python
 * process left a return address ~1 KiB below (test_leak_leftovers' _native) */
#define HOOK_SCRUB_LIST 2048
/* hook_scrub_need (hs_hot) raised to n at least: a path ran n bytes deep */
static inline void hook_book(size_t n)
{
    if (hook_scrub_need < n)
        hook_scrub_need = n;
}
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
/* ... its fresh variant (hook_plain_fresh() said 1), inlined into the one
 * frame of malloc's and calloc's fresh paths; books the scrub as hook_booked */
void hook_record_fresh_at(void *p, size_t n, uintptr_t ra, uintptr_t cfa, uintptr_t rbp);
static inline void hook_record(void *p, size_t n, const struct unwind_origin *origin)
{
    hook_record_at(p, n, origin->ra, origin->cfa, origin->rbp);
}
int hook_skip_sampled(size_t n); /* sampled mode: 1 when n's block is not kept */
int64_t *hook_countdown_at(void); /* the countdown the careful path moves */
/* hs_rare, this thread's rare_mine (base.h) and the fork mark (hook_fork_page):
 * no rarer mode is on, the thread's own queue and lines are set, and the
 * process is not a child no fork handler reached (base_unforked), for the
 * hooks' plain paths; mine: rare_mine, or the part of it a path tests. */
static inline int hook_plain_of(uint64_t mine)
{
    return HS_LIKELY((atomic_load_explicit(&hs_rare, memory_order_relaxed) | mine |
                      hook_fork_page[0]) == (HS_MINE_PLAIN | HS_FORK_MARK));
}
static inline int hook_plain(void)
{
    return hook_plain_of(hs_hot.rare_mine);
}
/* ... but for the thread's fresh blocks, which are on (pend_fresh_on: its
 * byte, HS_MINE_FRESH, shares its bits with HS_RARE_*'s, so is tested
 * apart): the plain recording's fresh variant (hook_record_fresh_at), where
 * the frees of most programs (young: pend_hold) leave them. */
static inline int hook_plain_fresh(void)
{
    return pend_fresh_on && hook_plain_of(hs_hot.rare_mine & ~(uint64_t)HS_MINE_FRESH);
}

/* ---- maphooks.c: the interposed mmap family ---- */
void maph_init(void); /* at start-up, outside any hook; until then nothing is tracked */

/* ---- the unwinders (shim/unwind/unwind.h), as the hooks start them ---- */
void hook_unwind_init(void);       /* HEAPSNAP_UNWIND's backend, with the shim as host */

#endif
