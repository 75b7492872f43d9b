/*
 * hooks.c - the interposed allocation functions and the real ones behind
 * them.  Each exported hook is only its fast path (a few checks, then a
 * tail call); recording is a noinline helper (hookrecord.c: unwind
 * first, no lock held, then intern and insert); a tracked free goes to
 * pend_hold, or waits in defer_push when it comes with the guard set.
 * Real functions come from dlsym(RTLD_NEXT), required names first (a
 * failing dlsym allocates), so an allocator later in the chain is
 * respected; until they are known, requests are served from boot_alloc's
 * static buffer, whose blocks free ignores.  guard_on (initial-exec
 * TLS) passes the shim's own allocations through untracked.  Sampled mode's
 * byte countdown is here: one load and a test before the real function.
 * Traps (docs/design.md): a block leaves the books before the real free;
 * realloc removes, calls, then inserts the result or re-inserts the old
 * block; a failed real call keeps errno and counts its site (hook_fail).
 */
#include <dlfcn.h>
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "hooks.h"

enum { HOOK_UNRESOLVED, HOOK_RESOLVING, HOOK_READY };

/* hook_countdown (hs_hot): bytes to this thread's next sample.
 * Never below 0, and above 0 only in sampled mode without HEAPSNAP_LEAKS:
 * the one word an allocating hook's fast path tests (hook_pass), which so
 * needs no test of the mode (0 until sampled mode draws a countdown, and
 * in every other mode).  hook_mode keeps the modes. */

static struct {
    void *(*malloc)(size_t);
    void (*free)(void *);
    void *(*calloc)(size_t, size_t);
    void *(*realloc)(void *, size_t);
    void *(*reallocarray)(void *, size_t, size_t); /* optional */
    int (*posix_memalign)(void **, size_t, size_t);
    void *(*aligned_alloc)(size_t, size_t);        /* optional */
    void *(*memalign)(size_t, size_t);
    void *(*valloc)(size_t);                       /* optional */
    void *(*pvalloc)(size_t);                      /* optional */
    size_t (*malloc_usable_size)(void *);
    atomic_int state;  /* HOOK_* */
    atomic_int active; /* recording new blocks */
} real;

/* The fork mark's page (hooks.h): the hooks read its first word on every
 * plain path; the root's orphan code advises and marks it. */
uint64_t hook_fork_page[4096 / sizeof(uint64_t)] __attribute__((aligned(4096)));

/* malloc's one test of the modes (or'ed with the guard, one branch for
 * both): every HOOK_GO_* bit set when the real functions are known,
 * recording is on and sampled mode is off, so that its full-stacks path
 * reads one word, not three.
 * Each bit is its owner's, set or cleared on its own (no race between
 * hook_init and hook_set_active); the owners' own words stay the truth. */
enum { HOOK_GO_READY = 1, HOOK_GO_ACTIVE = 2, HOOK_GO_FULL = 4, HOOK_GO_ALL = 7 };
static atomic_int hook_go;

static void hook_go_mark(int bit, int on)
{
    if (on)
        atomic_fetch_or(&hook_go, bit);
    else
        atomic_fetch_and(&hook_go, ~bit);
}

/* ---------------- resolution ---------------- */

static void hook_free_ready(void); /* free's entry, once resolved */

static void *hook_sym(const char *name)
{
    return hook_real_sym(name);
}

/* Resolves every real function, once.  Re-entrant calls (dlsym allocating)
 * and other threads see HOOK_RESOLVING and use the bootstrap buffer. */
void hook_init(void)
{
    int expect = HOOK_UNRESOLVED;
    if (!atomic_compare_exchange_strong(&real.state, &expect, HOOK_RESOLVING))
        return;
    int saved = guard_enter();
    scrub_init();
    hs_errno_init();
    real.malloc = hook_sym("malloc");
    real.free = hook_sym("free");
    real.calloc = hook_sym("calloc");
    real.realloc = hook_sym("realloc");
    real.posix_memalign = hook_sym("posix_memalign");
    real.memalign = hook_sym("memalign");
    real.malloc_usable_size = hook_sym("malloc_usable_size");
    real.aligned_alloc = hook_sym("aligned_alloc");
    real.reallocarray = hook_sym("reallocarray");
    real.valloc = hook_sym("valloc");
    real.pvalloc = hook_sym("pvalloc");
    guard_leave(saved);
    if (!real.malloc || !real.free || !real.calloc || !real.realloc ||
        !real.posix_memalign || !real.memalign) {
        static const char msg[] = "heapsnap: cannot find the real allocator\n";
        ssize_t r = write(2, msg, sizeof msg - 1);
        (void)r;
        _exit(127); /* nothing sane to fall back to */
    }
    /* A free can come before recording starts (the constructor of a library
     * initialised before this one: gcc's liblsan, with -fsanitize=leak, frees
     * dlerror's message); the held-free path needs the real free by then. */
    defer_init(real.free, real.malloc, real.malloc_usable_size, pend_unbook);
    pend_init(real.free, 0);
    atomic_store(&real.state, HOOK_READY);
    hook_go_mark(HOOK_GO_READY, 1);
    hook_free_ready();
}

