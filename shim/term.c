/*
 * term.c - SIGTERM left at its default: a Python worker ended by
 * Pool.terminate() (or `with Pool()`) writes its snapshot before it dies,
 * rather than a state file as old as its last beat.
 *
 * At start-up, where SIGTERM's disposition is SIG_DFL, the shim's handler
 * takes its place.  In a process that ran Python code (dom_ran) it writes a
 * snapshot (bounded lock attempts, as the fatal path), then puts SIG_DFL
 * back and raises the signal again: the process ends with the default's
 * status.  A C program's end is as before (its state file).  A SIGTERM
 * during the exit snapshot waits for it (term_hold); one that finds its
 * thread inside the shim comes back a moment later (term_retry).  The host
 * never sees the handler: sigaction (signals.c) asks term_sigaction
 * first, which reports SIG_DFL while ours stands in for it, keeps ours when
 * the host sets SIG_DFL, and steps aside for good when the host sets a
 * handler or SIG_IGN, installed exactly as asked.  Not under attach, nor
 * with HEAPSNAP_FATAL=0.
 */
#include <errno.h>
#include <pthread.h>
#include <signal.h>
#include <string.h>
#include <sys/syscall.h>
#include <time.h>
#include <unistd.h>

#include "root.h"

static struct {
    atomic_int ours;      /* our handler stands in for the host's SIG_DFL */
    atomic_int firing;    /* the snapshot is being written */
    atomic_int exiting;   /* the exit snapshot is being written (term_hold) */
    atomic_int exit_done; /* ... and was */
    atomic_int pending;   /* a SIGTERM came meanwhile, to another thread */
    atomic_int retries;   /* SIGTERMs that found their thread inside the shim */
    timer_t timer;
    atomic_int timer_ok;  /* 1: made, -1: cannot */
    int (*own_process)(void); /* the root's answer (term_set_own); NULL before */
} term;

void term_set_own(int (*own_process)(void))
{
    term.own_process = own_process;
}

#define TERM_RETRY_NS 2000000L /* the signal comes back after 2 ms ... */
#define TERM_RETRIES 100       /* ... at most this many times, then ends as it is */
#define TERM_PATIENCE_NS 1000000000ull /* the snapshot's wait for another's lock */

/* The thread was inside the shim (a hook, its locks): the signal is sent
 * to it again shortly, by a one-shot timer, rather than written from here.
 * 1 when it will come back. */
static int term_retry(int sig)
{
    if (atomic_fetch_add(&term.retries, 1) >= TERM_RETRIES)
        return 0;
    if (atomic_load(&term.timer_ok) == 0) {
        struct sigevent ev;
        memset(&ev, 0, sizeof ev);
        ev.sigev_notify = SIGEV_THREAD_ID;
        ev.sigev_signo = sig;
        ev._sigev_un._tid = (pid_t)syscall(SYS_gettid);
        atomic_store(&term.timer_ok,
                     syscall(SYS_timer_create, CLOCK_MONOTONIC, &ev, &term.timer) == 0 ? 1 : -1);
    }
    struct itimerspec in = {{0, 0}, {0, TERM_RETRY_NS}};
    return atomic_load(&term.timer_ok) == 1 &&
           syscall(SYS_timer_settime, term.timer, 0, &in, NULL) == 0;
}

/* Ends the process as SIGTERM's default would. */
static void term_die(int sig)
{
    struct sigaction dfl;
    memset(&dfl, 0, sizeof dfl);
    dfl.sa_handler = SIG_DFL;
    sigemptyset(&dfl.sa_mask);
    atomic_store(&term.ours, 0);
    sig_install(sig, &dfl, NULL);
    sigset_t one;
    sigemptyset(&one);
    sigaddset(&one, sig);
    raise(sig); /* pending while a handler runs; delivered as the default */
    sigprocmask(SIG_UNBLOCK, &one, NULL);
}

static void term_on_signal(int sig, siginfo_t *si, void *uc)
{
    (void)si, (void)uc;
    int saved = errno;
    if (atomic_load(&term.exiting) && !atomic_load(&term.exit_done)) {
        atomic_store(&term.pending, 1); /* term_release ends the process */
        errno = saved;
        return;
    }
    int wanted = dom_ran && !atomic_load(&term.exit_done) && atomic_load(&term.ours) &&
                 term.own_process && term.own_process() && hook_is_active() && !pause_is_on() &&
                 opt_int(OPT_CHILDREN) != OPT_CHILDREN_NONE;
    if (wanted && guard_on && term_retry(sig)) {
        errno = saved;
        return;
    }
    if (wanted && !guard_on && atomic_exchange(&term.firing, 1) == 0) {
        guard_enter();
        lock_be_patient(TERM_PATIENCE_NS); /* its locks are other threads' */
        int took = snap_take(HSNAP_REASON_FATAL, NULL, sig);
        lock_be_patient(0);
        if (took == 0) {
            state_done(); /* one file stays: the snapshot */
        } else if (term_retry(sig)) { /* a lock held elsewhere (the helper's beat) */
            guard_leave(0);
            atomic_store(&term.firing, 0);
            errno = saved;
            return;
        }
    }
    term_die(sig);
    errno = saved;
}

/* The exit snapshot begins (life_atexit): a SIGTERM that comes while it is
 * written waits for its end, then ends the process as it would have.  1
 * when SIGTERM was blocked here (term_release's argument). */
int term_hold(void)
{
    if (!atomic_load(&term.ours))
        return 0;
    sigset_t one;
    sigemptyset(&one);
    sigaddset(&one, SIGTERM);
    atomic_store(&term.exiting, 1);
    return pthread_sigmask(SIG_BLOCK, &one, NULL) == 0;
}

void term_release(int held)
{
    if (!atomic_load(&term.exiting))
        return;
    atomic_store(&term.exit_done, 1);
    if (atomic_load(&term.pending) && atomic_load(&term.ours))
        term_die(SIGTERM);
    if (held) { /* one sent to this thread meanwhile is delivered now: term_die */
        sigset_t one;
        sigemptyset(&one);
        sigaddset(&one, SIGTERM);
        pthread_sigmask(SIG_UNBLOCK, &one, NULL);
    }
}

__attribute__((constructor(104))) static void term_init(void)
{
    struct sigaction sa, old;
    if (clock_is_late() || cred_secure() || !hook_is_active() || !opt_int(OPT_FATAL))
        return;
    if (sig_install(SIGTERM, NULL, &old) != 0 || old.sa_handler != SIG_DFL ||
        (old.sa_flags & SA_SIGINFO))
        return;
    memset(&sa, 0, sizeof sa);
    sa.sa_sigaction = term_on_signal;
    sa.sa_flags = SA_SIGINFO | SA_ONSTACK;
    sigemptyset(&sa.sa_mask);
    if (sig_install(SIGTERM, &sa, NULL) == 0)
        atomic_store(&term.ours, 1);
}

/* The host's sigaction of s: 1 when handled here (the result in *r), 0
 * when the real call is to be made as asked. */
int term_sigaction(int s, const struct sigaction *act, struct sigaction *old, int *r)
{
    if (s != SIGTERM || !atomic_load(&term.ours))
        return 0;
    if (act && (act->sa_flags & SA_SIGINFO || act->sa_handler != SIG_DFL)) {
        atomic_store(&term.ours, 0); /* the host's own: installed as asked, for good */
        return 0;
    }
    if (old) { /* what the host set, as it set it: the default */
        memset(old, 0, sizeof *old);
        old->sa_handler = SIG_DFL;
        sigemptyset(&old->sa_mask);
    }
    *r = 0;
    return 1;
}
