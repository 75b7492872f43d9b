/*
 * hookrecord.c - what the hooks keep of a block: the recording's modes
 * (HEAPSNAP_DEPTH, sampled mode, every block with HEAPSNAP_LEAKS, set
 * once by hook_modes_start) and the slow path a block takes once a hook
 * has decided to keep it: unwind first (no lock held), then intern, insert
 * and charge (hook_record), behind one test of every rarer mode
 * (hook_plain, hooks.h); a failure's site (hook_fail), a CPython domain's
 * block (hook_adopt), sampled mode's careful countdown.  hooks.c's fast
 * paths reach it only out of line; it calls no real function.
 */
#include <errno.h>

#include "hooks.h"

#define HOOK_TICK_EVERY 63 /* the host's tick every 64 tracked allocations (63 to -1) */

struct hook_modes hook_mode; /* hooks.h */
int hook_py_waiting;          /* hooks.h */

/* hook_ticks (hs_hot) */
/* hook_countdown (hs_hot): sampled mode's bytes to the next
 * sample, the one word the hooks' fast paths test (hook_pass). */
/* The countdown of sampled mode with HEAPSNAP_LEAKS, where every block
 * enters the table: the careful path's alone (hook_cd). */
static __thread int64_t hook_countdown_all;

/* The countdown the careful path moves (hook_countdown_all says why two). */
static inline int64_t *hook_cd(void)
{
    return hook_mode.all_blocks ? &hook_countdown_all : &hook_countdown;
}

/* hooks.h */
int64_t *hook_countdown_at(void)
{
    return hook_cd();
}

/* hooks.h: hook_set_active's first start, options read. */
void hook_modes_start(void (*real_free)(void *))
{
    hook_mode.started = 1;
    sample_init();
    hook_mode.sample = sample_interval() != 0;
    hs_rare_mark(HS_RARE_SAMPLE, hook_mode.sample);
    hook_mode.all_blocks = hook_mode.sample && opt_int(OPT_LEAKS);
    if (hook_mode.all_blocks && trace_intern_unsampled(&hook_mode.unsampled) != 0)
        hook_mode.all_blocks = 0;
    pend_init(real_free, hook_mode.sample);
    if (hook_mode.sample && !hook_mode.all_blocks)
        hook_filter_enable();
}

/* A block was born: kept fresh (pend_keep) or inserted, and charged
 * (hook_record's: inlined there).  plain: hs_rare was 0. */
static inline __attribute__((always_inline)) void hook_insert(void *p, size_t n, uint32_t id,
                                                              const struct tbl_where *w, int plain,
                                                              int fresh)
{
    struct tbl_entry old;
    uint32_t epoch = snap_epoch();
    int r = !((!plain || fresh) && pend_fresh_on) ? -1
            : fresh ? pend_keep_fresh((uintptr_t)p, n, id, epoch) /* hook_plain_fresh's */
                    : pend_keep((uintptr_t)p, n, id, epoch);
    if (r != 0 && (r = !w->stripe ? tbl_insert((uintptr_t)p, n, id, epoch, &old)
                       : plain    ? tbl_insert_plain((uintptr_t)p, n, id, epoch, &old, w)
                                  : tbl_insert_where((uintptr_t)p, n, id, epoch, &old, w)) == 1)
        trace_discharge_block(&old);
    if (r >= 0) {
        peak_born((uintptr_t)p, id, n); /* TEMPS: this thread's newest block */
        if (!plain) /* plain: HS_RARE_WATCH clear, no watch */
            watch_born(epoch, n);       /* tracemalloc's traced memory (watch_totals) */
        if (plain)
            trace_charge_plain(id, n);
        else
            trace_charge(id, n);
    }
}

/* Between __lsan_disable and __lsan_enable (lsan_disabled) a block is charged to
 * its trace's twin, which the leak check ignores; the unwinder's memo keeps
 * naming the plain trace. */
static inline uint32_t hook_lsan_twin(uint32_t id, int plain)
{
    return !plain && HS_UNLIKELY(lsan_disabled) ? trace_disabled_twin(id) : id;
}

/* hook_stack with the origin by value, out of line: hook_record's plain
 * path keeps its origin in registers, where a pointer to it handed to a
 * function out of line kept it in memory. */
static HS_NOINLINE uint32_t hook_stack_by(uintptr_t ra, uintptr_t cfa, uintptr_t rbp,
                                          uint32_t again, unsigned max)
{
    const struct unwind_origin o = {.ra = ra, .cfa = cfa, .rbp = rbp};
    return hook_stack(&o, again, max);
}