static inline int hook_ready(void)
{
    return HS_LIKELY(atomic_load_explicit(&real.state, memory_order_acquire) == HOOK_READY);
}

/* Not ready yet: resolve, or serve from the bootstrap buffer meanwhile. */
static HS_NOINLINE int hook_early(void)
{
    hook_init();
    return hook_ready();
}

/* Starts recording: options are read here (life_init, guard_on set). */
void hook_set_active(int on)
{
    hs_errno_init(); /* hook_init's, again: hook_record relies on it */
    hook_mode.depth = (unsigned)opt_int(OPT_DEPTH);
    if (on && !hook_mode.started)
        hook_modes_start(real.free);
    hook_go_mark(HOOK_GO_FULL, !hook_mode.sample);
    atomic_store(&real.active, on);
    /* The bit follows the word, not on: two calls at once (a degrade and
     * an unpause) may store in one order and mark in the other.  Whoever
     * marks last checks the word after its mark. */
    do
        hook_go_mark(HOOK_GO_ACTIVE, on = atomic_load(&real.active));
    while (!(atomic_load(&hook_go) & HOOK_GO_ACTIVE) != !atomic_load(&real.active));
}

int hook_is_active(void)
{
    return atomic_load_explicit(&real.active, memory_order_relaxed);
}

/* ---------------- slow paths ---------------- */
/* A block about to die leaves the books (pend_drop), with guard_on
 * clear on entry. */
static HS_NOINLINE void hook_forget(void *p)
{
    guard_enter();
    pend_drop(p, 1);
    hook_leave_free();
}

/* Not recording: started, then stopped (degraded), or not started yet,
 * when an allocation comes before the constructor (the host's start_early). */
static HS_NOINLINE int hook_start(void)
{
    return !hook_mode.started && hook_up()->start_early();
}

static inline int hook_tracking(void)
{
    return !guard_on &&
           (atomic_load_explicit(&real.active, memory_order_relaxed) || hook_start());
}

/* Sampled mode's fast path, first thing in each allocating hook: 1 when
 * the block of n bytes is not sampled (the countdown moves by n), 0 for
 * the careful path (which moves it there).  The countdown is the only
 * test: it is 0 in every other mode (hook_countdown), so an unsampled block
 * costs little more than the interposition itself, and the full mode pays
 * four instructions for it, and one jump on a free (hook_free_entry;
 * docs/performance-hotpath.md).  Unsigned: a
 * size of 2^63 or more never passes. */
static inline int hook_pass(size_t n)
{
    uint64_t c = (uint64_t)hook_countdown;
    if (c <= n)
        return 0;
    hook_countdown = (int64_t)(c - n);
    return 1;
}

/* The same for a free: 1 when p is certainly not in the table.  The
 * filter's group is the only test: outside sampled mode every group is
 * saturated (record.h), and boot blocks are pinned in it: they never pass.
 * A group that counts some entry sends the free to the careful path,
 * whose tbl_maybe asks the bucket.  Until the filter is on (HS_RARE_FILTER,
 * marked after tbl_filter_enable cleared the groups) every group is
 * saturated and the test would always say no: the bit is tested instead,
 * the hash only in sampled mode. */
static inline int hook_pass_free(const void *p)
{
    return HS_UNLIKELY(atomic_load_explicit(&hs_rare, memory_order_relaxed) & HS_RARE_FILTER) &&
           !tbl_filter_group_hit((uintptr_t)p);
}

/* The careful path's test: the block is neither sampled nor kept. */
static inline int hook_skip(size_t n)
{
    return hook_mode.sample && hook_skip_sampled(n);
}

