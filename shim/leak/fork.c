/*
 * fork.c - the copy of the process a leak check scans while the program
 * runs on: the world is stopped only to capture every thread's registers
 * and to fork; the child scans its copy-on-write image, reports, exits.
 *
 * The copy is a raw clone(2) with no exit signal, not fork(3): the host's
 * atfork handlers do not run, no SIGCHLD reaches the program, and its
 * waitpid(-1) never sees the child (a "clone" child is reaped only with
 * __WALL or __WCLONE).  The parent waits on a pipe for the child's status
 * byte, watches that it lives, and reaps it.  Rules for the child: every
 * signal blocked, it dies with its parent, leaves by exit_group, and calls
 * nothing that may take a lock (the other threads' locks, glibc's and
 * malloc's, stay held for good); one that runs past LFORK_MAX_NS is killed.
 */
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <sys/prctl.h>
#include <sys/resource.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "leakinner.h"

#define LFORK_POLL_MS 200                 /* how often the waiting parent looks */
#define LFORK_MAX_NS (600ull * 1000000000) /* a child this slow is killed */

static uint64_t lfork_now(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (uint64_t)ts.tv_sec * 1000000000ull + (uint64_t)ts.tv_nsec;
}

/* The child's exit: the system call itself, not the shim's own _exit
 * (which may write an exit snapshot) nor the host's atexit handlers. */
static _Noreturn void lfork_die(int code)
{
    for (;;)
        syscall(SYS_exit_group, code);
}

/* Forks: the child's pid in the parent, 0 in the child (*wr: its end of
 * the status pipe), -1 when no child could be made (errno: EPERM or
 * ENOSYS under seccomp, ENOMEM, EAGAIN). */
pid_t lfork_spawn(int *rd, int *wr)
{
    int p[2];
    pid_t parent = getpid();
    if (pipe2(p, O_CLOEXEC) != 0)
        return -1;
    long pid = syscall(SYS_clone, 0L /* no CLONE_* flags, no exit signal */, 0L, NULL, NULL, 0L);
    if (pid < 0) {
        int e = errno;
        close(p[0]);
        close(p[1]);
        errno = e;
        return -1;
    }
    if (pid == 0) {
        uint64_t all = ~0ull;
        syscall(SYS_rt_sigprocmask, SIG_SETMASK, &all, NULL, sizeof all);
        struct rlimit none = {0, 0}; /* a fault must not dump the whole heap */
        setrlimit(RLIMIT_CORE, &none);
        prctl(PR_SET_DUMPABLE, 0);
        prctl(PR_SET_PDEATHSIG, SIGKILL);
        if (getppid() != parent) /* the parent died before the line above */
            lfork_die(1);
        close(p[0]);
        *wr = p[1];
        return 0;
    }
    close(p[1]);
    *rd = p[0];
    return (pid_t)pid;
}

/* The child's end: its status to the parent (0 = the report is out). */
void lfork_exit(int wr, int status)
{
    unsigned char c = (unsigned char)status;
    while (write(wr, &c, 1) < 0 && errno == EINTR)
        ;
    lfork_die(0);
}

static int lfork_sig; /* the signal that ended the last child, or 0 */

static void lfork_status(int st)
{
    lfork_sig = WIFSIGNALED(st) ? WTERMSIG(st) : 0;
}

/* Reaps pid (blocking once it has ended); an ECHILD (someone else reaped
 * it, with __WALL) is fine. */
static void lfork_reap(pid_t pid)
{
    int st = 0;
    while (waitpid(pid, &st, __WALL) < 0 && errno == EINTR)
        ;
    lfork_status(st);
}

/* The signal that ended lfork_wait's child, or 0 (none, or this parent
 * killed it for running past LFORK_MAX_NS). */
int lfork_signal(void)
{
    return lfork_sig;
}

/* Whether pid has ended (reaped here, or by someone else). */
static int lfork_gone(pid_t pid)
{
    int st = 0;
    pid_t r = waitpid(pid, &st, WNOHANG | __WALL);
    if (r == pid)
        lfork_status(st);
    return r == pid || (r < 0 && errno == ECHILD);
}

/* The parent: waits for pid's status byte on rd (closed here) and reaps
 * it.  The byte (0: success); -1 when the child died first (killed, a
 * fault) or ran past LFORK_MAX_NS (then it is killed). */
int lfork_wait(pid_t pid, int rd)
{
    unsigned char c = 1;
    int got = 0, gone = 0, late = 0;
    uint64_t until = lfork_now() + LFORK_MAX_NS;
    lfork_sig = 0;
    for (;;) {
        struct pollfd pf = {rd, POLLIN, 0};
        int r = poll(&pf, 1, LFORK_POLL_MS);
        if (r > 0) {
            ssize_t k = read(rd, &c, 1);
            if (k < 0 && errno == EINTR)
                continue;
            got = k == 1;
            break;
        }
        if (r < 0 && errno != EINTR)
            break;
        /* a host's fork child may hold the pipe's write end open: EOF
         * alone does not say that ours is gone */
        if (gone)
            break;
        gone = lfork_gone(pid); /* then one more look at the pipe */
        if (!gone && lfork_now() > until) {
            kill(pid, SIGKILL);
            late = 1;
            break;
        }
    }
    close(rd);
    if (!gone)
        lfork_reap(pid);
    if (late)
        lfork_sig = 0; /* our own kill: not the child's end to name */
    return got ? c : -1;
}
