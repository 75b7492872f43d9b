/*
 * results.c - the return values of threads that ended but were not joined.
 * Until pthread_join fetches it, an ended joinable thread's return value
 * (what its start routine returned or gave pthread_exit) is the program's:
 * glibc keeps it in the thread's descriptor, inside a stack no root reaches.
 * shim/threads.c hands each such value here when the thread ends
 * (result_keep) and takes it back at pthread_join, its try/timed/clock
 * forms and pthread_detach (result_drop); the values are one root range.
 * A detached thread's value is dropped: nothing can fetch it.
 * No lock (a fork's child or a stopped thread could hold one): a thread's
 * entry is claimed by a compare-and-swap of its key; the collector reads
 * the values with the world stopped.
 */
#include <stdatomic.h>

#include "leakinner.h"

#define RESULT_MAX 1024

static struct {
    _Atomic(uintptr_t) key[RESULT_MAX]; /* pthread_t of the ended thread; 0 = free */
    _Atomic(uintptr_t) val[RESULT_MAX]; /* its return value (one root range) */
    atomic_int warned;
} result;

void result_keep(uintptr_t thread, uintptr_t val)
{
    if (!thread || !val)
        return;
    for (int i = 0; i < RESULT_MAX; i++) /* a stale entry (a join we did not see) */
        if (atomic_load(&result.key[i]) == thread) {
            atomic_store(&result.val[i], val);
            return;
        }
    for (int i = 0; i < RESULT_MAX; i++) {
        uintptr_t free_key = 0;
        if (atomic_compare_exchange_strong(&result.key[i], &free_key, thread)) {
            atomic_store(&result.val[i], val);
            return;
        }
    }
    if (!atomic_exchange(&result.warned, 1))
        collect_host->warn("more than 1024 ended threads not joined: the newest return values "
                           "are not roots of the leak check", "", "");
}

void result_drop(uintptr_t thread)
{
    for (int i = 0; thread && i < RESULT_MAX; i++)
        if (atomic_load(&result.key[i]) == thread) {
            atomic_store(&result.val[i], 0);
            atomic_store(&result.key[i], 0);
        }
}

/* With the world stopped. */
void result_roots(stop_root_fn fn, void *arg)
{
    fn((uintptr_t)result.val, (uintptr_t)(result.val + RESULT_MAX), MODEL_ROOT_STACK, 0, 0, arg);
}