/* hooks.h (maphooks.c): a mapping is recorded and sampled as a block is. */
uint32_t hook_map_site(size_t n, const struct unwind_origin *origin, int failed)
{
    int64_t *cd = hook_countdown_at();
    if (!hook_ready() || !hook_is_active())
        return UNWIND_NO_NAME;
    if (!failed && (hook_skip(n) || (hook_mode.sample && (*cd > 0 || !sample_hit(cd, n)))))
        return hook_mode.all_blocks ? hook_mode.unsampled : UNWIND_NO_NAME;
    return hook_site(origin, hook_mode.depth);
}

/* ---------------- the hooks ---------------- */

/* The attach build's thread-locals are dynamic: a thread's first access
 * allocates them through the loader's malloc, which in a non-PIE
 * executable is the executable's PLT entry for malloc (its canonical
 * address), and so the rewritten GOT entry, and so this hook again.  A call
 * that comes from the loader's own code is forwarded at once, before any
 * thread-local is read (got_init sets the range). */
uintptr_t hook_loader_lo, hook_loader_hi;
#ifdef HEAPSNAP_ATTACH_BUILD
#define HOOK_FROM_LOADER()                                                                 \
    HS_UNLIKELY((uintptr_t)__builtin_return_address(0) - hook_loader_lo <                 \
                hook_loader_hi - hook_loader_lo)
#else
#define HOOK_FROM_LOADER() 0
#endif

/* Each hook's own code is only its fast path: checks, then a tail call of
 * the real function, with no registers to save.  Anything else - before
 * the real functions are resolved, or a block to record - is a noinline
 * function of its own. */

static HS_NOINLINE void *hook_malloc_early(size_t n)
{
    return hook_early() ? malloc(n) : boot_alloc(n, 0);
}

/* malloc's and calloc's tracked paths past the real call, but for their
 * one frame's recording: a failure (n the size asked, HSNAP_FAILED_OVERFLOW
 * for a calloc whose product overflowed), or a mode their test did not
 * foresee (hook_record_at tests them all, fresh blocks too).  A tail call:
 * its frames start where the hook's tracked path's was, as deep as
 * hook_record's were. */
static HS_NOINLINE void *hook_malloc_other(void *p, size_t n, uintptr_t ra, uintptr_t cfa,
                                           uintptr_t rbp)
{
    if (p) {
        hook_record_at(p, n, ra, cfa, rbp);
    } else {
        const struct unwind_origin o = {.ra = ra, .cfa = cfa, .rbp = rbp};
        hook_fail(n, &o);
    }
    if (hook_scrub_need && hook_scrub_need < HOOK_SCRUB_CAREFUL) /* the books were kept */
        hook_scrub_need = HOOK_SCRUB_CAREFUL;
    return hook_leave_booked(p);
}

/* One frame: the plain recording is inlined (hook_record_plain_at), and
 * the way out (hook_leave_plain) is a tail call that clears it too. */
static HS_NOINLINE void *hook_malloc_tracked(size_t n)
{
    const uintptr_t *f = __builtin_frame_address(0); /* UNWIND_ORIGIN's words, by value */
    guard_enter();
    pend_room(n);
    void *p = real.malloc(n);
    if (HS_UNLIKELY(!p) || !hook_plain())
        return hook_malloc_other(p, n, f[1], (uintptr_t)(f + 2), f[0]);
    hook_record_plain_at(p, n, f[1], (uintptr_t)(f + 2), f[0], 0);
    return hook_leave_plain(p);
}

/* The same for a thread that keeps fresh blocks (pend_fresh_on, which the
 * export tests): the plain recording's fresh variant (hook_record_fresh_at)
 * in the one frame.  Until it had a frame of its own such a malloc set up
 * hook_malloc_tracked's, then tail-called hook_malloc_other.  zeroed:
 * calloc's n * m bytes (hook_calloc_tracked says how an overflow counts). */
static inline __attribute__((always_inline)) void *hook_fresh_in(size_t n, size_t m, int zeroed)
{
    const uintptr_t *f = __builtin_frame_address(0); /* the hook's, inlined into it */
    size_t total = n;
    if (zeroed && HS_UNLIKELY(__builtin_mul_overflow(n, m, &total)))
        total = HSNAP_FAILED_OVERFLOW;
    guard_enter();
    pend_room(total);
    void *p = zeroed ? real.calloc(n, m) : real.malloc(n);
    if (HS_UNLIKELY(!p) || !hook_plain_fresh())
        return hook_malloc_other(p, total, f[1], (uintptr_t)(f + 2), f[0]);
    hook_record_fresh_at(p, total, f[1], (uintptr_t)(f + 2), f[0]);
    return hook_leave_plain(p);
}

