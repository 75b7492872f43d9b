/*
 * helper.c - the shim's helper thread: HEAPSNAP_SIGNAL's handler (it only
 * posts a semaphore) and the thread that does the work it asks for, with
 * the interval snapshots, the site line's samples and the state file's
 * heartbeat (docs/design.md, "Process life"); and a snapshot's second
 * thread, made for one piece of its work (helper_job).
 *
 * The helper runs with every signal blocked, on a small stack, with a
 * descriptor table of its own; it is joinable, so that creds.c can stop it
 * around a set*id call (helper_pause/helper_resume) and heapsnap detach can
 * stop it for good (helper_stop).  fork's child starts its own lazily,
 * from the next allocation's tick (helper_tick).  life.c starts it
 * (helper_init) and calls the rest at fork, exec, exit and attach.
 */
#include <errno.h>
#include <pthread.h>
#include <semaphore.h>
#include <signal.h>
#include <string.h>
#include <time.h>
#include <fcntl.h>
#include <linux/close_range.h>
#include <sys/syscall.h>
#include <unistd.h>

#include "root.h"
#include "snapshot.h"

/* The helper's stack: the snapshot writer and the leak check keep their
 * data in the arena, and glibc's default (8 MiB of address space) would
 * count against a program's RLIMIT_AS. */
#define HELPER_STACK (256u * 1024u)
/* How soon the helper gives back the unwind tables' pages after lookups
 * read them (unwind_drop_tables), and how often it looks when none did:
 * soon enough to come before a program's peak, which follows its first
 * stacks' walks when its heap then grows for a while. */
#define HELPER_DROP_SOON_NS 40000000ull
#define HELPER_DROP_QUIET_NS 100000000ull

static struct {
    int sig;                  /* HEAPSNAP_SIGNAL, 0 = off */
    int wake_ok;              /* wake is initialised: a helper may run */
    sem_t wake;               /* signal handler -> helper thread */
    atomic_int signalled;     /* HEAPSNAP_SIGNALs not yet taken */
    atomic_int need_helper;   /* the child of a fork must start one */
    lock_t helper_lock;       /* thread, helper_on: starting and stopping it */
    int helper_on;            /* the thread is running (joinable) */
    atomic_int helper_quit;   /* helper_pause asks it to return */
    atomic_int paused;        /* set*id calls under way: no helper starts */
    _Atomic uint64_t setid_at; /* monotonic time of the last set*id call's end */
    pthread_t thread;
    pid_t pid;                /* the process wake was initialised in */
    struct sigaction old_sig; /* HEAPSNAP_SIGNAL's disposition before an attach */
} helper;

static void helper_on_signal(int sig)
{
    int saved = errno;
    atomic_fetch_add(&helper.signalled, 1);
    sem_post(&helper.wake);
    errno = saved;
}

static uint64_t helper_interval_ns(void)
{
    return (uint64_t)opt_int(OPT_INTERVAL) * 1000000ull; /* milliseconds */
}

/* Waits for a post (a signal, or helper_pause) or until the
 * monotonic time `until` (0: no limit), unless one is already owed; 1 when
 * a signal asked for a snapshot (those that came meanwhile: one). */
static int helper_wait(uint64_t until)
{
    int r = 0;
    if (!atomic_load(&helper.signalled) && !atomic_load(&helper.helper_quit)) {
        if (until) {
            struct timespec ts = {(time_t)(until / 1000000000u), (long)(until % 1000000000u)};
            r = sem_clockwait(&helper.wake, CLOCK_MONOTONIC, &ts);
        } else {
            r = sem_wait(&helper.wake);
        }
    }
    if (r == 0)
        while (sem_trywait(&helper.wake) == 0)
            ;
    return !atomic_load(&helper.helper_quit) && atomic_exchange(&helper.signalled, 0) > 0;
}

/* The earlier of two monotonic deadlines, 0 meaning none. */
static uint64_t helper_earlier(uint64_t a, uint64_t b)
{
    return !a ? b : !b ? a : a < b ? a : b;
}

