/*
 * maphooks.c - the interposed mmap, mmap64, munmap, mremap and mprotect:
 * anonymous memory the program maps itself (MAP_PRIVATE or MAP_SHARED) is
 * recorded as the mmap kind (record/regions.c), charged to the call's
 * stack; mapped PROT_NONE, it is address space reserved, charged to
 * nothing, and a piece of it becomes the mmap kind at the stack of the
 * mprotect (or mmap MAP_FIXED) that gives it access (an mprotect back to
 * PROT_NONE reserves it again; madvise leaves it mapped).  A mapping is
 * the program's only when the call comes with guard_on clear (the shim's
 * own work, libunwind's, the wrapped CPython domains' pymalloc arenas set
 * it), from outside the shim's module (its arena maps with or without the
 * guard) and from outside the real malloc's module (an allocator preloaded
 * behind the shim maps its own chunks: they are its malloc blocks).
 * glibc's malloc and the loader map through their internal calls, which no
 * interposition sees.  File-backed mappings are counted (META), not kept.
 * Real functions come from dlsym(RTLD_NEXT) at start-up (maph_init); until
 * then, the system calls themselves.  An munmap leaves the books before the kernel
 * frees the pages (another thread may get them back at once); an mremap
 * takes its old range out, calls, then charges the result to its own
 * stack (as realloc), or puts the old range back when it failed.
 */
#include <dlfcn.h>
#include <errno.h>
#include <link.h>
#include <stdarg.h>
#include <sys/mman.h>
#include <sys/syscall.h>
#include <unistd.h>

#include "hooks.h"
#include "sysmap.h"

enum { MAPH_UNRESOLVED, MAPH_RESOLVING, MAPH_READY };

static struct {
    void *(*mmap)(void *, size_t, int, int, int, off_t);
    int (*munmap)(void *, size_t);
    void *(*mremap)(void *, size_t, size_t, int, ...);
    int (*mprotect)(void *, size_t, int);
    atomic_int state;          /* MAPH_* */
    atomic_int spans_known;    /* own[] is filled */
    struct { uintptr_t lo, hi; } own[3]; /* the shim's module, the real malloc's, libunwind's */
    size_t page;
} maph;

/* ---------------- the real functions ---------------- */

static void maph_resolve(void)
{
    int expect = MAPH_UNRESOLVED;
    if (!atomic_compare_exchange_strong(&maph.state, &expect, MAPH_RESOLVING))
        return;
    int saved = guard_enter();
    maph.mmap = dlsym(RTLD_NEXT, "mmap");
    maph.munmap = dlsym(RTLD_NEXT, "munmap");
    maph.mremap = dlsym(RTLD_NEXT, "mremap");
    maph.mprotect = dlsym(RTLD_NEXT, "mprotect");
    long page = sysconf(_SC_PAGESIZE);
    maph.page = page > 0 ? (size_t)page : 4096;
    guard_leave(saved);
    if (maph.mmap && maph.munmap && maph.mremap && maph.mprotect)
        atomic_store(&maph.state, MAPH_READY);
}

/* Resolved (maph_init): until then the system calls themselves, so that
 * no call (a fork's child, the loader lock held elsewhere) resolves here. */
static inline int maph_ready(void)
{
    return HS_LIKELY(atomic_load_explicit(&maph.state, memory_order_acquire) == MAPH_READY);
}

static void *maph_real_mmap(void *a, size_t n, int prot, int flags, int fd, off_t off)
{
    if (maph_ready())
        return maph.mmap(a, n, prot, flags, fd, off);
    return (void *)syscall(SYS_mmap, a, n, prot, flags, fd, off);
}

static int maph_real_munmap(void *a, size_t n)
{
    return maph_ready() ? maph.munmap(a, n) : (int)syscall(SYS_munmap, a, n);
}

static void *maph_real_mremap(void *a, size_t old, size_t n, int flags, void *to)
{
    if (maph_ready())
        return maph.mremap(a, old, n, flags, to);
    return (void *)syscall(SYS_mremap, a, old, n, flags, to);
}

static int maph_real_mprotect(void *a, size_t n, int prot)
{
    return maph_ready() ? maph.mprotect(a, n, prot) : sys_mprotect(a, n, prot);
}

/* ---------------- whose mapping ---------------- */

