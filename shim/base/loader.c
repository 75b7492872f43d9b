/*
 * loader.c - the loader gate: every call of the shim that takes glibc's
 * loader lock (dl_iterate_phdr, libunwind, dlsym) is counted, and fork's
 * prepare closes the gate and waits until none is inside (root.h's lock
 * order, entry 2).
 */
#include <link.h>

#include "base.h"

/* The loader lock across fork.  glibc does not take it in fork, so a thread
 * of ours inside dl_iterate_phdr (an unwind's module look-up, a snapshot's
 * module list) when another thread forks would leave the child a loader
 * lock nobody will release, and the child's next dl_iterate_phdr, dlopen or
 * dlsym hangs: test_fresh's forking stress hung about one run in 40.  So
 * every such call of the shim is counted (loader_enter/leave, never
 * nested), and fork's prepare waits until none is running, while new ones
 * wait for the fork.  A thread increments before it looks at the flag and
 * prepare sets the flag before it looks at the count, so one of them sees
 * the other. */
static atomic_int loader_users, loader_forking;
/* base.h; where the kernel cannot tell, a constant 1 (base_unforked's
 * hot path reads it without a test for NULL). */
static const int base_fork_none = 1;
const volatile int *base_fork_mark = &base_fork_none;

void loader_enter(void)
{
    for (;;) {
        atomic_fetch_add(&loader_users, 1);
        if (!atomic_load(&loader_forking))
            return;
        atomic_fetch_sub(&loader_users, 1);
        for (unsigned spins = 0; atomic_load(&loader_forking); spins++)
            lock_wait(NULL, spins + 65);
    }
}

void loader_leave(void)
{
    atomic_fetch_sub(&loader_users, 1);
}

/* Every module walk of the shim: dl_iterate_phdr inside the guard.  None
 * in a child that no fork handler reached (base.h): a thread of the parent
 * that was inside dl_iterate_phdr at the clone holds the loader's lock
 * there for good; the walk finds no module. */
int loader_iterate_phdr(int (*cb)(struct dl_phdr_info *, size_t, void *), void *data)
{
    if (base_unforked() && !atomic_load(&loader_forking))
        return 0;
    loader_enter();
    int r = dl_iterate_phdr(cb, data);
    loader_leave();
    return r;
}

/* fork's prepare: new callers wait, and those inside are waited for. */
void loader_close(void)
{
    atomic_store(&loader_forking, 1);
    for (unsigned spins = 0; atomic_load(&loader_users); spins++)
        lock_wait(NULL, spins + 65);
}

void loader_open(void)
{
    atomic_store(&loader_forking, 0);
}

/* fork's prepare has run and its child handler not yet: a fork child
 * (whose handler is about to run) rather than one no handler reaches. */
int loader_closed(void)
{
    return atomic_load(&loader_forking);
}

/* A child: the threads that were inside are not here. */
void loader_reset(void)
{
    atomic_store(&loader_users, 0);
    atomic_store(&loader_forking, 0);
}
