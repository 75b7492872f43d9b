/*
 * unwind.c - stack capture from inside a hook, behind unwind_capture(), by
 * HEAPSNAP_UNWIND:
 *   auto       cfi.c's rule-caching walk from the thread's (rip, rsp, rbp);
 *              on any doubt the whole stack is taken by unw_backtrace, so
 *              its stacks are libunwind's, frame for frame
 *   libunwind  unw_backtrace()
 *   fp         a frame-pointer walk that never faults: each frame pointer
 *              8-aligned, increasing and below the thread's stack top (the
 *              "[stack]" mapping's end, or the thread descriptor); off
 *              those stacks (a signal or coroutine stack), libunwind
 * auto usually starts at the program's frame (UNWIND_ORIGIN, noted by the
 * hook), so no shim frame is walked; otherwise leading frames inside
 * libheapsnap.so's text are dropped, and every backend is entered from
 * unwind_raw so that each captures the same number of them.  Rules: no
 * lock is held here (libunwind and rulecache.c's slow path take the loader
 * lock: docs/design.md, "Known traps"), and nothing mallocs
 * (pthread_getattr_np would).
 */
#include <fcntl.h>
#include <sched.h>
#define UNW_LOCAL_ONLY
#include <libunwind.h>
#include <link.h>
#include <pthread.h>
#include <string.h>
#include <unistd.h>

#include "unwindinner.h"
#include "procmaps.h"

#define UNWIND_STACK_MAX ((uintptr_t)1 << 30) /* sp-to-top distance we trust */

static struct {
    uintptr_t self_lo, self_hi;   /* libheapsnap.so's executable PT_LOADs */
    uintptr_t main_lo, main_hi;   /* the main thread's stack mapping */
    int main_by_sp;               /* ... found by the start-up sp */
    int method;                   /* UNWIND_* in effect */
    _Atomic uint64_t fallbacks;   /* auto stacks taken by libunwind instead */
    _Atomic uint64_t from_here;   /* auto stacks not started at the hook's caller */
} unw;

static int unwind_find_self(struct dl_phdr_info *info, size_t size, void *arg)
{
    uintptr_t me = (uintptr_t)arg;
    for (int i = 0; i < info->dlpi_phnum; i++) {
        const ElfW(Phdr) *ph = &info->dlpi_phdr[i];
        uintptr_t lo = info->dlpi_addr + ph->p_vaddr, hi = lo + ph->p_memsz;
        if (ph->p_type == PT_LOAD && (ph->p_flags & PF_X) && me >= lo && me < hi) {
            unw.self_lo = lo;
            unw.self_hi = hi;
            return 1;
        }
    }
    return 0;
}

/* One line of /proc/self/maps: keep it if it is the main stack - the
 * mapping holding the start-up stack pointer (the shim starts on the main
 * thread), else the one named [stack].  Under Valgrind the client's stack
 * is an unnamed mapping, hence the stack pointer first. */
static void unwind_maps_line(const struct procmaps_line *l, void *arg)
{
    static const char tag[] = "[stack]";
    uintptr_t sp = *(const uintptr_t *)arg;
    int named = l->len >= sizeof tag - 1 &&
                !memcmp(l->text + l->len - (sizeof tag - 1), tag, sizeof tag - 1);
    if (sp >= l->lo && sp < l->hi) {
        unw.main_lo = l->lo;
        unw.main_hi = l->hi;
        unw.main_by_sp = 1;
    } else if (named && !unw.main_by_sp) {
        unw.main_lo = l->lo;
        unw.main_hi = l->hi;
    }
}

static void unwind_find_main_stack(void)
{
    static char buf[8192];
    uintptr_t sp = (uintptr_t)__builtin_frame_address(0);
    procmaps_each(buf, sizeof buf, unwind_maps_line, &sp);
}

const struct unwind_host *unwind_host;

