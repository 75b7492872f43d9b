/*
 * deferred.c - frees that come while the guard is set.  The guard is set
 * inside a hook; a signal handler that interrupts the hook and frees a
 * tracked block cannot take the table's locks (this thread may hold one),
 * and passing the free on would leave the block in the table: a false
 * leak, and an address the next malloc reuses.  So the block is not freed
 * yet: it is pushed on this thread's stack of deferred frees, linked
 * through its own first word (every block has room for a pointer, and the
 * program gave it up), and freed for real, books first, when the guard is
 * next left clear (guard_leave, base.h).  Pushes are a CAS, so a handler
 * that interrupts a push is safe; the drain takes the whole stack with
 * one exchange.  The hooks decide which frees come here (defer_push) and hands over the
 * real functions (defer_init).  Here too, as the lowest room: the hot
 * path's per-thread words (hs_hot) and errno's place (HS_ERRNO).
 */
#include <errno.h>
#include <string.h>

#include "base.h"

/* The re-entry guard (guard_enter, guard_leave): nonzero while the shim
 * works on this thread, and what it allocates passes through untracked.
 * Here, below every room that sets it, with the frees that wait for it. */
__thread struct hs_hot hs_hot; /* base.h: the hot path's per-thread words */
_Atomic unsigned hs_rare;      /* base.h: the recording hooks' rarer modes */

#ifdef __SEG_FS
uintptr_t hs_errno_at; /* HS_ERRNO */
#endif
void hs_errno_init(void)
{
#ifdef __SEG_FS
    hs_errno_at = (uintptr_t)&errno - (uintptr_t)__builtin_thread_pointer();
#endif
}


/* shim/python's domain wrappers: the block that their own call of the
 * allocator underneath frees or resizes with the guard set is one they
 * have just taken off the books, so it goes straight to the real free or
 * realloc, as defer_drain would send it (pend_unbook finding nothing): no
 * deferred stack, no drain, no copy.  Any other block freed or resized
 * with the guard set (a signal handler's) is deferred as ever. */
__thread uintptr_t defer_offbook;

static struct {
    void (*free)(void *);             /* the real ones: NULL until defer_init */
    void *(*malloc)(size_t);
    size_t (*malloc_usable_size)(void *);
    int (*unbook)(void *, int);       /* pend_unbook: the books, a room above */
    _Atomic uint64_t count;           /* HEAPSNAP_VERBOSE: frees deferred so */
} defer;

void defer_init(void (*real_free)(void *), void *(*real_malloc)(size_t),
                size_t (*real_usable_size)(void *), int (*unbook)(void *, int))
{
    defer.unbook = unbook;
    defer.free = real_free;
    defer.malloc = real_malloc;
    defer.malloc_usable_size = real_usable_size;
}

HS_NOINLINE void defer_push(void *p)
{
    atomic_fetch_add_explicit(&defer.count, 1, memory_order_relaxed);
    void *head = atomic_load_explicit(&defer_stack, memory_order_relaxed);
    do
        *(void **)p = head;
    while (!atomic_compare_exchange_weak_explicit(&defer_stack, &head, p,
                                                  memory_order_relaxed, memory_order_relaxed));
}

/* guard_leave's slow path (the flag is set and cleared here directly: the
 * pair would call back in). */
HS_NOINLINE void defer_drain(void)
{
    void *p;
    while ((p = atomic_exchange_explicit(&defer_stack, NULL, memory_order_relaxed))) {
        guard_on = 1;
        while (p) { /* many are the shim's own, or libc's: not foreign */
            void *next = *(void **)p;
            defer.unbook(p, 1);
            defer.free(p);
            p = next;
        }
        guard_on = 0;
    }
}

/* HEAPSNAP_VERBOSE: how many frees came with the guard set and waited
 * for its end (tests: not the Python wrappers' own, see defer_offbook). */
__attribute__((destructor)) static void defer_report(void)
{
    if (defer.free)
        opt_debug_count("hooks: frees deferred under the guard: ", atomic_load(&defer.count));
}

/* A realloc while the guard is set: a new block, the old one deferred. */
HS_NOINLINE void *defer_realloc(void *p, size_t n)
{
    if (!n) {
        defer_push(p);
        return NULL;
    }
    void *q = defer.malloc(n);
    if (q) {
        size_t had = defer.malloc_usable_size(p);
        memcpy(q, p, had < n ? had : n);
        defer_push(p);
    }
    return q;
}