/* The helper's descriptors in a table of its own, started empty
 * (close_range's UNSHARE, Linux 5.9: nothing of the program's is copied
 * into it): what it opens - the state file, a document's memfd, a
 * snapshot - never takes, even for an instant, a number the program's
 * next open() expects, and a program that closes all its descriptors does
 * not close the helper's.  Run's channel is fetched into it at its own
 * number (pidfd_getfd, Linux 5.6).  Where the kernel cannot, the table
 * stays the program's (fdhigh.h moves the helper's descriptors up). */
static void helper_fds(void)
{
    int chan = rchan_fd_number();
    if (syscall(SYS_close_range, 0u, ~0u, CLOSE_RANGE_UNSHARE) != 0)
        return;
    /* 0, 1 and 2 are a pidfd of this process (writes there fail, and no
     * file of the helper's takes those numbers); messages fetch the
     * program's fd 2 through it (opt_warn_sink) */
    int pidfd = (int)syscall(SYS_pidfd_open, getpid(), 0); /* 0: the table is empty */
    if (pidfd != 0) { /* no pidfd: /dev/null there, and the helper's messages are lost */
        for (int k = 0; k < 3; k++)
            open("/dev/null", O_RDWR | O_CLOEXEC);
        return;
    }
    dup3(0, 1, O_CLOEXEC);
    dup3(0, 2, O_CLOEXEC);
    opt_err_pidfd = 0;
    int got = chan < 0 ? -1 : (int)syscall(SYS_pidfd_getfd, 0, chan, 0);
    if (got >= 0 && got != chan) {
        dup3(got, chan, O_CLOEXEC);
        close(got);
    }
}

static void *helper_main(void *arg)
{
    uint64_t every = helper_interval_ns();
    uint64_t next = every ? clock_mono_ns() + every : 0;
    uint64_t drop = clock_mono_ns() + HELPER_DROP_SOON_NS;
    helper_fds();
    guard_enter(); /* for good: the helper's allocations are the shim's */
    stop_own_thread((uintptr_t)pthread_self()); /* the leak check's stop skips it */
    while (!atomic_load(&helper.helper_quit)) {
        guard_leave(0); /* frees it deferred (defer_push) are done now */
        guard_enter();
        if (helper_wait(helper_earlier(helper_earlier(next, sl_due()),
                                       helper_earlier(state_due(), drop))))
            snap_take(HSNAP_REASON_SIGNAL, NULL, 0);
        if (atomic_load(&helper.helper_quit))
            break;
        timeline_idle(); /* a thread that freed, then idles: the fall */
        uint64_t due = sl_due();
        if (due && clock_mono_ns() >= due)
            sl_sample();
        due = state_due();
        if (due && clock_mono_ns() >= due)
            state_beat();
        due = clock_mono_ns();
        if (due >= drop)
            drop = due + (unwind_drop_tables() ? HELPER_DROP_SOON_NS : HELPER_DROP_QUIET_NS);
        if (next && clock_mono_ns() >= next) {
            snap_take(HSNAP_REASON_INTERVAL, NULL, 0);
            next += every;
            uint64_t now = clock_mono_ns();
            if (next <= now)
                next = now + every;
        }
    }
    return NULL;
}

/* A thread of the shim's own that runs run: every signal blocked, so
 * handlers never run on it, on the helper's small stack; with own, given
 * to the leak check's stop to skip before the creator's signals come back
 * (stop_own_thread).  1 when made, 0 when not. */
static int helper_thread(pthread_t *t, void *(*run)(void *), int own)
{
    sigset_t all, old;
    pthread_attr_t attr;
    sigfillset(&all);
    pthread_sigmask(SIG_BLOCK, &all, &old);
    pthread_attr_init(&attr);
    pthread_attr_setstacksize(&attr, HELPER_STACK);
    int made = pthread_create(t, &attr, run, NULL) == 0;
    if (made && own)
        stop_own_thread((uintptr_t)*t); /* before it runs: a stop skips it */
    pthread_attr_destroy(&attr);
    pthread_sigmask(SIG_SETMASK, &old, NULL);
    return made;
}