/* No warm-up: libunwind is first called on a fallback, and sets itself up
 * then, inside the hook.  That is safe: the call is inside loader_enter,
 * so a fork waits for it (life_prepare); libunwind's one-time set-up (tdep_init)
 * blocks every signal and takes a lock of its own; and it allocates by
 * mmap (a malloc of its would meet the hook's guard).  A warm-up at start-up
 * (a cursor stepped once) cost every process ~240 KiB of peak RSS (its
 * text, its caches, the pages of our .eh_frame it reads: churn1_25k
 * 6,900 -> 6,656 KiB) and two file descriptors, libunwind's memory-check
 * pipe, so that a host's first open() returned 5, not 3
 * (test_footprint.sh; docs/performance.md, issue 21).  A program
 * whose every stack our walker reads never loads more of libunwind than
 * the loader maps. */
void unwind_init(int method, int check, const struct unwind_host *host)
{
    unwind_host = host;
    unwind_host->iterate_phdr(unwind_find_self, (void *)(uintptr_t)unwind_init);
    unwind_find_main_stack();
    unw.method = method;
    if (unw.method == UNWIND_AUTO && rcache_init() < 0)
        unw.method = UNWIND_LIBUNWIND;
    uchk_on = check && unw.method == UNWIND_AUTO;
    hs_rare_mark(HS_RARE_UNWIND, unw.method != UNWIND_AUTO || uchk_on);
}

int unwind_in_shim(uintptr_t ip)
{
    return ip >= unw.self_lo && ip < unw.self_hi;
}

__thread unsigned unwind_deep; /* unwind.h */

/* unwind_my_top (hs_hot): this thread's last stack top found by
 * unwind_stack_find: a thread keeps its stack, so each walk but the first
 * asks one thread-local, not pthread_self (a call into libc on every
 * allocation of every thread but the main one). */

/* unwind_stack_top when this thread's kept top does not hold sp (its first
 * walk, a signal on an alternate stack): the main thread's stack mapping,
 * else the thread's own (glibc's descriptor sits at the top of its stack). */
static HS_NOINLINE uintptr_t unwind_stack_find(uintptr_t sp)
{
    uintptr_t top = 0;
    unwind_deep++;
    if (unw.main_hi && sp < unw.main_hi && unw.main_hi - sp < UNWIND_STACK_MAX)
        top = unw.main_hi;
    else {
        uintptr_t self = (uintptr_t)pthread_self();
        if (sp < self && self - sp < UNWIND_STACK_MAX)
            top = self;
    }
    if (top)
        unwind_my_top = top;
    return top;
}

/* Highest address the frame chain may reach from sp, or 0 if unknown. */
static inline uintptr_t unwind_stack_top(uintptr_t sp)
{
    uintptr_t top = unwind_my_top;
    if (HS_LIKELY(top - sp - 1 < UNWIND_STACK_MAX - 1)) /* sp < top, within MAX */
        return top;
    return unwind_stack_find(sp);
}

/* Frame-pointer walk; -1 when the stack bounds are unknown. */
static HS_NOINLINE int unwind_fp(uintptr_t *ip, unsigned max)
{
    uintptr_t sp = (uintptr_t)__builtin_frame_address(0);
    uintptr_t top = unwind_stack_top(sp);
    const uintptr_t *fp = (const uintptr_t *)sp;
    unsigned n = 0;
    if (!top)
        return -1;
    while (n < max) {
        uintptr_t f = (uintptr_t)fp;
        if ((f & 7) || f < sp || f > top - 2 * sizeof(uintptr_t)) /* no overflow */
            break;
        if (!fp[1])
            break;
        ip[n++] = fp[1];
        const uintptr_t *next = (const uintptr_t *)fp[0];
        if (next <= fp)
            break;
        fp = next;
    }
    return (int)n;
}

/* The CFI walk from this frame's registers; -1: use libunwind. */
static HS_NOINLINE int unwind_cfi(uintptr_t *ip, unsigned max)
{
    uintptr_t rip, rsp, rbp;
    __asm__ volatile("lea 0(%%rip), %0\n\tmov %%rsp, %1\n\tmov %%rbp, %2"
                     : "=r"(rip), "=r"(rsp), "=r"(rbp));
    return cfi_walk(rip, rsp, rbp, unwind_stack_top(rsp), ip, max);
}

/* The top of this stack if o can start auto's walk (its return address
 * into the program is the first frame kept), else 0 (a return address
 * inside the shim, a CFA off this stack). */
