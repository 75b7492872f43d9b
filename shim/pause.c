/*
 * pause.c - recording stopped and started again by the program itself
 * (heapsnap_stop / heapsnap_start, tracemalloc's stop() and start()), or
 * stopped from start-up (HEAPSNAP_PAUSED: the pytest plugin, which
 * measures its tests' calls and nothing of pytest's own start-up).
 *
 * Stopped, the hooks pass allocations through unrecorded (as a degraded
 * shim's do) and still take the recorded blocks that are freed off the
 * books; the tables keep what was recorded.  A stop is apart from the
 * degrade's (life_degrade: out of memory): start never resumes a shim
 * that degraded while stopped.  A process that ends stopped writes no
 * exit snapshot (life_atexit), as tracemalloc keeps no traces after its
 * stop(): the program took the snapshots it wanted before.
 */
#include "shim.h"

static atomic_int pause_on; /* stopped by pause_stop, not started again */

void pause_stop(void)
{
    int saved = guard_enter();
    if (hook_is_active() && !atomic_exchange(&pause_on, 1))
        hook_set_active(0);
    guard_leave(saved);
}

void pause_start(void)
{
    int saved = guard_enter();
    if (atomic_exchange(&pause_on, 0) && !life_degraded())
        hook_set_active(1);
    guard_leave(saved);
}

int pause_is_on(void)
{
    return atomic_load_explicit(&pause_on, memory_order_relaxed);
}
