/*
 * signals.c - the program's sigaction and signal, interposed so that the
 * shim sees a program take over a signal the shim handles (HEAPSNAP_SIGNAL).
 *
 * The program always wins: its handler is installed exactly as it asked,
 * so its behaviour is what it is without heapsnap (nginx's USR2 still
 * upgrades its binary).  What changes is that heapsnap says so, once, on
 * stderr, and knows that this signal no longer writes snapshots, instead
 * of writing nothing without a word.  A program that later puts the
 * shim's handler back (a save/restore pair) gives the signal back.
 *
 * The shim's own installs go through sig_install, which calls the real
 * sigaction (dlsym RTLD_NEXT; libc's raw syscall wrapper when that fails)
 * and is not watched.  SIGTERM's default is term.c's (term_sigaction).
 *   A handler the shim puts where the program has the default (the fatal
 * signals' snapshot: sig_stand_in) is not the program's to see: a query
 * (no new action) answers the program's own disposition, as it was, until
 * the program sets that signal itself.  CPython's signal module reads
 * every signal's disposition at start-up, and getsignal() answered None
 * ("not installed from Python") for SIGSEGV and the rest, a value that
 * signal.signal() refuses when a program puts it back
 * (test_python_cpython_suite's hostview cases).  A set is passed on
 * whole, its old action the shim's handler: a handler that chains to the
 * one it replaced (faulthandler) still reaches the fatal snapshot.
 *   The one exception to "the program wins" is the leak check's stop
 * signal (sig_keep_open): pthread_sigmask and sigprocmask never block it,
 * since a thread that blocks it (a service's workers block every signal
 * for one signal thread) cannot be stopped, and its registers, the only
 * home of some pointers, could not be read.  The program asked to block a
 * signal it does not use; the shim's handler only saves the registers.
 * Everything here is async-signal-safe: sigaction may be called from a
 * handler.
 */
#include <dlfcn.h>
#include <signal.h>
#include <string.h>

#include <errno.h>

#include "root.h"
#include "sysmap.h"

typedef int (*sig_action_fn)(int, const struct sigaction *, struct sigaction *);
typedef int (*sig_mask_fn)(int, const sigset_t *, sigset_t *);

#define SIG_STANDINS 8 /* the fatal signals (life_fatal_sigs' five) and room to spare */

static struct {
    sig_action_fn real;            /* the next sigaction */
    sig_mask_fn real_thread_mask;  /* the next pthread_sigmask */
    sig_mask_fn real_mask;         /* the next sigprocmask */
    atomic_int open;               /* a signal no mask may block, 0 = none */
    int watched;                   /* the signal the shim handles, 0 = none */
    void (*ours)(int);             /* its handler */
    atomic_int lost;               /* the program took it over */
    atomic_int warned;
    struct {
        atomic_int s;              /* a signal whose handler stands in, 0 = free */
        struct sigaction host;     /* the program's disposition it replaced */
    } standin[SIG_STANDINS];
} sig;

/* Resolved from the constructor (life_init), before any install. */
void sig_init(void)
{
    sig.real = (sig_action_fn)dlsym(RTLD_NEXT, "sigaction");
    sig.real_thread_mask = (sig_mask_fn)dlsym(RTLD_NEXT, "pthread_sigmask");
    sig.real_mask = (sig_mask_fn)dlsym(RTLD_NEXT, "sigprocmask");
}

static int sig_real(int s, const struct sigaction *act, struct sigaction *old)
{
    if (HS_UNLIKELY(!sig.real))
        sig_init();
    return sig.real ? sig.real(s, act, old) : -1;
}

int sig_install(int s, const struct sigaction *act, struct sigaction *old)
{
    return sig_real(s, act, old);
}

/* Watches s, whose handler (installed by the caller) is ours. */
void sig_watch(int s, void (*ours)(int))
{
    sig.ours = ours;
    sig.watched = s;
}

/* 1 while the watched signal still reaches the shim's handler. */
int sig_owned(void)
{
    return sig.watched && !atomic_load(&sig.lost);
}