static HS_NOINLINE void *hook_malloc_fresh(size_t n)
{
    return hook_fresh_in(n, 1, 0);
}

/* malloc past its first tests, out of line: hook_start's call made malloc
 * itself keep a frame. */
static HS_NOINLINE void *hook_malloc_careful(size_t n)
{
    if (!hook_tracking() || hook_skip(n))
        return real.malloc(n);
    return hook_malloc_tracked(n);
}

HS_EXPORT void *malloc(size_t n)
{
    if (HOOK_FROM_LOADER())
        return real.malloc(n);
    if (hook_pass(n))
        return real.malloc(n);
    /* hook_go all set and the guard clear, as one test (no branch between) */
    if (HS_LIKELY((((unsigned)atomic_load_explicit(&hook_go, memory_order_acquire) ^ HOOK_GO_ALL) |
                   (unsigned)guard_on) == 0))
        return pend_fresh_on ? hook_malloc_fresh(n) : hook_malloc_tracked(n);
    if (HS_UNLIKELY(!hook_ready()))
        return hook_malloc_early(n);
    return hook_malloc_careful(n);
}

/* A free the shim tracks where hook_plain holds: held back (pend_hold), and
 * the block that falls out of the thread's queue released. */
static HS_NOINLINE void hook_free_tracked(void *p)
{
    guard_enter();
    peak_freed(p); /* TEMPS (peak_temps): one compare and branch */
    struct tbl_where w; /* pend_hold_plain may turn fresh blocks on: for the next call */
    if ((p = pend_hold_plain(p, &w)))
        pend_release_plain(p, &w);
    hook_leave_free(); /* no local's address taken: its scrub is a tail call */
}

/* hook_free_tracked with a rarer mode on, out of line (its locals' addresses
 * go to calls out of line). */
static HS_NOINLINE void hook_free_other(void *p)
{
    guard_enter();
    peak_freed(p);
    struct tbl_entry e;
    if (hook_plain_fresh()) { /* no watch (HS_RARE_WATCH), the thread's own lines */
        if (pend_take_fresh((uintptr_t)p, &e)) { /* died fresh: the table never saw it */
            trace_discharge_plain(e.trace, e.size);
            real.free(p);
            return hook_leave_free();
        }
    } else if (pend_fresh_on && pend_take((uintptr_t)p, &e)) {
        trace_discharge_block(&e);
        real.free(p);
        return hook_leave_free();
    }
    struct tbl_where w;
    if ((p = pend_hold_where(p, &w)))
        pend_release_where(p, &w);
    hook_leave_free();
}

/* free's careful path, out of line: the fast path keeps nothing of it.
 * filtered: the filter may be on (tbl_maybe asked).  ready: the real
 * functions are known (real.state never leaves HOOK_READY). */
static inline __attribute__((always_inline)) void hook_free_careful_in(void *p, int filtered,
                                                                       int ready)
{
    if (!p || boot_has(p))
        return;
    if (!ready && HS_UNLIKELY(!hook_ready()))
        return; /* only boot blocks exist before resolution */
    /* The real free reads the chunk header: start that cache miss now, so
     * that it overlaps the table's own miss instead of following it. */
    __builtin_prefetch((char *)p - sizeof(size_t));
    if (!filtered || tbl_maybe((uintptr_t)p)) {
        /* hook_plain tested here, so that the path that keeps fresh blocks
         * (hook_free_other's) does not set up the plain one's frame first */
        if (HS_LIKELY(!guard_on) && hook_plain()) /* as hook_record's plain path */
            hook_free_tracked(p);
        else if (!guard_on)
            hook_free_other(p);
        else if (hook_is_active() && (uintptr_t)p != defer_offbook)
            defer_push(p);
        else
            real.free(p);
        return;
    }
    real.free(p);
}

static HS_NOINLINE void hook_free_careful(void *p)
{
    hook_free_careful_in(p, 1, 0);
}

/* The same before hook_filter_enable, when tbl_maybe says yes to all (a
 * free still here once the filter is on looks the block up all the same),
 * until hook_init is done ... */
