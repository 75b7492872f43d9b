/*
 * interpose.c - the bench's two floors under heapsnap (scripts/bench,
 * columns "bare" and "walk only"), preloaded in place of the shim:
 *   bare       (built plain) the malloc family forwarded to the next
 *              definition by dlsym(RTLD_NEXT), nothing else: the cost of
 *              interposition alone;
 *   walk only  (built with -DIP_WALK, linked with the shim's
 *              shim/unwind/*.o) the same, plus, on every allocation,
 *              heapsnap's stack capture exactly as its hooks call it
 *              (unwind_again, then unwind_capture and unwind_name on a
 *              miss) under a re-entry guard; a stack is named by a hash of
 *              its frames instead of being interned, and nothing is
 *              recorded.  heapsnap's cost above this is its bookkeeping.
 * dlsym may allocate before the real functions are known: those requests
 * come from a static buffer, and frees into it are dropped.
 */
#define _GNU_SOURCE
#include <dlfcn.h>
#include <errno.h>
#include <link.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>
#include <sys/mman.h>

#ifdef IP_WALK
#include "base/base.h"
#include "unwind/unwind.h"
#endif

#define EXPORT __attribute__((visibility("default")))

static struct {
    void *(*malloc)(size_t);
    void (*free)(void *);
    void *(*calloc)(size_t, size_t);
    void *(*realloc)(void *, size_t);
    int (*posix_memalign)(void **, size_t, size_t);
    void *(*memalign)(size_t, size_t);
    void *(*aligned_alloc)(size_t, size_t);
    int resolving;
} ip;

static _Alignas(16) char ip_boot[1 << 16];
static size_t ip_boot_used;

static void *ip_boot_alloc(size_t n)
{
    n = (n + 15) & ~(size_t)15;
    if (n > sizeof ip_boot - ip_boot_used)
        return NULL;
    void *p = ip_boot + ip_boot_used;
    ip_boot_used += n;
    return p;
}

static int ip_in_boot(const void *p)
{
    return (const char *)p >= ip_boot && (const char *)p < ip_boot + sizeof ip_boot;
}

static void ip_resolve(void)
{
    ip.resolving = 1;
    ip.malloc = dlsym(RTLD_NEXT, "malloc");
    ip.free = dlsym(RTLD_NEXT, "free");
    ip.calloc = dlsym(RTLD_NEXT, "calloc");
    ip.realloc = dlsym(RTLD_NEXT, "realloc");
    ip.posix_memalign = dlsym(RTLD_NEXT, "posix_memalign");
    ip.memalign = dlsym(RTLD_NEXT, "memalign");
    ip.aligned_alloc = dlsym(RTLD_NEXT, "aligned_alloc");
    ip.resolving = 0;
}

#ifdef IP_WALK
_Atomic unsigned hs_rare; /* the shim's base.h word (deferred.c), which unwind_init marks */
__thread struct hs_hot hs_hot; /* ... and its per-thread words, where unwind.c keeps its stack top */
static __thread int ip_guard;
static unsigned ip_depth = 64;

static void *ip_map(size_t n)
{
    void *p = mmap(NULL, n, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
    return p == MAP_FAILED ? NULL : p;
}
static void ip_unmap(void *p, size_t n) { munmap(p, n); }
/* The shim's arena hint that pages are about to be written whole (base.h;
 * the unwinder's rule cache asks it as it grows): a hint, none taken here. */
void arena_populate(void *p, size_t n) { (void)p; (void)n; }
static void ip_nothing(void) {}
static void ip_count(const char *what, uint64_t n) { (void)what; (void)n; }

static const struct unwind_host ip_host = {
    .alloc = ip_map, .free = ip_unmap, .map = ip_map, .iterate_phdr = dl_iterate_phdr,
    .loader_enter = ip_nothing, .loader_leave = ip_nothing, .count = ip_count, .warn = NULL,
};

static int ip_ready;

/* At the first allocation, which may come from a library's constructor
 * before this one's could run (libstdc++'s); under the guard. */
static void ip_init(void)
{
    ip_ready = 1;
    unwind_init(UNWIND_AUTO, 0, &ip_host);
}

/* What hook_record does for a stack, without the trace table. */
__attribute__((noinline)) static void ip_walk(const struct unwind_origin *o)
{
    if (ip_guard)
        return;
    ip_guard = 1;
    int saved = errno;
    if (__builtin_expect(!ip_ready, 0))
        ip_init();
    if (unwind_again(o, ip_depth) == UNWIND_NO_NAME) {
        uintptr_t f[ip_depth + UNWIND_SLACK];
        int truncated, raw;
        unsigned n = unwind_capture(f, ip_depth, &truncated, NULL, o, &raw);
        uint64_t h = 0x9e3779b97f4a7c15ULL;
        for (unsigned i = 0; i < n; i++)
            h = (h ^ f[i]) * 0x100000001b3ULL;
        unwind_name((uint32_t)(h >> 40)); /* below 2^24, as trace ids are */
    }
    errno = saved;
    ip_guard = 0;
}
#define IP_RECORD(p)                                                                      \
    do {                                                                                  \
        struct unwind_origin o_;                                                          \
        UNWIND_ORIGIN(o_);                                                                \
        if (p)                                                                            \
            ip_walk(&o_);                                                                 \
    } while (0)
#else
#define IP_RECORD(p) ((void)(p))
#endif

#define IP_NOINLINE __attribute__((noinline))

EXPORT IP_NOINLINE void *malloc(size_t n)
{
    if (!ip.malloc) {
        if (ip.resolving)
            return ip_boot_alloc(n);
        ip_resolve();
    }
    void *p = ip.malloc(n);
    IP_RECORD(p);
    return p;
}

EXPORT void free(void *p)
{
    if (!p || ip_in_boot(p))
        return;
    if (!ip.free)
        ip_resolve();
    ip.free(p);
}

EXPORT IP_NOINLINE void *calloc(size_t n, size_t k)
{
    if (!ip.calloc) {
        if (ip.resolving)
            return ip_boot_alloc(n * k); /* static: zeroed */
        ip_resolve();
    }
    void *p = ip.calloc(n, k);
    IP_RECORD(p);
    return p;
}

EXPORT IP_NOINLINE void *realloc(void *q, size_t n)
{
    if (!ip.realloc)
        ip_resolve();
    if (ip_in_boot(q)) {
        void *p = ip.malloc(n);
        if (p)
            memcpy(p, q, n < (size_t)(ip_boot + sizeof ip_boot - (char *)q)
                             ? n : (size_t)(ip_boot + sizeof ip_boot - (char *)q));
        return p;
    }
    void *p = ip.realloc(q, n);
    IP_RECORD(p);
    return p;
}

EXPORT IP_NOINLINE int posix_memalign(void **out, size_t a, size_t n)
{
    if (!ip.posix_memalign)
        ip_resolve();
    int r = ip.posix_memalign(out, a, n);
    IP_RECORD(r == 0 ? *out : NULL);
    return r;
}

EXPORT IP_NOINLINE void *memalign(size_t a, size_t n)
{
    if (!ip.memalign)
        ip_resolve();
    void *p = ip.memalign(a, n);
    IP_RECORD(p);
    return p;
}

EXPORT IP_NOINLINE void *aligned_alloc(size_t a, size_t n)
{
    if (!ip.aligned_alloc)
        ip_resolve();
    void *p = ip.aligned_alloc(a, n);
    IP_RECORD(p);
    return p;
}