static void sig_note(int s, const struct sigaction *act)
{
    if (!act || !sig.watched || s != sig.watched)
        return;
    int ours = !(act->sa_flags & SA_SIGINFO) && act->sa_handler == sig.ours;
    atomic_store(&sig.lost, !ours);
    if (!ours && atomic_exchange(&sig.warned, 1) == 0)
        opt_warn("the program installed its own handler for HEAPSNAP_SIGNAL; its handler "
                 "runs and that signal writes no snapshot: choose a signal it does not use",
                 "", "");
}

/* The handler just installed on s is the shim's, standing in for host,
 * the program's own disposition: queries of s answer host from now on,
 * until the program sets s. */
void sig_stand_in(int s, const struct sigaction *host)
{
    for (int i = 0; i < SIG_STANDINS; i++) {
        int zero = 0;
        if (atomic_load(&sig.standin[i].s) == s ||
            atomic_compare_exchange_strong(&sig.standin[i].s, &zero, -1)) {
            sig.standin[i].host = *host;
            atomic_store(&sig.standin[i].s, s);
            return;
        }
    }
}

/* A query of a stood-in signal: 1, *old the program's own disposition.  A
 * set (act) ends the stand-in: 0, the real call answers. */
static int sig_standin_query(int s, const struct sigaction *act, struct sigaction *old)
{
    if (s <= 0)
        return 0;
    for (int i = 0; i < SIG_STANDINS; i++) {
        if (atomic_load(&sig.standin[i].s) != s)
            continue;
        if (act) {
            atomic_store(&sig.standin[i].s, 0);
            return 0;
        }
        if (old)
            *old = sig.standin[i].host;
        return 1;
    }
    return 0;
}

HS_EXPORT int sigaction(int s, const struct sigaction *act, struct sigaction *old)
{
    int r;
    if (term_sigaction(s, act, old, &r)) /* SIGTERM's default, kept by the shim */
        return r;
    if (sig_standin_query(s, act, old))
        return 0;
    r = sig_real(s, act, old);
    if (r == 0)
        sig_note(s, act);
    return r;
}

HS_EXPORT void (*signal(int s, void (*handler)(int)))(int)
{
    struct sigaction act, old;
    memset(&act, 0, sizeof act);
    act.sa_handler = handler;
    act.sa_flags = SA_RESTART; /* glibc's signal() is BSD's: restarting */
    sigemptyset(&act.sa_mask);
    sigaddset(&act.sa_mask, s);
    if (sigaction(s, &act, &old) != 0)
        return SIG_ERR;
    return old.sa_handler;
}

/* ---------------- the stop signal stays deliverable ---------------- */

/* s (the leak check's stop signal) is never blocked by the program's
 * pthread_sigmask or sigprocmask from now on; 0: masks as asked again. */
void sig_keep_open(int s)
{
    atomic_store(&sig.open, s);
}

/* set, less the signal kept open, in *copy; set itself when it holds none. */
static const sigset_t *sig_mask_less(int how, const sigset_t *set, sigset_t *copy)
{
    int s = atomic_load(&sig.open);
    if (!set || !s || how == SIG_UNBLOCK || sigismember(set, s) != 1)
        return set;
    *copy = *set;
    sigdelset(copy, s);
    return copy;
}

HS_EXPORT int pthread_sigmask(int how, const sigset_t *set, sigset_t *old)
{
    sigset_t copy;
    set = sig_mask_less(how, set, &copy);
    if (HS_UNLIKELY(!sig.real_thread_mask))
        sig_init();
    if (sig.real_thread_mask)
        return sig.real_thread_mask(how, set, old);
    int saved = errno, r = sys_sigmask(how, set, old) == 0 ? 0 : errno;
    errno = saved;
    return r;
}

HS_EXPORT int sigprocmask(int how, const sigset_t *set, sigset_t *old)
{
    sigset_t copy;
    set = sig_mask_less(how, set, &copy);
    if (HS_UNLIKELY(!sig.real_mask))
        sig_init();
    return sig.real_mask ? sig.real_mask(how, set, old) : sys_sigmask(how, set, old);
}
