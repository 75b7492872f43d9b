/*
 * base.h - what every room of the shim shares, and nothing else: symbol
 * visibility, branch hints, the spinlock (fork-safe: a plain int; no
 * allocation; a bounded variant for the fatal-signal path; a wait that
 * lasts asks life.c whether the holder still exists), and the register
 * scrub every door calls on its way out.  shim.h is the
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
/* A wait that has lasted LOCK_STALL spins: in a child that no fork handler
 * reached (clone without CLONE_VM), a lock held at the clone by another
 * thread is never released.  lock_stall_fn, set by the composition root
 * at start-up (lock_on_stall), tells, takes the shim back from the threads
 * that are not there and frees l (NULL: a count being waited for) for
 * this thread; 1 when it did.  Unset (the unit tests), the wait goes on. */
#define LOCK_STALL 256u
extern int (*lock_stall_fn)(lock_t *l);   /* lock.c */
void lock_on_stall(int (*fn)(lock_t *l)); /* start-up, once */
static inline void lock_wait(lock_t *l, unsigned spins)
{
    int (*stalled)(lock_t *);
    if (spins > 64)
        sched_yield();
    if (HS_UNLIKELY(spins % LOCK_STALL == LOCK_STALL - 1) && (stalled = lock_stall_fn) != NULL)
        stalled(l);
}
static inline void lock_take(lock_t *l)
{
    for (unsigned spins = 0; !lock_try(l); spins++)
        lock_wait(l, spins);
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

/* ---- scrub.c: what a hook that kept the books leaves in the thread
 * (block addresses in dead frames and caller-saved registers) cleared,
 * last thing before it returns ---- */
void scrub_init(void);           /* picks the CPU's variant (SSE until then) */
void scrub_frames(size_t bytes); /* bytes of dead stack below the caller, and the registers */
void scrub_regs(void);           /* the registers alone */

/* ---- the fork mark (orphan.c makes it; base/loader.c holds it) ---- */
/* A MADV_WIPEONFORK word: the kernel gives every new address space a
 * zeroed copy, and fork's child handler writes it back.  0 so in a child
 * of clone() without CLONE_VM that no fork handler reached: it shares the
 * parent's MAP_SHARED pages (the state file's cells) and may find the
 * loader's lock held for good by a thread it does not have.  NULL where
 * the kernel cannot tell (before 4.14). */
extern const volatile int *base_fork_mark;
static inline int base_unforked(void)
{
    const volatile int *m = base_fork_mark;
    return HS_UNLIKELY(m != NULL) && HS_UNLIKELY(*m == 0);
}

#endif