static inline uintptr_t unwind_origin_ok(const struct unwind_origin *o, uintptr_t sp)
{
    uintptr_t top = unwind_stack_top(sp);
    if (!top || unwind_in_shim(o->ra) || (o->cfa & 7) || o->cfa <= sp || o->cfa > top - 8)
        return 0;
    return top;
}

/* auto's usual path: the walk from the program's frame o.  -1 if o
 * cannot start it. */
static int unwind_cfi_from(const struct unwind_origin *o, uintptr_t sp, uintptr_t *ip,
                           unsigned max, uint32_t *same)
{
    uintptr_t top = unwind_origin_ok(o, sp);
    if (!top || max == 0)
        return -1;
    ip[0] = o->ra;
    int n = cfi_walk_caller(o->ra, o->cfa, o->rbp, top, ip + 1, max - 1, same);
    return n < 0 ? -1 : n + 1;
}

/* Every backend is called from here (never a tail call: see the top).
 * *raw: whether unw_backtrace took the stack. */
static HS_NOINLINE int unwind_raw(uintptr_t *ip, unsigned max, int *raw)
{
    int n = -1;
    if (unw.method == UNWIND_AUTO) {
        n = unwind_cfi(ip, max);
        if (HS_UNLIKELY(n < 0))
            atomic_fetch_add_explicit(&unw.fallbacks, 1, memory_order_relaxed);
    } else if (unw.method == UNWIND_FP)
        n = unwind_fp(ip, max);
    *raw = n < 0;
    if (n < 0) {
        atomic_fetch_add_explicit(&ehf_unw, 1, memory_order_relaxed); /* read by unwind_drop_tables */
        unwind_host->loader_enter(); /* libunwind looks modules up with dl_iterate_phdr */
        n = unw_backtrace((void **)ip, (int)max);
        unwind_host->loader_leave();
    }
    __asm__ volatile("" ::: "memory");
    return n;
}

/* ip has room for max + UNWIND_SLACK frames; the kept frames end up at
 * ip[0..return). */
unsigned unwind_capture(uintptr_t *ip, unsigned max, int *truncated, uint32_t *same,
                        const struct unwind_origin *origin, int *raw)
{
    *raw = 0;
    if (same)
        *same = CFI_NO_TAG;
    if (unw.method == UNWIND_AUTO) {
        uintptr_t sp;
        __asm__ volatile("mov %%rsp, %0" : "=r"(sp));
        int got = origin ? unwind_cfi_from(origin, sp, ip, max + 1, same) : -1; /* +1: truncated? */
        if (got >= 0) {
            *truncated = (unsigned)got > max;
            return (unsigned)got > max ? max : (unsigned)got;
        }
        atomic_fetch_add_explicit(&unw.from_here, 1, memory_order_relaxed);
    }
    unsigned cap = max + UNWIND_SLACK;
    int n = unwind_raw(ip, cap, raw);
    unsigned skip = 0;
    if (n < 0)
        n = 0;
    while (skip < (unsigned)n && unwind_in_shim(ip[skip]))
        skip++;
    unsigned keep = (unsigned)n - skip;
    *truncated = keep > max || (unsigned)n == cap;
    if (keep > max)
        keep = max;
    memmove(ip, ip + skip, keep * sizeof *ip);
    return keep;
}

int unwind_capture_to(uintptr_t *ip, unsigned max, const struct unwind_origin *o,
                      uintptr_t bound, uintptr_t *at, uintptr_t *rd, uintptr_t *rv,
                      unsigned *nrd, int *rbp_read)
{
    uintptr_t sp;
    if (unw.method != UNWIND_AUTO || max < 2)
        return -1;
    __asm__ volatile("mov %%rsp, %0" : "=r"(sp));
    uintptr_t top = unwind_origin_ok(o, sp);
    if (!top || o->cfa >= bound)
        return -1;
    ip[0] = o->ra;
    int n = cfi_walk_to(o->ra, o->cfa, o->rbp, top, bound, ip + 1, max - 1, at, rd, rv, nrd,
                        rbp_read);
    return n < 0 ? -1 : n + 1;
}

unsigned long long unwind_rules_gen(void)
{
    return unw.method == UNWIND_AUTO ? cfi_rules_subs() : 0;
}