static int maph_span_of(struct dl_phdr_info *info, size_t size, void *arg)
{
    uintptr_t *want = arg; /* want[0]: an address; want[1], want[2]: its module */
    uint64_t lo, hi;
    const char *id;
    size_t id_len;
    (void)size;
    mod_span(info, &lo, &hi, &id, &id_len);
    if (want[0] < lo || want[0] >= hi)
        return 0;
    want[1] = lo;
    want[2] = hi;
    return 1;
}

/* The spans of the shim, of the real malloc, and of libunwind: the shim
 * brings libunwind into the process, and its caches are mapped whether the
 * shim or a C++ throw routed through its _Unwind_RaiseException first
 * calls it (the loader lock). */
static void maph_spans(void)
{
    int saved = guard_enter();
    uintptr_t addrs[3] = {(uintptr_t)maph_spans, (uintptr_t)dlsym(RTLD_NEXT, "malloc"),
                          (uintptr_t)dlsym(RTLD_DEFAULT, "unw_backtrace")};
    for (int k = 0; k < 3; k++) {
        uintptr_t want[3] = {addrs[k], 0, 0};
        if (want[0])
            loader_iterate_phdr(maph_span_of, want);
        maph.own[k].lo = want[1];
        maph.own[k].hi = want[2];
    }
    guard_on = saved; /* (start-up: no frees deferred to drain) */
    atomic_store_explicit(&maph.spans_known, 1, memory_order_release);
}

/* hooks.h: at start-up (the root's life_init), outside any hook. */
void maph_init(void)
{
    maph_resolve();
    maph_spans();
}

/* Whether a call from ret is the program's: not the shim's (which may
 * hold its locks, the guard clear: nothing here may take one then), nor
 * the allocator's behind it; none before maph_init.  Compares only. */
static inline int maph_programs(uintptr_t ret)
{
    if (!atomic_load_explicit(&maph.spans_known, memory_order_acquire))
        return 0;
    for (int k = 0; k < 3; k++)
        if (ret >= maph.own[k].lo && ret < maph.own[k].hi)
            return 0;
    return 1;
}

static inline uintptr_t maph_pages(size_t n)
{
    return (n + maph.page - 1) & ~(uintptr_t)(maph.page - 1);
}

/* The mmap-kind trace a mapping of n bytes is charged to, or
 * REG_UNTRACKED (hook_map_site; the guard set). */
static uint32_t maph_trace(size_t n, const struct unwind_origin *o, int failed)
{
    uint32_t id = hook_map_site(n, o, failed);
    int64_t twin = id == UNWIND_NO_NAME ? -1 : reg_twin(id);
    return twin < 0 ? REG_UNTRACKED : (uint32_t)twin;
}

/* ---------------- the hooks ---------------- */

/* mmap with recording on and the call the program's: n pages at p (or
 * MAP_FAILED) to the books. */
static HS_NOINLINE void *maph_mmap_tracked(void *a, size_t n, int prot, int flags, int fd,
                                           off_t off, const struct unwind_origin *o)
{
    int anon = (flags & MAP_ANONYMOUS) != 0;
    void *p = maph_real_mmap(a, n, prot, flags, fd, off);
    int err = errno;
    guard_enter();
    if (p == MAP_FAILED) { /* a reservation that failed is no allocation */
        uint32_t t = anon && prot != PROT_NONE && err == ENOMEM ? maph_trace(n, o, 1)
                                                                : REG_UNTRACKED;
        if (t != REG_UNTRACKED)
            trace_fail(t, n);
    } else {
        if (!anon)
            reg_file_map();
        uint32_t t = !anon ? REG_UNTRACKED : prot == PROT_NONE ? REG_RESERVED : maph_trace(n, o, 0);
        reg_add((uintptr_t)p, (uintptr_t)p + maph_pages(n), t, snap_epoch());
    }
    hook_leave(); /* the walk's words cleared, as a malloc's are */
    errno = err;
    return p;
}

HS_EXPORT void *mmap(void *a, size_t n, int prot, int flags, int fd, off_t off)
{
    struct unwind_origin o;
    UNWIND_ORIGIN(o);
    if (guard_on || !hook_is_active() || !maph_programs((uintptr_t)__builtin_return_address(0)))
        return maph_real_mmap(a, n, prot, flags, fd, off);
    return maph_mmap_tracked(a, n, prot, flags, fd, off, &o);
}

