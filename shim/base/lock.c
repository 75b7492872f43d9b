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
#include "base.h"

int (*lock_stall_fn)(lock_t *l);

void lock_on_stall(int (*fn)(lock_t *l))
{
    lock_stall_fn = fn;
}
