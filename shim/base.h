/*
 * base.h - what every room of the shim shares, and nothing else: symbol
 * visibility, branch hints, and the spinlock (fork-safe: a plain int; no
 * allocation; a bounded variant for the fatal-signal path).  shim.h is the
 * glue of shim/ itself; shim/unwind/unwind.h and shim/leak/leak.h are the
 * doors of the other rooms.
 */
#ifndef HEAPSNAP_BASE_H
#define HEAPSNAP_BASE_H

#include <sched.h>
#include <stdatomic.h>
#include <stddef.h>
#include <stdint.h>

#define HS_EXPORT __attribute__((visibility("default")))
#define HS_NOINLINE __attribute__((noinline))
#define HS_LIKELY(x) __builtin_expect(!!(x), 1)
#define HS_UNLIKELY(x) __builtin_expect(!!(x), 0)

/* ---- a tiny spinlock: fork-safe (plain int), no allocation, trylock ---- */
typedef struct { atomic_int v; } lock_t;

static inline int lock_try(lock_t *l)
{
    return atomic_load_explicit(&l->v, memory_order_relaxed) == 0 &&
           atomic_exchange_explicit(&l->v, 1, memory_order_acquire) == 0;
}
static inline void lock_take(lock_t *l)
{
    for (unsigned spins = 0; !lock_try(l); spins++)
        if (spins > 64)
            sched_yield();
}
/* Bounded attempt for the fatal-signal path: never hang. */
static inline int lock_take_bounded(lock_t *l, unsigned tries)
{
    while (tries--) {
        if (lock_try(l))
            return 1;
        sched_yield();
    }
    return 0;
}
static inline void lock_drop(lock_t *l)
{
    atomic_store_explicit(&l->v, 0, memory_order_release);
}

#endif