/* Starts the helper with every signal blocked, so handlers never run on
 * it.  Joinable: helper_pause waits for its end.  A thread that finds
 * the helper being started or stopped leaves need_helper set for its next
 * tick. */
static HS_NOINLINE void helper_start(void)
{
    if (!helper.wake_ok || atomic_load(&helper.paused) || !lock_try(&helper.helper_lock))
        return;
    if (atomic_load(&helper.paused) || helper.helper_on ||
        atomic_exchange(&helper.need_helper, 0) == 0) {
        lock_drop(&helper.helper_lock);
        return;
    }
    if (helper_thread(&helper.thread, helper_main, 1))
        helper.helper_on = 1;
    else if (helper.sig || opt_int(OPT_INTERVAL))
        opt_warn("cannot start the helper thread; no signal or interval snapshots", "", "");
    else /* the siteline alone: not worth a word on the program's stderr */
        opt_debug("cannot start the helper thread; no SITELINE", "", "");
    lock_drop(&helper.helper_lock);
}

/* ---------------- a snapshot's second thread ---------------- */

/* A piece of a snapshot's work beside the rest (snapshot.c gives it the
 * Python objects' sections while it writes the stacks'), on a thread made
 * for it and joined before the snapshot is written: every signal blocked,
 * the guard on for good (nothing it maps is the program's), the helper's
 * stack size (the snapshot's passes keep their data in the arena and never
 * recurse).  Not the helper: it may be the one taking the snapshot, or
 * waiting for the snapshot lock.  Made under the snapshot's guard, so the
 * interposed pthread_create registers no program thread. */
static struct {
    void (*fn)(void *);
    void *arg;
    pthread_t thread;
    int on; /* a thread runs the piece: helper_job_wait joins it */
} job;

static void *helper_job_main(void *unused)
{
    (void)unused;
    guard_enter(); /* for good */
    job.fn(job.arg);
    return NULL;
}

int helper_job(void (*fn)(void *), void *arg)
{
    job.fn = fn;
    job.arg = arg;
    job.on = helper_thread(&job.thread, helper_job_main, 0); /* no stop while it runs */
    if (job.on)
        return 1;
    fn(arg);
    return 0;
}

void helper_job_wait(void)
{
    if (job.on)
        pthread_join(job.thread, NULL);
    job.on = 0;
}

/* No helper may live across a set*id call (cred_init): it is asked to
 * return, woken, and joined, so that glibc's broadcast no longer sees it,
 * and none starts until every such call is over (a snapshot it is writing
 * is finished first).  Only in the process that owns the helper: not in a
 * vfork child or a raw clone, which share the parent's memory.  1 when
 * paused: helper_resume then starts it again, if it ran or was due. */
int helper_pause(void)
{
    if (!helper.wake_ok || getpid() != helper.pid)
        return 0;
    atomic_fetch_add(&helper.paused, 1);
    lock_take(&helper.helper_lock);
    if (helper.helper_on) {
        atomic_store(&helper.helper_quit, 1);
        sem_post(&helper.wake);
        pthread_join(helper.thread, NULL);
        stop_own_thread(0); /* gone: its tid may be a program thread's next */
        helper.helper_on = 0;
        atomic_store(&helper.helper_quit, 0);
        atomic_store(&helper.need_helper, 1);
    }
    lock_drop(&helper.helper_lock);
    return 1;
}

/* A program that changes ids often (seteuid around each request) would
 * pay a thread's start and join each time: within HELPER_SETID_QUIET of the
 * last call the helper is left to the next allocation's tick. */
#define HELPER_SETID_QUIET_NS 10000000ull /* 10 ms */
void helper_resume(void)
{
    int saved = guard_enter(); /* pthread_create allocates */
    uint64_t now = clock_mono_ns();
    uint64_t last = atomic_exchange(&helper.setid_at, now);
    if (atomic_fetch_sub(&helper.paused, 1) == 1 && now - last >= HELPER_SETID_QUIET_NS)
        helper_start();
    guard_leave(saved);
}

