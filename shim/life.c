/*
 * life.c - the shim's process life: start-up, exit, fork, attach and
 * the fatal-signal path (docs/design.md, "Process life").
 *
 * Start-up (the constructor): real functions, options, clocks, own text
 * range, the atexit snapshot (after the program's own handlers), fork and
 * fatal handlers, the helper thread (helper.c); recording starts last
 * (earlier blocks are "foreign").  Under AT_SECURE none of this starts:
 * the hooks forward.  A fatal signal's thread writes its own snapshot with
 * bounded lock attempts, then restores the old disposition and re-raises.
 * fork's prepare takes every shim lock in root.h's order; both sides
 * release them, and the child restarts its helper lazily.  _exit and
 * _Exit write the exit snapshot only in a process that ran our constructor
 * or fork handler (not a vfork child or a raw clone), and never from
 * inside the shim (guard_on).
 */
#include <errno.h>
#include <pthread.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <dlfcn.h>
#include <link.h>
#include <fcntl.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/sysmacros.h>
#include <unistd.h>

#include "root.h"
#include "python.h"
#include "snapshot.h"

#define LIFE_NFATAL 5
#define LIFE_FATAL_PATIENCE_NS 1000000000ull /* a fatal snapshot's wait for locks */
#define LIFE_FATAL_PATIENCE_IN_NS 250000000ull /* the same, for a signal in the shim */

static const int life_fatal_sigs[LIFE_NFATAL] = {SIGSEGV, SIGBUS, SIGABRT, SIGFPE, SIGILL};

static struct {
    atomic_int in_fatal;      /* the fatal snapshot is being written */
    struct sigaction old_fatal[LIFE_NFATAL]; /* dispositions we replaced */
    int fatal_installed[LIFE_NFATAL];
    pid_t pid;                /* the process our constructor/fork handler ran in */
    void (*real_exit)(int);   /* the next _exit (dlsym), or NULL: exit_group */
    pid_t (*real_fork)(void); /* the next fork (dlsym), or NULL: glibc's __fork */
    atomic_int exited;        /* the _exit snapshot was taken */
    atomic_int ended;         /* life_atexit ran (CPython's finalization, exit, _exit) */
    atomic_int detached;      /* ... and detached: nothing more is written */
    atomic_int finished;      /* Python's exit snapshot written: recording stopped */
    int forked;               /* a fork child that has not exec'd (HEAPSNAP_CHILDREN) */
} life;

/* Called now and then from the allocation slow path (guard_on set). */
void life_tick(void)
{
    helper_tick();
    timeline_tick();
}


/* ---------------- fatal signals ---------------- */

