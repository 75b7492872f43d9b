/*
 * lock.c - what base.h's spinlock asks when a wait lasts.  The lock itself
 * is inline (lock_take, lock_wait); a wait of LOCK_STALL spins calls
 * lock_stall_fn when one is set.  Only the composition root knows whether
 * the holder can still exist (a clone child that no fork handler reached
 * has none of the parent's other threads) and how to take the shim back,
 * so it hands the answer down once at start-up (orph_init) instead of
 * base reaching up for it.  Until then, and in unit tests that link a
 * room alone, a wait just goes on.
 */
#include <time.h>

#include "base.h"

#define LOCK_NAP_NS 200000L /* lock_take_patient's sleep between attempts */

__thread uint64_t lock_patient_until;

/* CLOCK_MONOTONIC itself, not clock_now_ns: a room's unit tests link lock.c
 * alone (clock_gettime is async-signal-safe) */
static uint64_t lock_now_ns(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (uint64_t)ts.tv_sec * 1000000000u + (uint64_t)ts.tv_nsec;
}

int (*lock_stall_fn)(lock_t *l);

void lock_on_stall(int (*fn)(lock_t *l))
{
    lock_stall_fn = fn;
}

void lock_be_patient(uint64_t ns)
{
    lock_patient_until = ns ? lock_now_ns() + ns : 0;
}

int lock_take_patient(lock_t *l)
{
    const struct timespec nap = {0, LOCK_NAP_NS};
    for (;;) {
        if (lock_try(l))
            return 1;
        if (lock_now_ns() >= lock_patient_until)
            return 0;
        nanosleep(&nap, NULL); /* async-signal-safe; EINTR just tries again */
    }
}
