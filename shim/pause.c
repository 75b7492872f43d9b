/*
 * pause.c - recording stopped and started again by the program itself
 * (heapsnap_stop / heapsnap_start, tracemalloc's stop() and start()), or
 * stopped from start-up (HEAPSNAP_PAUSED: the pytest plugin, which
 * measures its tests' calls and nothing of pytest's own start-up).
 *
 * Stopped, the hooks pass allocations through unrecorded (as a degraded
 * shim's do) and still take the recorded blocks that are freed off the
 * books; the tables keep what was recorded.  A stop is apart from the
 * degrade's (degrade_now: out of memory): start never resumes a shim
 * that degraded while stopped.  A process that ends stopped writes no
 * exit snapshot (life_atexit), as tracemalloc keeps no traces after its
 * stop(): the program took the snapshots it wanted before.
 *   One thread alone can stop recording its own allocations for a while
 * (heapsnap_thread_recording: the Python package while it builds a
 * Snapshot's objects, as tracemalloc does not trace its own): its sampling
 * countdown is set out of reach, so the hooks' first test passes each of
 * its allocations on unrecorded, at no cost to the hot path; its frees
 * take recorded blocks off the books as ever.
 */
#include "root.h"

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
    if (atomic_exchange(&pause_on, 0) && !degrade_is_on())
        hook_set_active(1);
    guard_leave(saved);
}

int pause_is_on(void)
{
    return atomic_load_explicit(&pause_on, memory_order_relaxed);
}

static __thread int64_t pause_countdown; /* the thread's countdown, kept */
static __thread int pause_thread_off;    /* this thread records nothing */

int pause_thread(int off)
{
    int was = pause_thread_off;
    if (off && !was) {
        pause_countdown = hook_countdown;
        hook_countdown = INT64_MAX;
    } else if (!off && was) {
        hook_countdown = pause_countdown;
    }
    pause_thread_off = off;
    return !was;
}