static void life_on_fatal(int sig, siginfo_t *si, void *uc)
{
    int saved = errno;
    if (atomic_exchange(&life.in_fatal, 1) == 0) {
        /* Outside the shim this thread holds none of its locks: those it
         * waits for are another thread's, which lets go when it runs.
         * Inside it (the allocator stops a bad free in the real free a
         * hook calls, test_badfree.sh) it may hold one, whose wait then
         * ends at the shorter deadline; mostly it holds none, and the
         * snapshot lock is the helper's, writing the state file on a
         * loaded machine: 2000 yields alone lost that snapshot. */
        int in_shim = guard_enter(); /* for good: the thread dies */
        lock_be_patient(in_shim ? LIFE_FATAL_PATIENCE_IN_NS : LIFE_FATAL_PATIENCE_NS);
        if (snap_take(HSNAP_REASON_FATAL, NULL, sig) == 0)
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
        if (sig_install(life_fatal_sigs[i], &sa, &life.old_fatal[i]) == 0) {
            life.fatal_installed[i] = 1;
            sig_stand_in(life_fatal_sigs[i], &life.old_fatal[i]); /* the program sees its own */
        }
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
    roots_user_lock();
    pyfr_code_lock(); /* shim/python */
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
    pyfr_code_unlock();
    roots_user_unlock();
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
    helper_after_fork_child();
    guard_leave(life_fork_guard);
}

/* fork, interposed for one thing: the parent tells `heapsnap run` its
 * child's pid before fork returns (rchan_tell_kin), so that a command that
 * forks a background job and exits at once (`sh -c 'job &'`) leaves run a
 * pid to wait for, where the child's own handler may not have run yet.
 * Everything else is the next fork's: the handlers above run inside it.
 * Before our constructor found the next one (another library's
 * constructor forks), glibc's own, __fork. */
extern pid_t __fork(void);

/* A close that leaves errno alone (glibc's __close_nocancel_nostatus). */
static void life_close_quietly(int fd)
{
    int saved = errno;
    (void)syscall(SYS_close, fd);
    errno = saved;
}

void life_made(pid_t pid)
{
    rchan_tell_kin(pid);
}

HS_EXPORT pid_t fork(void)
{
    pid_t p = life.real_fork ? life.real_fork() : __fork();
    if (p > 0)
        life_made(p);
    return p;
}

/* daemon, interposed for fork's reason: glibc's forks by its internal
 * __fork, past the fork above, and its parent leaves by its internal
 * _exit, past ours, at once: the parent wrote no snapshot (run named it
 * killed), and run, told of no child, returned before the daemon's
 * handler told it anything (the daemon's state file left unnamed, its
 * snapshot unlisted).  This is glibc's daemon (misc/daemon.c) step for step,
 * through the fork and _exit above: the same calls, results and errno;
 * /dev/null is checked to be the character device 1:3, as glibc's Linux
 * build checks it (DEV_NULL_MAJOR, DEV_NULL_MINOR), and opened and, on
 * failure, closed without a cancellation point and, for the close, without
 * touching errno, as glibc's nocancel calls do. */
HS_EXPORT int daemon(int nochdir, int noclose)
{
    pid_t p = fork();
    if (p == -1)
        return -1;
    if (p > 0)
        _exit(0);
    if (setsid() == -1)
        return -1;
    if (!nochdir && chdir("/") != 0) {
        /* glibc's daemon goes on as well */
    }
    if (noclose)
        return 0;
    int fd = (int)syscall(SYS_openat, AT_FDCWD, "/dev/null", O_RDWR);
    struct stat st;
    if (fd != -1 && fstat(fd, &st) == 0) {
        if (S_ISCHR(st.st_mode) && st.st_rdev == makedev(1, 3)) {
            (void)dup2(fd, STDIN_FILENO);
            (void)dup2(fd, STDOUT_FILENO);
            (void)dup2(fd, STDERR_FILENO);
            if (fd > 2)
                (void)close(fd);
            return 0;
        }
        life_close_quietly(fd);
        errno = ENODEV;
        return -1;
    }
    life_close_quietly(fd);
    return -1;
}

/* ---------------- children that no fork handler reached ---------------- */

/* The process whose start-up or fork handler ran, neither a vfork child
 * (same memory, another pid) nor a clone child that no handler reached
 * (orph_forked), nor past its Python exit snapshot (life_exit_early): the
 * only one that writes snapshots. */
int life_own_process(void)
{
    return !orph_foreign() && getpid() == life.pid && !atomic_load(&life.finished);
}

/* What fork's child handler would have done, for orph_forked, in a child no
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
 * (exec_init's hooks), in the process that ran our start-up or fork handler (not a
 * vfork child), from outside the shim, and, in a fork child that has not
 * exec'd, only as it would at _exit (HEAPSNAP_CHILDREN=all): a shell
 * forks before every command it execs. */
void life_before_exec(const char *path)
{
    if (getpid() != life.pid) /* a vfork child: its parent returns after the exec */
        life_made(getpid());
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

/* Whether an exit snapshot that failed with err leaves the state file as
 * that end's record: no memory (a program at its address-space limit,
 * where the shim has none left either), or no right to write where the
 * snapshot goes (a worker that became another user, as nginx's become
 * nobody, in its root's directory; a read-only one): a state file there
 * could not be removed either, and read as a kill.  A full disk is not:
 * the state's blocks are what the snapshot's second try needs
 * (snap_write_last), and the file goes to give them back. */
static int life_state_stays(int err)
{
    return err == ENOMEM || err == EACCES || err == EPERM || err == EROFS;
}

/* The exec failed: the state file gets its name back, from the helper
 * (it owns the file's pieces), woken now. */
void life_after_exec(void)
{
    int saved = errno;
    if (state_exec_failed())
        helper_wake();
    errno = saved;
}

static HS_NOINLINE void life_atexit(void) /* out of line: the leak check's entry mark */
{
    if (atomic_exchange(&life.ended, 1))
        return; /* written when CPython's finalization began (life_exit_early) */
    if (!life_writes_at_exit(0) || !life_own_process() || atomic_load(&life.detached) ||
        pause_is_on()) {
        if (pause_is_on() && life_writes_at_exit(0) && life_own_process() &&
            !atomic_load(&life.detached))
            rchan_tell_stopped(); /* run says why there is no snapshot */
        state_done(); /* an exit that writes nothing: no state left either */
        return;
    }
    COLLECT_ENTRY_EXIT();
    int held = term_hold(); /* a SIGTERM meanwhile: after the snapshot */
    /* A HEAPSNAP_SIGNAL that came just before exit still gets its snapshot
     * (the helper may not have woken yet; it dies with the process). */
    if (helper_signal_owed())
        snap_take(HSNAP_REASON_SIGNAL, NULL, 0);
    unwind_drop_tables(); /* the walks' last reads leave before the writer's buffers come */
    /* Not killed: no state left, written or not; but where the snapshot
     * could not be written for want of memory or of the right to write
     * (life_state_stays), the state file, whose sums the hooks kept to the
     * end, is the record: it stays, and run names it. */
    if (snap_take(HSNAP_REASON_EXIT, NULL, 0) == 0 || !life_state_stays(snap_fail_err())) {
        state_done();
    } else {
        (void)helper_pause(); /* its heartbeat and the last one never together; never resumed */
        state_unwritten(snap_fail_err());
    }
    term_release(held);
    COLLECT_LEAVE();
}

/* CPython's finalization begins: the exit snapshot while modules hold data.
 * Nothing is written after it (exit() finds life.ended), so the hooks
 * forward from here on: the teardown's frees and allocations are no
 * snapshot's, and recording them cost the end of every Python run.  The
 * process is then no longer one to write for (life_own_process): a
 * HEAPSNAP_SIGNAL or a SIGTERM in the teardown writes nothing from
 * tables the hooks no longer keep. */
void life_exit_early(void)
{
    if (guard_on || getpid() != life.pid)
        return;
    life_atexit();
    atomic_store(&life.finished, 1);
    int saved = guard_enter(); /* as life_detach stops them */
    hook_set_active(0);
    hook_books_close();
    dom_close();
    guard_leave(saved);
}

/* The exit snapshot of a process that leaves through _exit (see the top). */
static HS_NOINLINE void life_quick_exit(void)
{
    if (!guard_on && !life_writes_at_exit(1))
        state_done(); /* a child that leaves writing nothing leaves no state */
    if (atomic_load(&life.detached) || guard_on || getpid() != life.pid ||
        (!hook_is_active() && !pause_is_on()) || /* stopped: no state left, run told */
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
    .job = helper_job,
    .job_wait = helper_job_wait,
};

/* What the hooks ask of the root (hooks.h), placed where the first
 * allocation finds it, which may come before this library's constructor. */
static const struct hook_host life_hook_host = {
    .start_early = life_start_early,
    .tick = life_tick,
    .py_poll = dom_poll,
    .orphan_stop = orph_stop,
};
HOOK_HOST_PLACE(life_hook_host);

/* What the state file asks of the root (state.h). */
static const struct state_host life_state_host = {
    .own_process = life_own_process,
    .helper_pause = helper_pause,
    .helper_resume = helper_resume,
    .helper_wake = helper_wake,
};

/* What CPython's domains ask of the root (domain.h). */
static const struct dom_host life_dom_host = {
    .exit_snapshot = life_exit_early,
    .pause = pause_thread,
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
    state_set_host(&life_state_host);
    term_set_own(life_own_process);
    hook_init();
    sig_init();
    if (cred_secure()) { /* the hooks forward; nothing else starts */
        opt_init_secure();
        const char *what = launch_own_image();
        if (what) /* run says so if it ends so: nothing it ran is traced */
            rchan_tell_launcher(what);
        hook_filter_enable(); /* the table stays empty: every free passes at once */
        return;
    }
    if (life_conf)
        opt_init_conf(life_conf);
    else
        opt_init();
    clock_start();
    timeline_init();
    life.pid = getpid();
    orph_init(life_adopt);
    life.real_exit = (void (*)(int))dlsym(RTLD_NEXT, "_exit"); /* always present */
    life.real_fork = (pid_t(*)(void))dlsym(RTLD_NEXT, "fork");
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
        atomic_store(&life.detached, 0);
        helper_reattach();
    } else {
        life_conf = conf;
        life_init_core();
        life_conf = NULL;
        if (cred_secure()) {
            guard_leave(saved);
            return -1;
        }
        dom_init(&life_dom_host);
        atexit(life_atexit);
        pthread_atfork(life_prepare, life_parent, life_child);
        started = 1;
    }
    dom_reattach();
    helper_init();
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
    helper_stop();
    dom_detach();
    stop_release_signal();
    sig_keep_open(0);
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
    dom_init(&life_dom_host); /* shim/python: finds CPython, if any */
    atexit(life_atexit);
    pthread_atfork(life_prepare, life_parent, life_child);
    life_init_fatal();
    helper_init();
    hook_set_active(1);
    if (opt_int(OPT_PAUSED))
        pause_stop();
    opt_debug("recording", "", "");
    guard_leave(0);
}