HS_EXPORT void *mmap64(void *a, size_t n, int prot, int flags, int fd, off_t off)
    __attribute__((alias("mmap")));

HS_EXPORT int munmap(void *a, size_t n)
{
    uintptr_t lo = (uintptr_t)a;
    /* Recording stopped or not, ranges in the books leave them; a bad call
     * (unaligned, empty) fails in the kernel and changes nothing. */
    if (!guard_on && n && maph_programs((uintptr_t)__builtin_return_address(0)) &&
        !(lo & (maph.page - 1))) {
        guard_enter();
        reg_remove(lo, lo + maph_pages(n));
        guard_leave(0);
    }
    return maph_real_munmap(a, n);
}

/* mremap of a range the books may hold: out, call, the result in (at this
 * call's stack) or the old pieces back. */
static HS_NOINLINE void *maph_mremap_tracked(void *a, size_t old, size_t n, int flags, void *to,
                                             const struct unwind_origin *o)
{
    struct reg_piece was[REG_PIECES];
    uintptr_t lo = (uintptr_t)a;
    guard_enter();
    uint32_t k = reg_take(lo, lo + maph_pages(old), was);
    guard_leave(0);
    void *q = maph_real_mremap(a, old, n, flags, to);
    int err = errno;
    if (!k) { /* nothing of ours there (a file's, or not recorded) */
        errno = err;
        return q;
    }
    guard_enter();
    if (q != MAP_FAILED) {
        uint32_t reserved = 0;
        for (uint32_t i = 0; i < k; i++)
            if (was[i].trace != REG_RESERVED)
                trace_discharge(was[i].trace, was[i].hi - was[i].lo);
            else
                reserved++;
        /* a reservation moved is still one; with access anywhere, charged */
        reg_add((uintptr_t)q, (uintptr_t)q + maph_pages(n),
                reserved == k ? REG_RESERVED : maph_trace(n, o, 0), snap_epoch());
    } else {
        reg_restore(was, k);
        uint32_t t = err == ENOMEM ? maph_trace(n, o, 1) : REG_UNTRACKED;
        if (t != REG_UNTRACKED)
            trace_fail(t, n);
    }
    hook_leave();
    errno = err;
    return q;
}

HS_EXPORT void *mremap(void *a, size_t old, size_t n, int flags, ...)
{
    struct unwind_origin o;
    UNWIND_ORIGIN(o);
    void *to = NULL;
    if (flags & MREMAP_FIXED) {
        va_list ap;
        va_start(ap, flags);
        to = va_arg(ap, void *);
        va_end(ap);
    }
    if (guard_on || !old || !maph_programs((uintptr_t)__builtin_return_address(0)) ||
        ((uintptr_t)a & (maph.page - 1)))
        return maph_real_mremap(a, old, n, flags, to);
    return maph_mremap_tracked(a, old, n, flags, to, &o);
}

/* mprotect of a range the books may hold, after the call succeeded: to
 * PROT_NONE its pieces with access are reserved again; to access its
 * reserved pieces are committed, charged to this call's stack (walked only
 * when there are some; recording stopped, they leave the reserved total
 * uncharged). */
static HS_NOINLINE int maph_mprotect_tracked(void *a, size_t n, int prot,
                                             const struct unwind_origin *o)
{
    uintptr_t lo = (uintptr_t)a, hi = lo + maph_pages(n);
    int r = maph_real_mprotect(a, n, prot);
    int err = errno;
    if (r != 0)
        return r;
    guard_enter();
    if (prot == PROT_NONE)
        reg_protect(lo, hi, REG_RESERVED, snap_epoch());
    else if (reg_reserved_in(lo, hi))
        reg_protect(lo, hi, hook_is_active() ? maph_trace(n, o, 0) : REG_UNTRACKED, snap_epoch());
    hook_leave();
    errno = err;
    return r;
}

HS_EXPORT int mprotect(void *a, size_t n, int prot)
{
    struct unwind_origin o;
    UNWIND_ORIGIN(o);
    if (guard_on || !n || !maph_programs((uintptr_t)__builtin_return_address(0)) ||
        ((uintptr_t)a & (maph.page - 1)))
        return maph_real_mprotect(a, n, prot);
    return maph_mprotect_tracked(a, n, prot, &o);
}