static HS_NOINLINE void hook_free_early(void *p)
{
    hook_free_careful_in(p, 0, 0);
}

/* ... and after: hook_free_ready's. */
static HS_NOINLINE void hook_free_unfiltered(void *p)
{
    hook_free_careful_in(p, 0, 1);
}

/* free's fast test once the filter is on (sampled mode): its group. */
static void hook_free_filtered(void *p)
{
    if (!tbl_filter_group_hit((uintptr_t)p))
        return real.free(p);
    hook_free_careful(p);
}

/* Where free goes: the careful path without tbl_maybe, until
 * hook_filter_enable (every group is saturated until then:
 * hook_pass_free would always say no); without the test of hook_ready
 * once hook_init is done (hook_free_ready). */
static void (*_Atomic hook_free_entry)(void *) = hook_free_early;

HS_EXPORT void free(void *p)
{
    if (HOOK_FROM_LOADER())
        return real.free(p);
    /* Relaxed: x86-64 (the shim's one target) keeps loads in order, so a
     * free that finds hook_free_unfiltered, stored after HOOK_READY, then
     * reads the real functions hook_init stored before it. */
    atomic_load_explicit(&hook_free_entry, memory_order_relaxed)(p);
}

/* hook_init: the real functions are known, for good. */
static void hook_free_ready(void)
{
    void (*early)(void *) = hook_free_early; /* not if the filter is on already */
    atomic_compare_exchange_strong(&hook_free_entry, &early, hook_free_unfiltered);
}

/* life_exit_early: no snapshot is written any more, so no block need
 * leave the books: free goes straight to the allocator. */
void hook_books_close(void)
{
    atomic_store_explicit(&hook_free_entry, real.free, memory_order_relaxed);
}

/* tbl_filter_enable, and free's group test with it (a free that still
 * goes straight to the careful path meanwhile is right all the same). */
void hook_filter_enable(void)
{
    tbl_filter_enable();
    void (*was)(void *) = atomic_load(&hook_free_entry);
    while (was != real.free && /* not once the books are closed */
           !atomic_compare_exchange_weak(&hook_free_entry, &was, hook_free_filtered))
        ;
}

static HS_NOINLINE void *hook_calloc_early(size_t n, size_t m)
{
    size_t total;
    if (hook_early())
        return calloc(n, m);
    return __builtin_mul_overflow(n, m, &total) ? NULL : boot_alloc(total, 0);
}

/* malloc's one frame (hook_malloc_tracked) for calloc: a zeroed block
 * costs what a malloc does.  An overflowing product fails in the real
 * calloc; it is recorded as HSNAP_FAILED_OVERFLOW (pend_room settles the
 * queue first, as for any size that large). */
static HS_NOINLINE void *hook_calloc_tracked(size_t n, size_t m)
{
    const uintptr_t *f = __builtin_frame_address(0); /* UNWIND_ORIGIN's words, by value */
    size_t total;
    if (HS_UNLIKELY(__builtin_mul_overflow(n, m, &total)))
        total = HSNAP_FAILED_OVERFLOW;
    guard_enter();
    pend_room(total);
    void *p = real.calloc(n, m);
    if (HS_UNLIKELY(!p) || !hook_plain())
        return hook_malloc_other(p, total, f[1], (uintptr_t)(f + 2), f[0]);
    hook_record_plain_at(p, total, f[1], (uintptr_t)(f + 2), f[0], 0);
    return hook_leave_plain(p);
}

static HS_NOINLINE void *hook_calloc_fresh(size_t n, size_t m)
{
    return hook_fresh_in(n, m, 1);
}

/* calloc's careful path, out of line: the fast path keeps no frame. */
static HS_NOINLINE void *hook_calloc_careful(size_t n, size_t m)
{
    if (HS_UNLIKELY(!hook_ready()))
        return hook_calloc_early(n, m);
    if (!hook_tracking() || hook_skip(n * m))
        return real.calloc(n, m);
    return hook_calloc_tracked(n, m);
}

HS_EXPORT void *calloc(size_t n, size_t m)
{
    if (HOOK_FROM_LOADER())
        return real.calloc(n, m);
    if (hook_pass(n * m)) /* an overflowing product: calloc fails all the same */
        return real.calloc(n, m);
    /* as malloc's: hook_go all set and the guard clear, as one test */
    if (HS_LIKELY((((unsigned)atomic_load_explicit(&hook_go, memory_order_acquire) ^ HOOK_GO_ALL) |
                   (unsigned)guard_on) == 0))
        return pend_fresh_on ? hook_calloc_fresh(n, m) : hook_calloc_tracked(n, m);
    return hook_calloc_careful(n, m);
}