/* unwind_capture's *same alone, without a walk or an ip[] (auto only):
 * the name of the stack the capture would give, or UNWIND_NO_NAME.
 * plain (the hooks' plain path, whose origin is the hook's own caller):
 * the origin is not tested.  A memo names a walk only if its first state
 * is (ra, cfa) on this very stack (top), and only walks from an origin
 * that passed unwind_origin_ok, or from the shim's own frame (unwind_cfi:
 * an IP no caller returns to), are recorded; an origin that would fail
 * finds none (as a top of 0 does: no memo has that stack), and the
 * capture that follows (unwind_cfi_from) tests it. */
static inline __attribute__((always_inline)) uint32_t
unwind_again_in(const struct unwind_origin *origin, unsigned max, int plain)
{
    uintptr_t sp, top;
    if (!plain && unw.method != UNWIND_AUTO)
        return UNWIND_NO_NAME;
    __asm__ volatile("mov %%rsp, %0" : "=r"(sp));
    if (plain)
        top = unwind_stack_top(sp);
    else if (!(top = unwind_origin_ok(origin, sp)))
        return UNWIND_NO_NAME;
    /* max + 1 frames, o's first */
    return plain ? cfi_again_plain(origin->ra, origin->cfa, origin->rbp, top, max)
                 : cfi_again(origin->ra, origin->cfa, origin->rbp, top, max);
}

/* A call of its own, not inlined into the hooks: scripts/bench/pystartcount.py
 * counts its instructions apart. */
HS_NOINLINE uint32_t unwind_again(const struct unwind_origin *origin, unsigned max)
{
    return unwind_again_in(origin, max, 0);
}

__attribute__((always_inline)) inline uint32_t unwind_again_plain(const struct unwind_origin *origin,
                                                                 unsigned max)
{
    return unwind_again_in(origin, max, 1);
}

void unwind_tick(unsigned n)
{
    if (unw.method == UNWIND_AUTO)
        cfi_tick(n);
}

/* The caller's name for the stack it was just given (the trace id), so
 * that the same stack next time comes back as that name (auto only). */
void unwind_name(uint32_t name)
{
    if (unw.method == UNWIND_AUTO)
        cfi_name(name);
}

int unwind_again_frames(uint32_t name, uintptr_t *ip, unsigned max, int *truncated)
{
    if (unw.method != UNWIND_AUTO || !(name & UNWIND_NAME_FRAMES) || name == UNWIND_NO_NAME)
        return -1;
    int got = cfi_again_frames(name, ip, max + 1); /* as unwind_cfi_from: +1, truncated? */
    if (got < 0)
        return -1;
    *truncated = (unsigned)got > max;
    return (unsigned)got > max ? (int)max : got;
}

/* HEAPSNAP_VERBOSE: how often auto had to defer to libunwind (tests use it
 * to see that the CFI walk really ran). */
__attribute__((destructor)) static void unwind_report(void)
{
    if (unw.method != UNWIND_AUTO || !unwind_host)
        return;
    struct unwind_counts c;
    unwind_counts(&c);
    unwind_host->count("unwind: stacks auto left to libunwind: ", c.fallbacks);
    unwind_host->count("unwind: stacks auto did not start at the hook's caller: ",
                       atomic_load(&unw.from_here));
    unwind_host->count("unwind: frames replayed from the last walk: ", c.replayed);
    unwind_host->count("unwind: stacks asked: ", c.stacks);
    unwind_host->count("unwind: frames walked by rule: ", c.walked);
    if (uchk_on) {
        unwind_host->count("unwind: check: stacks compared with the full walk: ", c.checked);
        unwind_host->count("unwind: check: stacks that differed: ", c.mismatched);
    }
}

void unwind_counts(struct unwind_counts *c)
{
    cfi_counts(&c->stacks, &c->walked, &c->replayed);
    c->fallbacks = atomic_load(&unw.fallbacks);
    uchk_counts(&c->checked, &c->mismatched);
}

/* A few tries: another thread may hold the rule cache's lock for a bounded
 * insert; past them, the thread's periodic check (cfi_check_unloads) catches up. */
void unwind_modules_changed(void)
{
    if (unw.method != UNWIND_AUTO || !rcache.slot)
        return;
    for (int i = 0; i < 64 && rcache_check() < 0; i++)
        sched_yield();
}

void unwind_thread_end(void)
{
    cfi_thread_end();
}