/* A block was born: unwind first (no lock held), then intern and insert.
 * Most stacks are one this thread has named before (unwind_again: no
 * walk, no intern; a Python stack's native frames without a walk).
 * Sampled mode: the countdown has already been decreased by n.  Called
 * with guard_on set; keeps errno.  plain: hook_plain said 1, so none of
 * its modes is tested (the one test for all of them: hook_record).  book
 * 0: the caller books the scrub itself (hook_leave_plain). */
static inline __attribute__((always_inline)) void
hook_record_in(void *p, size_t n, const struct unwind_origin *origin, int plain, int book,
               int fresh)
{
    int saved = HS_ERRNO;
    if (!plain && HS_UNLIKELY(hook_py_waiting)) /* wrap CPython's domains once it runs */
        hook_up()->py_poll();
    struct tbl_where w;
    if (fresh)
        pend_born_fresh((uintptr_t)p, &w);
    else if (plain)
        pend_born_held((uintptr_t)p, n, &w); /* its table slot's miss overlaps the unwind */
    else
        pend_born((uintptr_t)p, n, &w);
    int64_t *cd = plain ? &hook_countdown : hook_cd();
    uint32_t id = UNWIND_NO_NAME;
    if (!plain && hook_mode.sample && (*cd > 0 || !sample_hit(cd, n))) {
        if (hook_mode.all_blocks)
            id = hook_mode.unsampled;
    } else {
        if (book) /* the walk reads the stack, the insert the table */
            hook_booked();
        unsigned max = hook_mode.depth;
        /* plain: never in that mode (its bit is one of hs_rare's) */
        if (!plain && HS_UNLIKELY(hook_py_caller()) && hook_stack_caller(origin, max, &id))
            ;
        else if ((id = plain ? unwind_again_plain(origin, max) : unwind_again(origin, max)) &
                 UNWIND_NAME_FRAMES)
            id = plain ? hook_stack_by(origin->ra, origin->cfa, origin->rbp, id, max)
                       : hook_stack(origin, id, max); /* UNWIND_NO_NAME has FRAMES set */
    }
    if (id != UNWIND_NO_NAME) {
        if (!plain) /* plain: the walk's hook_booked was */
            hook_booked();
        hook_insert(p, n, hook_lsan_twin(id, plain), &w, plain, fresh);
    }
    if (HS_UNLIKELY(--hook_ticks < 0)) { /* a countdown: one instruction and a branch */
        hook_ticks = HOOK_TICK_EVERY;
        unwind_tick(HOOK_TICK_EVERY + 1); /* unwind_again_plain's check for unloads */
        hook_up()->tick();
        hook_book(HOOK_SCRUB_TICK);
    }
    HS_ERRNO = saved;
}

static HS_NOINLINE void hook_record_any_by(void *p, size_t n, uintptr_t ra, uintptr_t cfa,
                                           uintptr_t rbp)
{
    const struct unwind_origin o = {.ra = ra, .cfa = cfa, .rbp = rbp};
    hook_record_in(p, n, &o, 0, 1, 0);
}

/* hook_record_in, by one test of every rarer mode (hook_plain): sampled
 * mode, estimated weights, the sampled free filter, pymalloc's pools, a
 * CPython whose domains are still to wrap; this thread's __lsan_disable
 * and fresh blocks.  The origin comes by value (hook_record
 * passes a struct's): the plain path reads it from registers. */
HS_NOINLINE void hook_record_at(void *p, size_t n, uintptr_t ra, uintptr_t cfa, uintptr_t rbp)
{
    if (!hook_plain()) {
        if (hook_plain_fresh())
            hook_record_fresh_at(p, n, ra, cfa, rbp);
        else
            hook_record_any_by(p, n, ra, cfa, rbp);
        return;
    }
    hook_record_plain_at(p, n, ra, cfa, rbp, 1);
}

/* hooks.h: the plain recording of a thread that keeps fresh blocks
 * (hook_plain_fresh): the block goes to its fresh slot (pend_keep), not
 * the table, by the plain path's walk and charge.  Inlined into its
 * callers' one frame. */
__attribute__((always_inline)) inline void hook_record_fresh_at(void *p, size_t n, uintptr_t ra,
                                                             uintptr_t cfa, uintptr_t rbp)
{
    const struct unwind_origin o = {.ra = ra, .cfa = cfa, .rbp = rbp};
    hook_record_in(p, n, &o, 1, 1, 1);
}

