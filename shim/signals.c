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
 * Everything here is async-signal-safe: sigaction may be called from a
 * handler.
 */
#include <dlfcn.h>
#include <signal.h>
#include <string.h>

#include "root.h"

typedef int (*sig_action_fn)(int, const struct sigaction *, struct sigaction *);

static struct {
    sig_action_fn real;            /* the next sigaction */
    int watched;                   /* the signal the shim handles, 0 = none */
    void (*ours)(int);             /* its handler */
    atomic_int lost;               /* the program took it over */
    atomic_int warned;
} sig;

/* Resolved from the constructor (life_init), before any install. */
void sig_init(void)
{
    sig.real = (sig_action_fn)dlsym(RTLD_NEXT, "sigaction");
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

HS_EXPORT int sigaction(int s, const struct sigaction *act, struct sigaction *old)
{
    int r;
    if (term_sigaction(s, act, old, &r)) /* SIGTERM's default, kept by the shim */
        return r;
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