/* realloc of a bootstrap block: move it to the real heap. */
static HS_NOINLINE void *hook_boot_realloc(void *p, size_t n)
{
    if (n == 0)
        return NULL; /* glibc semantics: realloc(p, 0) frees, returns NULL */
    void *q = malloc(n);
    size_t old = boot_size(p);
    if (q)
        memcpy(q, p, old < n ? old : n);
    return q;
}

/* realloc / reallocarray with tracking: remove, call, insert the result or
 * re-insert the old block if the call failed.  The new block is charged to
 * this call site with its new size.  The origin by value: the hook's, as
 * hook_realloc_tracked passes it on. */
static HS_NOINLINE void *hook_resize_at(void *p, size_t n, size_t m, int array, uintptr_t ra,
                                        uintptr_t cfa, uintptr_t rbp)
{
    const struct unwind_origin o = {.ra = ra, .cfa = cfa, .rbp = rbp};
    struct tbl_entry old;
    size_t size = n * m;
    guard_enter();
    pend_room(size);
    if (p) /* a held block: its free reaches the allocator before this call */
        pend_settle_held((uintptr_t)p);
    int looked = p && tbl_maybe((uintptr_t)p);
    int had = looked && pend_take_any((uintptr_t)p, &old, 1);
    if (looked)
        hook_booked();
    void *q = array ? real.reallocarray(p, n, m) : real.realloc(p, n);
    int saved = errno;
    if (q || (p && size == 0)) { /* success, or realloc(p, 0) freed p */
        if (had && q) /* heaptrack's events: the old block's free, then the new one */
            peak_freed(p);
        if (had)
            trace_discharge_block(&old);
        else if (p && !hook_mode.sample)
            atomic_fetch_add_explicit(&trace_counters.foreign_frees, 1, memory_order_relaxed);
        if (q && !hook_skip(size))
            hook_record(q, size, &o);
    } else {
        if (had) /* the old block stays live: back in the books */
            tbl_insert(old.ptr, old.size, old.trace, old.epoch, NULL);
        hook_fail(size, &o);
    }
    errno = saved;
    hook_leave();
    return q;
}

static HS_NOINLINE void *hook_resize(void *p, size_t n, size_t m, int array)
{
    const uintptr_t *f = __builtin_frame_address(0); /* UNWIND_ORIGIN's words, by value */
    return hook_resize_at(p, n, m, array, f[1], (uintptr_t)(f + 2), f[0]);
}

/* hook_realloc_tracked's failed call: the old block stays live, back in
 * the books (had: it was there), and the site counts a failure. */
static HS_NOINLINE void *hook_realloc_failed(size_t n, const struct tbl_entry *old, int had,
                                             uintptr_t ra, uintptr_t cfa, uintptr_t rbp)
{
    const struct unwind_origin o = {.ra = ra, .cfa = cfa, .rbp = rbp};
    int saved = errno;
    if (had)
        tbl_insert(old->ptr, old->size, old->trace, old->epoch, NULL);
    hook_fail(n, &o);
    errno = saved;
    hook_leave();
    return NULL;
}

/* realloc's tracked path in one frame, as malloc's (hook_malloc_tracked),
 * where hook_plain or hook_plain_fresh holds (hs_rare 0: no filter to
 * ask, no watch, the thread's own lines), hook_resize_at's otherwise: the
 * origin by value, the old block out of the books (this thread's fresh
 * slots first) and discharged by the plain path, the new one recorded by
 * hook_record_at, and the way out the scrub's tail call (hook_leave_booked:
 * the hook's own frame held both addresses).  A young block grown or
 * shrunk (sqlite's, a string builder's) cost a free and a malloc more
 * through hook_resize's generic calls. */