/* hooks.h: hook_record_at's plain path alone, inlined (with LTO) into
 * malloc's tracked path, whose one frame it shares. */
__attribute__((always_inline)) inline void hook_record_plain_at(void *p, size_t n, uintptr_t ra,
                                                             uintptr_t cfa, uintptr_t rbp, int book)
{
    const struct unwind_origin o = {.ra = ra, .cfa = cfa, .rbp = rbp};
    hook_record_in(p, n, &o, 1, book, 0);
}

/* hooks.h; every failure counts, sampled or not: unwind, then trace_fail locks. */
HS_NOINLINE void hook_fail(uint64_t n, const struct unwind_origin *origin)
{
    int *err = &errno, saved = *err;
    uint32_t id = hook_site(origin, hook_mode.depth);
    if (id != UNWIND_NO_NAME)
        trace_fail(id, n);
    *err = saved;
}

/* hooks.h: hook_skip in sampled mode, out of line: the fast paths stay free of
 * it (it is a block the fast path did not pass, or HEAPSNAP_LEAKS).  A
 * countdown that runs out stays at 0 (hook_record draws the next). */
HS_NOINLINE int hook_skip_sampled(size_t n)
{
    int64_t *cd = hook_cd();
    if ((uint64_t)*cd <= n) {
        *cd = 0;
        return 0;
    }
    *cd -= (int64_t)n;
    return !hook_mode.all_blocks;
}

/* ---- shim/python: a block born in a wrapped CPython allocator domain,
 * with guard_on set and recording on (the sampled countdown moves). ---- */
void hook_adopt(void *p, size_t n, const struct unwind_origin *origin)
{
    if (!(hook_mode.sample && hook_skip_sampled(n))) /* hook_skip */
        hook_record(p, n, origin);
}

/* hooks.h: a free list's object born again (pyw_reborn_arm's tracer):
 * its block, when on the books, charged to the stack of its new birth,
 * as tracemalloc's _PyTraceMalloc_TraceRef moves its trace and nothing
 * else: the block keeps its size (sampled mode: its sampling) and birth
 * epoch, so the traced memory since an epoch (watch_totals) does not move.
 * The stack is taken only for a booked block (a free list's object made
 * before the wrap is reborn again and again), and the books are touched
 * only when it names another trace (a loop's own floats come back to the
 * line that made them).  Unsampled blocks (HEAPSNAP_LEAKS in sampled
 * mode) stay so. */
/* Block p, on the books, moved to trace id with its size and epoch; 1
 * when it was. */
static int hook_move(uintptr_t p, uint32_t id)
{
    struct tbl_entry e, old;
    if (!pend_take_any(p, &e, 1))
        return 0;
    trace_discharge(e.trace, e.size);
    int r = tbl_insert(p, e.size, id, e.epoch, &old);
    if (r == 1)
        trace_discharge_block(&old);
    if (r >= 0)
        trace_charge(id, e.size);
    return r >= 0;
}

void hook_reborn(uintptr_t p, const struct unwind_origin *origin)
{
    struct tbl_entry e;
    if (!hook_is_active())
        return;
    int saved = HS_ERRNO;
    guard_enter();
    if ((tbl_find(p, &e) || pend_find_fresh(p, &e)) &&
        !(hook_mode.all_blocks && e.trace == hook_mode.unsampled)) {
        uint32_t id = hook_site(origin, hook_mode.depth);
        if (id != UNWIND_NO_NAME && (id = hook_lsan_twin(id, 0)) != e.trace)
            hook_move(p, id);
    }
    HS_ERRNO = saved;
    hook_leave();
}

/* hooks.h: block p, charged to trace from, moved to trace to (pyw_tml_pass,
 * at a snapshot, guard set): hook_reborn's move, when p is
 * still on the books at from (a thread may have freed it and got it back
 * since the caller looked). */
int hook_recharge(uintptr_t p, uint32_t from, uint32_t to)
{
    struct tbl_entry e;
    if (from == to || !(tbl_find(p, &e) || pend_find_fresh(p, &e)) || e.trace != from ||
        (hook_mode.all_blocks && e.trace == hook_mode.unsampled))
        return 0;
    return hook_move(p, to);
}

/* The sampled countdown around a domain's own call: the malloc it makes
 * underneath (guard set) must not move it a second time. */
int64_t hook_countdown_get(void)
{
    return *hook_cd();
}

void hook_countdown_set(int64_t v)
{
    *hook_cd() = v;
}
