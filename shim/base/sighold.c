/*
 * sighold.c - a signal that the shim's own system calls raise, kept from
 * the host.  The kernel sends SIGXFSZ (a write or ftruncate past
 * RLIMIT_FSIZE) and SIGPIPE (a write to a pipe with no reader) to the
 * thread that made the call; its default kills the whole process.  Around
 * such calls the thread blocks the signal, and afterwards takes back the
 * one its calls raised, then restores its mask: the call fails with EFBIG
 * or EPIPE instead, which the writer reports once.  A signal that was
 * already pending when the hold began (the host's own, or a kill(2) to
 * the thread) is left pending, so the host sees exactly what it would see
 * without the shim.  Other threads' masks are untouched: the host's own
 * writes there get the signal as before.  Async-signal-safe (the fatal
 * snapshot's path takes holds); no allocation; errno is left as the
 * writes left it.
 */
#include <errno.h>
#include <signal.h>
#include <time.h>

#include "base.h"
#include "sysmap.h"

/* The thread's mask by the system call itself (sys_sigmask): the shim
 * interposes pthread_sigmask, a room above this one. */
static void sighold_mask(int how, const sigset_t *set, sigset_t *old)
{
    int saved = errno;
    sys_sigmask(how, set, old);
    errno = saved;
}

void sighold_take(struct sighold *h, int sig)
{
    sigset_t one, pending;
    int e = errno;
    sigemptyset(&one);
    sigaddset(&one, sig);
    h->sig = sig;
    sigemptyset(&h->old); /* the kernel writes its 8 bytes of it */
    sighold_mask(SIG_BLOCK, &one, &h->old);
    /* after the block: sigpending lists blocked signals only */
    h->had = sigpending(&pending) == 0 && sigismember(&pending, sig);
    errno = e;
}

void sighold_drop(struct sighold *h)
{
    sigset_t one, pending;
    int e = errno;
    if (!h->had && sigpending(&pending) == 0 && sigismember(&pending, h->sig)) {
        struct timespec zero = {0, 0};
        sigemptyset(&one);
        sigaddset(&one, h->sig);
        sigtimedwait(&one, NULL, &zero);
    }
    sighold_mask(SIG_SETMASK, &h->old, NULL);
    errno = e;
}