static HS_NOINLINE void *hook_realloc_tracked(void *p, size_t n)
{
    const uintptr_t *f = __builtin_frame_address(0); /* UNWIND_ORIGIN's words, by value */
    const uintptr_t ra = f[1], cfa = (uintptr_t)(f + 2), rbp = f[0];
    if (HS_UNLIKELY(!hook_plain()) && !hook_plain_fresh())
        return hook_resize_at(p, n, 1, 0, ra, cfa, rbp);
    struct tbl_entry old;
    int had = 0;
    guard_enter();
    pend_room(n);
    if (p) {
        pend_settle_held((uintptr_t)p); /* a held block: its free reaches the allocator first */
        had = pend_take_any((uintptr_t)p, &old, 1);
    }
    void *q = real.realloc(p, n);
    if (HS_UNLIKELY(!q) && (!p || n)) /* failed: not realloc(p, 0)'s free */
        return hook_realloc_failed(n, &old, had, ra, cfa, rbp);
    int saved = HS_ERRNO;
    if (had) {
        if (q) /* heaptrack's events: the old block's free, then the new one */
            peak_freed(p);
        trace_discharge_plain(old.trace, old.size);
    } else if (p) {
        atomic_fetch_add_explicit(&trace_counters.foreign_frees, 1, memory_order_relaxed);
    }
    if (q)
        hook_record_at(q, n, ra, cfa, rbp);
    HS_ERRNO = saved;
    hook_book(HOOK_SCRUB_CAREFUL); /* hook_record_at's frames, past this one */
    return hook_leave_booked(q);
}

/* A realloc with the guard set (a signal handler's) moves a tracked block
 * to a new one and defers the old one's free (defer_realloc), but for a
 * block a Python domain wrapper has just taken off the books
 * (defer_offbook) past a tcache's sizes: the real realloc, which grows it
 * in place or by mremap as it would without the shim; a copy at each call
 * made a growing list or buffer cost a copy and fresh pages a growth.  A
 * small one is still copied: the new block comes from the chunks just
 * freed, where glibc's realloc takes a chunk past its tcache, which under
 * the frees the hooks hold touched more of the heap (dicts.py). */
#define HOOK_REALLOC_COPY_MAX 1032u /* usable bytes of glibc's largest tcache chunk */
static inline int hook_realloc_defers(void *p)
{
    if (!p || !tbl_maybe((uintptr_t)p) || !hook_is_active())
        return 0;
    return (uintptr_t)p != defer_offbook || real.malloc_usable_size(p) <= HOOK_REALLOC_COPY_MAX;
}

/* realloc before the real functions are resolved. */
static HS_NOINLINE void *hook_realloc_early(void *p, size_t n)
{
    return hook_early() ? realloc(p, n) : boot_alloc(n, 0);
}

/* realloc while not recording: the table is still kept honest. */
static HS_NOINLINE void *hook_realloc_idle(void *p, size_t n)
{
    if (p && tbl_maybe((uintptr_t)p))
        hook_forget(p);
    return real.realloc(p, n);
}

/* Only the fast path here, every call a tail call (no frame to set up).
 * The boot check is one compare (boot_has). */
HS_EXPORT void *realloc(void *p, size_t n)
{
    if (HOOK_FROM_LOADER())
        return real.realloc(p, n);
    if ((!p || hook_pass_free(p)) && hook_pass(n))
        return real.realloc(p, n);
    if (boot_has(p))
        return hook_boot_realloc(p, n);
    /* as malloc's: hook_go all set and the guard clear, as one test */
    if (HS_LIKELY((((unsigned)atomic_load_explicit(&hook_go, memory_order_acquire) ^ HOOK_GO_ALL) |
                   (unsigned)guard_on) == 0))
        return hook_realloc_tracked(p, n);
    if (HS_UNLIKELY(!hook_ready()))
        return hook_realloc_early(p, n);
    if (guard_on)
        return hook_realloc_defers(p) ? defer_realloc(p, n) : real.realloc(p, n);
    if (!hook_is_active())
        return hook_realloc_idle(p, n);
    return hook_resize(p, n, 1, 0); /* sampled: what hook_pass did not pass */
}

/* reallocarray's n * m overflowed: ENOMEM, a failure when recording. */
static HS_NOINLINE void *hook_reallocarray_overflow(void)
{
    struct unwind_origin o;
    UNWIND_ORIGIN(o);
    if (hook_ready() && hook_tracking()) {
        guard_enter();
        hook_fail(HSNAP_FAILED_OVERFLOW, &o);
        hook_leave();
    }
    errno = ENOMEM;
    return NULL;
}

