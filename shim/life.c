/*
 * life.c - the shim's process life: start-up, exit, fork, the helper
 * thread and the fatal-signal path (docs/design.md, "Process life").
 *
 * Start-up (the constructor): real functions, options, clocks, own text
 * range, the atexit snapshot (after the program's own handlers), fork and
 * fatal handlers, the helper thread; recording starts last (earlier blocks
 * are "foreign").  Under AT_SECURE none of this starts: the hooks forward.
 *   Rules: the HEAPSNAP_SIGNAL handler only posts a semaphore; the helper
 * thread (every signal blocked, joinable: creds.c stops it around set*id)
 * does the work.  A fatal signal's thread writes its own snapshot with
 * bounded lock attempts, then restores the old disposition and re-raises.
 * fork's prepare takes every shim lock in root.h's order; both sides
 * release them, and the child restarts its helper lazily.  _exit and
 * _Exit write the exit snapshot only in a process that ran our constructor
 * or fork handler (not a vfork child or a raw clone), and never from
 * inside the shim (guard_on).
 */
#include <errno.h>
#include <pthread.h>
#include <semaphore.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <dlfcn.h>
#include <link.h>
#include <fcntl.h>
#include <linux/close_range.h>
#include <sys/syscall.h>
#include <unistd.h>

#include "root.h"
#include "python/python.h"
#include "snapshot.h"

#define LIFE_NFATAL 5
/* The helper's stack: the snapshot writer and the leak check keep their
 * data in the arena, and glibc's default (8 MiB of address space) would
 * count against a program's RLIMIT_AS. */
#define LIFE_HELPER_STACK (256u * 1024u)

static const int life_fatal_sigs[LIFE_NFATAL] = {SIGSEGV, SIGBUS, SIGABRT, SIGFPE, SIGILL};

static struct {
    int sig;                  /* HEAPSNAP_SIGNAL, 0 = off */
    int wake_ok;              /* wake is initialised: a helper may run */
    sem_t wake;               /* signal handler -> helper thread */
    atomic_int signalled;     /* HEAPSNAP_SIGNALs not yet taken */
    atomic_int need_helper;   /* the child of a fork must start one */
    lock_t helper_lock;       /* helper, helper_on: starting and stopping it */
    int helper_on;            /* helper is running (joinable) */
    atomic_int helper_quit;   /* life_helper_pause asks it to return */
    atomic_int paused;        /* set*id calls under way: no helper starts */
    _Atomic uint64_t setid_at; /* monotonic time of the last set*id call's end */
    pthread_t helper;
    atomic_int in_fatal;      /* the fatal snapshot is being written */
    struct sigaction old_fatal[LIFE_NFATAL]; /* dispositions we replaced */
    int fatal_installed[LIFE_NFATAL];
    pid_t pid;                /* the process our constructor/fork handler ran in */
    void (*real_exit)(int);   /* the next _exit (dlsym), or NULL: exit_group */
    atomic_int exited;        /* the _exit snapshot was taken */
    atomic_int ended;         /* life_atexit ran (CPython's finalization, exit, _exit) */
    atomic_int detached;      /* ... and detached: nothing more is written */
    struct sigaction old_sig; /* HEAPSNAP_SIGNAL's disposition before an attach */
    int forked;               /* a fork child that has not exec'd (HEAPSNAP_CHILDREN) */
} life;

static HS_NOINLINE void life_start_helper(void);

/* Called now and then from the allocation slow path (guard_on set). */
void life_tick(void)
{
    if (HS_UNLIKELY(atomic_load_explicit(&life.need_helper, memory_order_relaxed)))
        life_start_helper();
    timeline_tick();
}

/* ---------------- HEAPSNAP_SIGNAL and the helper thread ---------------- */

static void life_on_signal(int sig)
{
    int saved = errno;
    atomic_fetch_add(&life.signalled, 1);
    sem_post(&life.wake);
    errno = saved;
}

static uint64_t life_interval_ns(void)
{
    return (uint64_t)opt_int(OPT_INTERVAL) * 1000000ull; /* milliseconds */
}

/* Waits for a post (a signal, or life_helper_pause) or until the
 * monotonic time `until` (0: no limit), unless one is already owed; 1 when
 * a signal asked for a snapshot (those that came meanwhile: one). */