static int helper_init_wake(void)
{
    helper.pid = getpid(); /* life_init_core's, or fork's child's */
    helper.wake_ok = sem_init(&helper.wake, 0, 0) == 0;
    return helper.wake_ok ? 0 : -1;
}

void helper_init(void)
{
    long sig = opt_int(OPT_SIGNAL_ID);
    if (!sig && !opt_int(OPT_INTERVAL) && !sl_step_ns() && !state_on())
        return;
    if (helper_init_wake() != 0)
        return;
    if (sig) {
        struct sigaction sa;
        memset(&sa, 0, sizeof sa);
        sa.sa_handler = helper_on_signal;
        sa.sa_flags = SA_RESTART;
        sigemptyset(&sa.sa_mask);
        if (sig_install((int)sig, &sa, &helper.old_sig) == 0) {
            helper.sig = (int)sig;
            sig_watch(helper.sig, helper_on_signal);
        } else
            opt_warn("cannot handle HEAPSNAP_SIGNAL", "", "");
    }
    atomic_store(&helper.need_helper, 1);
    helper_start();
}

/* Called now and then from the allocation slow path (life_tick). */
void helper_tick(void)
{
    if (HS_UNLIKELY(atomic_load_explicit(&helper.need_helper, memory_order_relaxed)))
        helper_start();
    else if (state_stacks_owed())
        helper_wake(); /* it sleeps till its next beat */
}

/* fork's child handler: the parent's helper is gone; the child starts its
 * own at its next tick, unless HEAPSNAP_CHILDREN=none. */
void helper_after_fork_child(void)
{
    helper.helper_on = 0; /* the parent's helper is gone */
    atomic_store(&helper.paused, 0); /* ... and the parent's set*id calls */
    lock_drop(&helper.helper_lock);
    atomic_store(&helper.helper_quit, 0);
    atomic_store(&helper.signalled, 0);
    if (helper.wake_ok && helper_init_wake() == 0 &&
        opt_int(OPT_CHILDREN) != OPT_CHILDREN_NONE)
        atomic_store(&helper.need_helper, 1);
}

/* 1 when this process's helper thread runs (thr_alone counts it). */
int helper_running(void)
{
    return helper.wake_ok && helper.helper_on && getpid() == helper.pid;
}

/* Wakes a running helper now (life_after_exec: the state file's name). */
void helper_wake(void)
{
    if (helper.wake_ok && helper.helper_on)
        sem_post(&helper.wake);
}

/* 1 when a HEAPSNAP_SIGNAL came that the helper has not taken yet (taken
 * now: the exit snapshot's caller writes it). */
int helper_signal_owed(void)
{
    return helper.wake_ok && atomic_exchange(&helper.signalled, 0) > 0;
}

/* An attach after a detach: the helper may start again, and stays. */
void helper_reattach(void)
{
    atomic_store(&helper.helper_quit, 0); /* the helper starts again, and stays */
    atomic_fetch_sub(&helper.paused, 1);
    atomic_store(&helper.signalled, 0);
}

/* heapsnap detach: the helper is joined and never started again;
 * HEAPSNAP_SIGNAL gets its old disposition back. */
void helper_stop(void)
{
    atomic_fetch_add(&helper.paused, 1); /* for good: no helper starts again */
    lock_take(&helper.helper_lock);
    if (helper.helper_on) {
        atomic_store(&helper.helper_quit, 1);
        sem_post(&helper.wake);
        pthread_join(helper.thread, NULL);
        stop_own_thread(0);
        helper.helper_on = 0;
    }
    atomic_store(&helper.need_helper, 0);
    lock_drop(&helper.helper_lock);
    if (helper.sig) {
        sig_install(helper.sig, &helper.old_sig, NULL);
        helper.sig = 0;
    }
}