HS_EXPORT void *reallocarray(void *p, size_t n, size_t m)
{
    size_t total;
    if (__builtin_mul_overflow(n, m, &total))
        return hook_reallocarray_overflow();
    if ((!hook_ready() && !hook_early()) || !real.reallocarray || (p && boot_has(p)))
        return realloc(p, total);
    if (guard_on)
        return hook_realloc_defers(p) ? defer_realloc(p, total) : real.reallocarray(p, n, m);
    if (!hook_is_active()) {
        if (p && tbl_maybe((uintptr_t)p))
            hook_forget(p);
        return real.reallocarray(p, n, m);
    }
    return hook_resize(p, n, m, 1);
}

static HS_NOINLINE int hook_posix_memalign_early(void **out, size_t align, size_t n)
{
    if (hook_early())
        return posix_memalign(out, align, n);
    void *p = boot_alloc(n, align);
    if (!p)
        return ENOMEM;
    *out = p;
    return 0;
}

static HS_NOINLINE int hook_posix_memalign_tracked(void **out, size_t align, size_t n)
{
    struct unwind_origin o;
    UNWIND_ORIGIN(o);
    guard_enter();
    pend_room(n);
    int r = real.posix_memalign(out, align, n);
    if (r == 0)
        hook_record(*out, n, &o);
    else
        hook_fail(n, &o);
    hook_leave();
    return r;
}

HS_EXPORT int posix_memalign(void **out, size_t align, size_t n)
{
    if (hook_pass(n))
        return real.posix_memalign(out, align, n);
    if (HS_UNLIKELY(!hook_ready()))
        return hook_posix_memalign_early(out, align, n);
    if (!hook_tracking() || hook_skip(n))
        return real.posix_memalign(out, align, n);
    return hook_posix_memalign_tracked(out, align, n);
}

/* The memalign-like family shares one tracking wrapper. */
enum hook_kind { HOOK_MEMALIGN, HOOK_ALIGNED_ALLOC, HOOK_VALLOC, HOOK_PVALLOC };

/* The real function, or its equivalent through memalign when the allocator
 * in the chain lacks it. */
static void *hook_call_aligned(enum hook_kind k, size_t align, size_t n)
{
    switch (k) {
    case HOOK_ALIGNED_ALLOC:
        return real.aligned_alloc ? real.aligned_alloc(align, n) : real.memalign(align, n);
    case HOOK_VALLOC:
        return real.valloc ? real.valloc(n) : real.memalign((size_t)getpagesize(), n);
    case HOOK_PVALLOC: {
        size_t page = (size_t)getpagesize();
        if (real.pvalloc)
            return real.pvalloc(n);
        return real.memalign(page, n ? (n + page - 1) & ~(page - 1) : page);
    }
    default:
        return real.memalign(align, n);
    }
}

static HS_NOINLINE void *hook_aligned(enum hook_kind k, size_t align, size_t n)
{
    struct unwind_origin o;
    UNWIND_ORIGIN(o);
    if (!hook_ready() && !hook_early())
        return boot_alloc(n, k == HOOK_MEMALIGN || k == HOOK_ALIGNED_ALLOC ? align : 4096);
    if (!hook_tracking() || hook_skip(n))
        return hook_call_aligned(k, align, n);
    guard_enter();
    pend_room(n);
    void *p = hook_call_aligned(k, align, n);
    if (p)
        hook_record(p, n, &o);
    else
        hook_fail(n, &o);
    hook_leave();
    return p;
}

/* Each of the family: sampled mode's fast path, else hook_aligned. */
static inline void *hook_aligned_entry(enum hook_kind k, size_t align, size_t n)
{
    if (hook_pass(n))
        return hook_call_aligned(k, align, n);
    return hook_aligned(k, align, n);
}

HS_EXPORT void *memalign(size_t align, size_t n)
{
    return hook_aligned_entry(HOOK_MEMALIGN, align, n);
}

HS_EXPORT void *aligned_alloc(size_t align, size_t n)
{
    return hook_aligned_entry(HOOK_ALIGNED_ALLOC, align, n);
}

HS_EXPORT void *valloc(size_t n)
{
    return hook_aligned_entry(HOOK_VALLOC, 0, n);
}

HS_EXPORT void *pvalloc(size_t n)
{
    return hook_aligned_entry(HOOK_PVALLOC, 0, n);
}

HS_EXPORT size_t malloc_usable_size(void *p)
{
    if (!p)
        return 0;
    if (boot_has(p))
        return boot_size(p);
    if (!hook_ready() && !hook_early())
        return 0;
    return real.malloc_usable_size ? real.malloc_usable_size(p) : 0;
}