static int life_wait(uint64_t until)
{
    int r = 0;
    if (!atomic_load(&life.signalled) && !atomic_load(&life.helper_quit)) {
        if (until) {
            struct timespec ts = {(time_t)(until / 1000000000u), (long)(until % 1000000000u)};
            r = sem_clockwait(&life.wake, CLOCK_MONOTONIC, &ts);
        } else {
            r = sem_wait(&life.wake);
        }
    }
    if (r == 0)
        while (sem_trywait(&life.wake) == 0)
            ;
    return !atomic_load(&life.helper_quit) && atomic_exchange(&life.signalled, 0) > 0;
}

/* The earlier of two monotonic deadlines, 0 meaning none. */
static uint64_t life_earlier(uint64_t a, uint64_t b)
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
static void life_helper_fds(void)
{
    int chan = rchan_fd_number();
    if (syscall(SYS_close_range, 0u, ~0u, CLOSE_RANGE_UNSHARE) != 0)
        return;
    /* 0, 1 and 2 are a pidfd of this process (writes there fail, and no
     * file of the helper's takes those numbers); messages fetch the
     * program's fd 2 through it (options.c) */
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

static void *life_helper(void *arg)
{
    uint64_t every = life_interval_ns();
    uint64_t next = every ? clock_mono_ns() + every : 0;
    life_helper_fds();
    guard_enter(); /* for good: the helper's allocations are the shim's */
    stop_own_thread((uintptr_t)pthread_self()); /* the leak check's stop skips it */
    while (!atomic_load(&life.helper_quit)) {
        guard_leave(0); /* frees it deferred (hooks.c) are done now */
        guard_enter();
        if (life_wait(life_earlier(life_earlier(next, sl_due()), state_due())))
            snap_take(HSNAP_REASON_SIGNAL, NULL, 0);
        if (atomic_load(&life.helper_quit))
            break;
        uint64_t due = sl_due();
        if (due && clock_mono_ns() >= due)
            sl_sample();
        due = state_due();
        if (due && clock_mono_ns() >= due)
            state_beat();
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

/* Starts the helper with every signal blocked, so handlers never run on
 * it.  Joinable: life_helper_pause waits for its end.  A thread that finds
 * the helper being started or stopped leaves need_helper set for its next
 * tick. */
static HS_NOINLINE void life_start_helper(void)
{
    sigset_t all, old;
    pthread_attr_t attr;
    if (!life.wake_ok || atomic_load(&life.paused) || !lock_try(&life.helper_lock))
        return;
    if (atomic_load(&life.paused) || life.helper_on ||
        atomic_exchange(&life.need_helper, 0) == 0) {
        lock_drop(&life.helper_lock);
        return;
    }
    sigfillset(&all);
    pthread_sigmask(SIG_BLOCK, &all, &old);
    pthread_attr_init(&attr);
    pthread_attr_setstacksize(&attr, LIFE_HELPER_STACK);
    if (pthread_create(&life.helper, &attr, life_helper, NULL) == 0) {
        life.helper_on = 1;
        stop_own_thread((uintptr_t)life.helper); /* before it runs: a stop skips it */
    }
    else if (life.sig || opt_int(OPT_INTERVAL))
        opt_warn("cannot start the helper thread; no signal or interval snapshots", "", "");
    else /* the siteline alone: not worth a word on the program's stderr */
        opt_debug("cannot start the helper thread; no SITELINE", "", "");
    pthread_attr_destroy(&attr);
    pthread_sigmask(SIG_SETMASK, &old, NULL);
    lock_drop(&life.helper_lock);
}

/* No helper may live across a set*id call (creds.c): it is asked to
 * return, woken, and joined, so that glibc's broadcast no longer sees it,
 * and none starts until every such call is over (a snapshot it is writing
 * is finished first).  Only in the process that owns the helper: not in a
 * vfork child or a raw clone, which share the parent's memory.  1 when
 * paused: life_helper_resume then starts it again, if it ran or was due. */
int life_helper_pause(void)
{
    if (!life.wake_ok || getpid() != life.pid)
        return 0;
    atomic_fetch_add(&life.paused, 1);
    lock_take(&life.helper_lock);
    if (life.helper_on) {
        atomic_store(&life.helper_quit, 1);
        sem_post(&life.wake);
        pthread_join(life.helper, NULL);
        stop_own_thread(0); /* gone: its tid may be a program thread's next */
        life.helper_on = 0;
        atomic_store(&life.helper_quit, 0);
        atomic_store(&life.need_helper, 1);
    }
    lock_drop(&life.helper_lock);
    return 1;
}

/* A program that changes ids often (seteuid around each request) would
 * pay a thread's start and join each time: within LIFE_SETID_QUIET of the
 * last call the helper is left to the next allocation's tick. */
#define LIFE_SETID_QUIET_NS 10000000ull /* 10 ms */
void life_helper_resume(void)
{
    int saved = guard_enter(); /* pthread_create allocates */
    uint64_t now = clock_mono_ns();
    uint64_t last = atomic_exchange(&life.setid_at, now);
    if (atomic_fetch_sub(&life.paused, 1) == 1 && now - last >= LIFE_SETID_QUIET_NS)
        life_start_helper();
    guard_leave(saved);
}

static int life_init_wake(void)
{
    life.wake_ok = sem_init(&life.wake, 0, 0) == 0;
    return life.wake_ok ? 0 : -1;
}

static void life_init_signals(void)
{
    long sig = opt_int(OPT_SIGNAL_ID);
    if (!sig && !opt_int(OPT_INTERVAL) && !sl_step_ns() && !state_on())
        return;
    if (life_init_wake() != 0)
        return;
    if (sig) {
        struct sigaction sa;
        memset(&sa, 0, sizeof sa);
        sa.sa_handler = life_on_signal;
        sa.sa_flags = SA_RESTART;
        sigemptyset(&sa.sa_mask);
        if (sig_install((int)sig, &sa, &life.old_sig) == 0) {
            life.sig = (int)sig;
            sig_watch(life.sig, life_on_signal);
        } else
            opt_warn("cannot handle HEAPSNAP_SIGNAL", "", "");
    }
    atomic_store(&life.need_helper, 1);
    life_start_helper();
}

/* ---------------- fatal signals ---------------- */

static void life_on_fatal(int sig, siginfo_t *si, void *uc)
{
    int saved = errno;
    if (atomic_exchange(&life.in_fatal, 1) == 0) {
        guard_enter(); /* for good: the thread dies */
        if (snap_take(HSNAP_REASON_FATAL, NULL, 1) == 0)
            state_done(); /* one file stays: the snapshot */
    }
    for (int i = 0; i < LIFE_NFATAL; i++)
        if (life_fatal_sigs[i] == sig)
            sig_install(sig, &life.old_fatal[i], NULL);
    /* A fault re-executes the instruction and faults again under the old
     * disposition; a sent signal (kill, raise, abort) must be sent again. */
    if (si->si_code <= 0)
        raise(sig);
    errno = saved;
}

/* Only where the disposition is still the default: a program's own
 * handlers (or SIG_IGN) are left alone. */
static void life_init_fatal(void)
{
    if (!opt_int(OPT_FATAL))
        return;
    for (int i = 0; i < LIFE_NFATAL; i++) {
        struct sigaction sa, old;
        if (sig_install(life_fatal_sigs[i], NULL, &old) != 0 || old.sa_handler != SIG_DFL ||
            (old.sa_flags & SA_SIGINFO))
            continue;
        memset(&sa, 0, sizeof sa);
        sa.sa_sigaction = life_on_fatal;
        sa.sa_flags = SA_SIGINFO | SA_ONSTACK;
        sigemptyset(&sa.sa_mask);
        if (sig_install(life_fatal_sigs[i], &sa, &life.old_fatal[i]) == 0)
            life.fatal_installed[i] = 1;
    }
}

/* ---------------- fork and exit ---------------- */

static __thread int life_fork_guard; /* guard_on before prepare */

/* The lock order of root.h: the snapshot lock comes before the loader gate,
 * because a snapshot holds it while it walks the modules (and the leak
 * check while it gathers roots); closing the gate first and then waiting
 * for the snapshot would wait for a snapshot that waits at the gate. */
static void life_prepare(void)
{
    life_fork_guard = guard_enter(); /* allocations by other fork handlers pass through */
    snap_lock();
    loader_close(); /* only the snapshot lock is held while it waits */
    py_code_lock(); /* shim/python */
    trace_lock();
    pend_lock_all();
    tbl_lock_all();
    reg_lock();
    arena_lock();
    timeline_lock();
    sl_lock();
    arena_maps_hold();
}

static void life_release(void)
{
    arena_maps_release();
    sl_unlock();
    timeline_unlock();
    arena_unlock();
    reg_unlock();
    tbl_unlock_all();
    pend_unlock_all();
    trace_unlock();
    py_code_unlock();
    snap_unlock();
}

static void life_parent(void)
{
    life_release();
    loader_open();
    guard_leave(life_fork_guard);
}

static void life_child(void)
{
    life.pid = getpid();
    life.forked = 1;
    orph_forked();
    life_release();
    loader_reset(); /* the other threads are gone */
    snap_after_fork_child();
    trace_after_fork_child();
    pend_after_fork_child();
    peak_after_fork_child();
    state_after_fork_child(); /* after snap's: the child's own output name */
    life.helper_on = 0; /* the parent's helper is gone */
    atomic_store(&life.paused, 0); /* ... and the parent's set*id calls */
    lock_drop(&life.helper_lock);
    atomic_store(&life.helper_quit, 0);
    atomic_store(&life.signalled, 0);
    if (life.wake_ok && life_init_wake() == 0 &&
        opt_int(OPT_CHILDREN) != OPT_CHILDREN_NONE)
        atomic_store(&life.need_helper, 1);
    guard_leave(life_fork_guard);
}

/* ---------------- children that no fork handler reached ---------------- */

/* The process whose start-up or fork handler ran, neither a vfork child
 * (same memory, another pid) nor a clone child that no handler reached
 * (orphan.c): the only one that writes snapshots. */
int life_own_process(void)
{
    return !orph_foreign() && getpid() == life.pid;
}

/* What fork's child handler would have done, for orphan.c, in a child no
 * handler reached: every lock dropped, the counters of threads that are
 * not here cleared.  What those threads were changing may be half done,
 * so the child records nothing more (and writes no snapshot). */
void life_adopt(void)
{
    hook_set_active(0);
    opt_debug("a clone() child that no fork handler reached waited for a lock held by a "
              "thread it does not have: recording stopped, no snapshot", "", "");
    life_release();
    loader_reset();
    snap_after_fork_child();
    trace_after_fork_child();
    peak_after_fork_child();
    stop_after_fork_child();
}

/* Whether this process writes its exit snapshot (HEAPSNAP_CHILDREN): a fork
 * child writes at exit(), at _exit (quick) when it ran Python code or when
 * asked (a C server's save child would write the whole heap it inherited). */
static int life_writes_at_exit(int quick)
{
    long mode = opt_int(OPT_CHILDREN);
    if (!life.forked || mode == OPT_CHILDREN_ALL)
        return 1;
    return mode == OPT_CHILDREN_EXIT && (!quick || dom_ran);
}

/* HEAPSNAP_EXEC_SNAPSHOT: the image about to exec writes a snapshot
 * (exec.c), in the process that ran our start-up or fork handler (not a
 * vfork child), from outside the shim, and, in a fork child that has not
 * exec'd, only as it would at _exit (HEAPSNAP_CHILDREN=all): a shell
 * forks before every command it execs. */
void life_before_exec(const char *path)
{
    state_exec(path);
    if (!opt_int(OPT_EXEC_SNAPSHOT) || guard_on || !hook_is_active() ||
        !life_writes_at_exit(1) || !life_own_process())
        return;
    int saved = errno;
    guard_enter();
    snap_take(HSNAP_REASON_EXEC, NULL, 0);
    guard_leave(0);
    errno = saved;
}

/* The exec failed: the state file gets its name back, from the helper
 * (it owns the file's pieces), woken now. */
void life_after_exec(void)
{
    int saved = errno;
    if (state_exec_failed() && life.wake_ok && life.helper_on)
        sem_post(&life.wake);
    errno = saved;
}

static HS_NOINLINE void life_atexit(void) /* out of line: the leak check's entry mark */
{
    if (atomic_exchange(&life.ended, 1))
        return; /* written when CPython's finalization began (life_exit_early) */
    if (!life_writes_at_exit(0) || !life_own_process() || atomic_load(&life.detached) ||
        pause_is_on()) {
        state_done(); /* an exit that writes nothing: no state left either */
        return;
    }
    COLLECT_ENTRY_EXIT();
    int held = term_hold(); /* a SIGTERM meanwhile: after the snapshot */
    /* A HEAPSNAP_SIGNAL that came just before exit still gets its snapshot
     * (the helper may not have woken yet; it dies with the process). */
    if (life.wake_ok && atomic_exchange(&life.signalled, 0) > 0)
        snap_take(HSNAP_REASON_SIGNAL, NULL, 0);
    snap_take(HSNAP_REASON_EXIT, NULL, 0);
    state_done(); /* not killed: no state left, written or not */
    term_release(held);
    COLLECT_LEAVE();
}

/* CPython's finalization begins: the exit snapshot while modules hold data. */
void life_exit_early(void)
{
    if (!guard_on && getpid() == life.pid)
        life_atexit();
}

/* The exit snapshot of a process that leaves through _exit (see the top). */
static HS_NOINLINE void life_quick_exit(void)
{
    if (!guard_on && !life_writes_at_exit(1))
        state_done(); /* a child that leaves writing nothing leaves no state */
    if (atomic_load(&life.detached) || guard_on || getpid() != life.pid || !hook_is_active() ||
        !life_writes_at_exit(1) || atomic_exchange(&life.exited, 1))
        return;
    guard_enter();
    life_atexit();
    guard_leave(0);
}

static _Noreturn void life_exit_now(int status)
{
    if (life.real_exit)
        life.real_exit(status);
    for (;;)
        syscall(SYS_exit_group, status);
}

HS_EXPORT _Noreturn void _exit(int status)
{
    life_quick_exit();
    life_exit_now(status);
}

HS_EXPORT _Noreturn void _Exit(int status)
{
    life_quick_exit();
    life_exit_now(status);
}

/* What the snapshot writer asks of the rooms above it. */
static const struct snap_host life_snap_host = {
    .own_process = life_own_process,
    .leak_wanted = lchk_wanted,
    .leak_forked = lchk_forked,
    .leak_inplace = lchk_inplace,
    .can_hold = stop_can_hold,
    .read_suppressions = lsan_read_suppressions,
    .suppressions = lsan_suppressions,
    .state_use = state_put,
    .state_yield = state_yield,
};

/* What degrade_now calls, once: recording stops. */
static void life_stop_recording(void)
{
    hook_set_active(0);
}

/* What recording needs: real functions, options, clocks, the unwinder.
 * Once, from whichever comes first: the constructor, or the first
 * allocation that reaches the hooks (life_start_early).  Guard set. */
static const char *life_conf; /* an attach's options (life_attach), else NULL */

static void life_init_core(void)
{
    static atomic_int done;
    if (atomic_exchange(&done, 1))
        return;
    degrade_on_stop(life_stop_recording);
    snap_set_host(&life_snap_host);
    hook_init();
    sig_init();
    if (cred_secure()) { /* the hooks forward; nothing else starts */
        opt_init_secure();
        tbl_filter_enable(); /* the table stays empty: every free passes at once */
        return;
    }
    if (life_conf)
        opt_init_conf(life_conf);
    else
        opt_init();
    clock_start();
    timeline_init();
    life.pid = getpid();
    orph_init();
    life.real_exit = (void (*)(int))dlsym(RTLD_NEXT, "_exit"); /* always present */
    hook_unwind_init();
    maph_init(); /* the mmap family: its real functions and whose calls are the shim's */
    state_init(); /* before the first block: its sums go to the file */
}

/* An allocation reached the hooks before this library's constructor ran:
 * the constructors of libraries the program links run before a preloaded
 * library's, and their blocks (and leaks) would go unseen.  Recording
 * starts now, once libc has set up the environment (before that the
 * options cannot be read: the allocation passes untracked).  Start-up is
 * single-threaded.  1 when recording. */
int life_start_early(void)
{
    static atomic_int tried;
    /* a load first: a process that never records (AT_SECURE) asks on every
     * allocation, and an exchange would bounce the line between threads */
    if (!environ || atomic_load_explicit(&tried, memory_order_relaxed) ||
        atomic_exchange(&tried, 1))
        return hook_is_active();
    if (cred_secure())
        return 0;
    int saved = guard_enter();
    life_init_core();
    hook_set_active(1);
    guard_leave(saved);
    return 1;
}

/* Loaded late, by dlopen into a running process (heapsnap attach), rather
 * than at start-up: the malloc that the process's modules bind to is not
 * this library's (a preloaded or linked shim's is).  Only the attach build
 * asks: the preloaded one is never loaded late (its static TLS would not
 * fit). */
static int life_loaded_late(void)
{
#ifdef HEAPSNAP_ATTACH_BUILD
    Dl_info mine, theirs;
    void *m = dlsym(RTLD_DEFAULT, "malloc");
    return m && dladdr((void *)life_loaded_late, &mine) && dladdr(m, &theirs) &&
           mine.dli_fbase != theirs.dli_fbase;
#else
    return 0;
#endif
}

/* heapsnap attach (shim/attach): what the constructor does at start-up,
 * now, in a process that runs: options from conf, not the environment; no
 * fatal-signal handlers (a running program's dispositions are left as they
 * are).  0, or -1: this process records nothing (secure execution). */
int life_attach(const char *conf)
{
    static int started;
    int saved = guard_enter();
    if (started) { /* attached before, and detached: the same shim again */
        opt_init_conf(conf);
        clock_start();
        timeline_init(); /* an attach after a detach: a new timeline */
        sl_reset();
        trace_reset_counts(); /* the session's totals and peak are its own */
        state_reattach();
        atomic_store(&life.helper_quit, 0); /* the helper starts again, and stays */
        atomic_store(&life.detached, 0);
        atomic_fetch_sub(&life.paused, 1);
        atomic_store(&life.signalled, 0);
    } else {
        life_conf = conf;
        life_init_core();
        life_conf = NULL;
        if (cred_secure()) {
            guard_leave(saved);
            return -1;
        }
        dom_init();
        atexit(life_atexit);
        pthread_atfork(life_prepare, life_parent, life_child);
        started = 1;
    }
    dom_reattach();
    life_init_signals();
    hook_set_active(1);
    opt_debug("recording from the attach on", "", "");
    guard_leave(saved);
    return 0;
}

/* heapsnap detach: recording stops, the helper is joined and never started
 * again, HEAPSNAP_SIGNAL gets its old disposition back; no exit snapshot
 * will be written.  The hooks keep forwarding for any thread still in one. */
void life_detach(void)
{
    int saved = guard_enter();
    hook_set_active(0);
    atomic_store(&life.detached, 1);
    atomic_fetch_add(&life.paused, 1); /* for good: no helper starts again */
    lock_take(&life.helper_lock);
    if (life.helper_on) {
        atomic_store(&life.helper_quit, 1);
        sem_post(&life.wake);
        pthread_join(life.helper, NULL);
        stop_own_thread(0);
        life.helper_on = 0;
    }
    atomic_store(&life.need_helper, 0);
    lock_drop(&life.helper_lock);
    if (life.sig) {
        sig_install(life.sig, &life.old_sig, NULL);
        life.sig = 0;
    }
    dom_detach();
    stop_release_signal();
    trace_clear(); /* the table's memory back; a free still in a hook finds nothing */
    guard_leave(saved);
}

__attribute__((constructor(101))) static void life_init(void)
{
    if (life_loaded_late()) { /* heapsnap attach: life_attach starts it */
        clock_mark_late();
        return;
    }
    guard_enter();
    life_init_core();
    if (cred_secure()) {
        guard_leave(0);
        return;
    }
    dom_init(); /* shim/python: finds CPython, if any */
    atexit(life_atexit);
    pthread_atfork(life_prepare, life_parent, life_child);
    life_init_fatal();
    life_init_signals();
    hook_set_active(1);
    if (opt_int(OPT_PAUSED))
        pause_stop();
    opt_debug("recording", "", "");
    guard_leave(0);
}
