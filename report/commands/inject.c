/*
 * inject.c - makes a running process call functions of ours (dlopen, then
 * the shim's heapsnap__attach) through ptrace, without gdb: x86-64 only.
 *
 * One thread is borrowed: each is seized in turn until one is where a call
 * cannot deadlock (asleep in a system call, or outside libc, the loader and
 * the allocator); the others never stop.  Its registers are saved before a
 * call and put back after it, so a system call it was in restarts (or
 * returns EINTR) as after a signal with no handler; signals that come
 * meanwhile are held and sent again.  How, step by step: docs/design.md,
 * "Attaching to a running process".
 */
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ptrace.h>
#include <sys/syscall.h>
#include <sys/uio.h>
#include <sys/user.h>
#include <sys/wait.h>
#include <dirent.h>
#include <elf.h>
#include <time.h>
#include <unistd.h>

#include "inject.h"

#ifdef __x86_64__

#define INJ_XSTATE 16384   /* bytes for NT_X86_XSTATE: the kernel says how many it used */
#define INJ_RED_ZONE 256   /* below the stack pointer: the ABI's 128, and more */
#define INJ_ROUNDS 300     /* rounds over the threads, 10 ms apart */
#define INJ_MAXSIGS 16

struct inj {
    pid_t pid, tid;
    int mem;                          /* /proc/PID/mem */
    struct user_regs_struct regs;     /* as found */
    unsigned char xs[INJ_XSTATE];
    size_t xslen;
    int sigs[INJ_MAXSIGS];            /* held: sent again after the release */
    int nsigs;
};

static void inj_sleep_ms(unsigned ms)
{
    struct timespec t = {ms / 1000, (long)(ms % 1000) * 1000000L};
    nanosleep(&t, NULL);
}

/* waitpid for tid, at most ms; 0 with *st, or -1 (errno ETIMEDOUT). */
static int inj_wait(pid_t tid, int *st, unsigned ms)
{
    for (unsigned waited = 0;; waited++) {
        pid_t r = waitpid(tid, st, __WALL | WNOHANG);
        if (r == tid)
            return 0;
        if (r < 0 && errno != EINTR)
            return -1;
        if (waited >= ms) {
            errno = ETIMEDOUT;
            return -1;
        }
        inj_sleep_ms(1);
    }
}

static void inj_hold_signal(struct inj *j, int sig)
{
    if (j->nsigs < INJ_MAXSIGS)
        j->sigs[j->nsigs++] = sig;
}

/* System calls that sleep without a libc lock held: a thread blocked in
 * one is a safe thread to borrow. */
static int inj_sleeping_call(long nr)
{
    static const long ok[] = {
        SYS_read, SYS_write, SYS_readv, SYS_writev, SYS_pread64, SYS_pwrite64, SYS_poll,
        SYS_ppoll, SYS_select, SYS_pselect6, SYS_epoll_wait, SYS_epoll_pwait,
#ifdef SYS_epoll_pwait2
        SYS_epoll_pwait2,
#endif
        SYS_nanosleep, SYS_clock_nanosleep, SYS_accept, SYS_accept4, SYS_recvfrom,
        SYS_recvmsg, SYS_sendto, SYS_sendmsg, SYS_connect, SYS_wait4, SYS_waitid, SYS_pause,
        SYS_rt_sigsuspend, SYS_rt_sigtimedwait, SYS_msgrcv, SYS_semtimedop,
    };
    for (size_t i = 0; i < sizeof ok / sizeof *ok; i++)
        if (ok[i] == nr)
            return 1;
    return 0;
}

static int inj_in(const struct inj_ranges *u, uint64_t ip)
{
    for (unsigned i = 0; i < u->n; i++)
        if (ip >= u->lo[i] && ip < u->hi[i])
            return 1;
    return 0;
}

/* Where a call may start: see the top. */
static int inj_safe(const struct user_regs_struct *r, const struct inj_ranges *unsafe,
                    const struct inj_ranges *loader)
{
    if ((long)r->orig_rax >= 0)
        return inj_sleeping_call((long)r->orig_rax) && !inj_in(loader, r->rip);
    return !inj_in(unsafe, r->rip);
}

/* Seizes tid and waits for its stop: 0, or -1 with errno. */
static int inj_seize(struct inj *j, pid_t tid)
{
    int st;
    if (ptrace(PTRACE_SEIZE, tid, 0, 0) != 0)
        return -1;
    if (ptrace(PTRACE_INTERRUPT, tid, 0, 0) != 0)
        return -1;
    for (;;) {
        if (inj_wait(tid, &st, 2000) != 0)
            return -1;
        if (WIFEXITED(st) || WIFSIGNALED(st)) {
            errno = ESRCH;
            return -1;
        }
        if (!WIFSTOPPED(st))
            continue;
        if ((st >> 16) == PTRACE_EVENT_STOP)
            break;
        if ((st >> 16) == 0) { /* a signal on its way: held, the interrupt still comes */
            inj_hold_signal(j, WSTOPSIG(st));
            ptrace(PTRACE_CONT, tid, 0, 0);
            continue;
        }
        ptrace(PTRACE_CONT, tid, 0, 0);
    }
    j->tid = tid;
    return 0;
}

static void inj_resend(struct inj *j)
{
    for (int i = 0; i < j->nsigs; i++)
        syscall(SYS_tgkill, j->pid, j->tid, j->sigs[i]);
    j->nsigs = 0;
}

/* Lets the thread go as it was found. */
static void inj_let_go(struct inj *j)
{
    ptrace(PTRACE_DETACH, j->tid, 0, 0);
    inj_resend(j);
}

static int inj_save(struct inj *j)
{
    struct iovec v = {j->xs, sizeof j->xs};
    if (ptrace(PTRACE_GETREGS, j->tid, 0, &j->regs) != 0)
        return -1;
    if (ptrace(PTRACE_GETREGSET, j->tid, (void *)NT_X86_XSTATE, &v) != 0)
        v.iov_len = 0; /* no XSAVE: the FXSAVE area alone */
    j->xslen = v.iov_len;
    return 0;
}

static int inj_restore(struct inj *j)
{
    struct iovec v = {j->xs, j->xslen};
    if (j->xslen && ptrace(PTRACE_SETREGSET, j->tid, (void *)NT_X86_XSTATE, &v) != 0)
        return -1;
    return ptrace(PTRACE_SETREGS, j->tid, 0, &j->regs);
}

int inj_open(struct inj **out, pid_t pid, const struct inj_ranges *unsafe,
             const struct inj_ranges *loader, char *err, size_t errlen)
{
    struct inj *j = calloc(1, sizeof *j);
    char path[64];
    if (!j) {
        snprintf(err, errlen, "out of memory");
        return -1;
    }
    j->pid = pid;
    snprintf(path, sizeof path, "/proc/%d/mem", (int)pid);
    for (int round = 0; round < INJ_ROUNDS; round++) {
        snprintf(path, sizeof path, "/proc/%d/task", (int)pid);
        DIR *d = opendir(path);
        struct dirent *e;
        if (!d) {
            snprintf(err, errlen, "process %d has ended", (int)pid);
            free(j);
            return -1;
        }
        while ((e = readdir(d))) {
            pid_t tid = (pid_t)atoi(e->d_name);
            if (tid <= 0)
                continue;
            j->nsigs = 0;
            if (inj_seize(j, tid) != 0) {
                if (errno == EPERM) {
                    snprintf(err, errlen, "ptrace: %s", strerror(errno));
                    closedir(d);
                    free(j);
                    return -2;
                }
                continue; /* a thread that ended meanwhile */
            }
            if (inj_save(j) == 0 && inj_safe(&j->regs, unsafe, loader)) {
                closedir(d);
                snprintf(path, sizeof path, "/proc/%d/mem", (int)pid);
                if ((j->mem = open(path, O_RDWR | O_CLOEXEC)) < 0) {
                    snprintf(err, errlen, "%s: %s", path, strerror(errno));
                    inj_let_go(j);
                    free(j);
                    return -1;
                }
                *out = j;
                return 0;
            }
            inj_let_go(j);
        }
        closedir(d);
        inj_sleep_ms(10);
    }
    snprintf(err, errlen, "no thread of process %d came to a point where it can be borrowed "
             "safely within %d s (always inside libc, the loader or the allocator); try again",
             (int)pid, INJ_ROUNDS / 100);
    free(j);
    return -1;
}

int inj_write(struct inj *j, uint64_t addr, const void *p, size_t n)
{
    return pwrite(j->mem, p, n, (off_t)addr) == (ssize_t)n ? 0 : -1;
}

int inj_read(struct inj *j, uint64_t addr, void *p, size_t n)
{
    ssize_t r = pread(j->mem, p, n, (off_t)addr);
    return r > 0 ? (int)r : -1;
}

/* Where data of n bytes goes for the next call: below the red zone. */
uint64_t inj_scratch(struct inj *j, size_t n)
{
    return (j->regs.rsp - INJ_RED_ZONE - n) & ~(uint64_t)15;
}

int inj_call(struct inj *j, uint64_t fn, const uint64_t *args, unsigned nargs, uint64_t below,
             uint64_t *ret, unsigned timeout_ms, char *err, size_t errlen)
{
    struct user_regs_struct r = j->regs;
    uint64_t zero = 0, sp = (below & ~(uint64_t)15) - 16;
    int st;
    r.rsp = sp - 8; /* at the callee's entry, rsp + 8 is 16-aligned */
    if (inj_write(j, r.rsp, &zero, sizeof zero) != 0) {
        snprintf(err, errlen, "cannot write the target's stack: %s", strerror(errno));
        return -1;
    }
    r.rip = fn;
    r.rax = 0;
    r.orig_rax = (uint64_t)-1; /* not a system call to restart */
    r.eflags &= ~0x400ull;     /* DF clear, as a call wants */
    unsigned long long *argreg[] = {&r.rdi, &r.rsi, &r.rdx, &r.rcx, &r.r8, &r.r9};
    for (unsigned i = 0; i < nargs && i < 6; i++)
        *argreg[i] = args[i];
    if (ptrace(PTRACE_SETREGS, j->tid, 0, &r) != 0 || ptrace(PTRACE_CONT, j->tid, 0, 0) != 0) {
        snprintf(err, errlen, "ptrace: %s", strerror(errno));
        return -1;
    }
    for (;;) {
        if (inj_wait(j->tid, &st, timeout_ms) != 0) {
            snprintf(err, errlen, "the call in process %d did not return within %u s: the "
                     "process may be deadlocked (heapsnap waits no longer)", (int)j->pid,
                     timeout_ms / 1000);
            return -1;
        }
        if (WIFEXITED(st) || WIFSIGNALED(st)) {
            snprintf(err, errlen, "process %d ended during the call", (int)j->pid);
            return -3;
        }
        if (!WIFSTOPPED(st))
            continue;
        int sig = WSTOPSIG(st);
        if ((st >> 16) == 0 && sig == SIGSEGV) {
            struct user_regs_struct now;
            if (ptrace(PTRACE_GETREGS, j->tid, 0, &now) == 0 && now.rip == 0) {
                *ret = now.rax;
                return 0;
            }
            snprintf(err, errlen, "the call crashed in process %d (SIGSEGV at 0x%llx)",
                     (int)j->pid, (unsigned long long)now.rip);
            return -1;
        }
        if ((st >> 16) == 0)
            inj_hold_signal(j, sig);
        ptrace(PTRACE_CONT, j->tid, 0, 0);
    }
}

int inj_close(struct inj *j)
{
    int r = inj_restore(j);
    ptrace(PTRACE_DETACH, j->tid, 0, 0);
    inj_resend(j);
    close(j->mem);
    free(j);
    return r;
}

pid_t inj_tid(const struct inj *j)
{
    return j->tid;
}

int inj_in_syscall(const struct inj *j, long *nr)
{
    *nr = (long)j->regs.orig_rax;
    return *nr >= 0;
}

#else /* not x86-64 */

int inj_open(struct inj **out, pid_t pid, const struct inj_ranges *unsafe,
             const struct inj_ranges *loader, char *err, size_t errlen)
{
    (void)out; (void)pid; (void)unsafe; (void)loader;
    snprintf(err, errlen, "attach is implemented for x86-64 only");
    return -1;
}
int inj_write(struct inj *j, uint64_t a, const void *p, size_t n) { return -1; }
int inj_read(struct inj *j, uint64_t a, void *p, size_t n) { return -1; }
uint64_t inj_scratch(struct inj *j, size_t n) { return 0; }
int inj_call(struct inj *j, uint64_t fn, const uint64_t *a, unsigned n, uint64_t b,
             uint64_t *ret, unsigned t, char *err, size_t errlen) { return -1; }
int inj_close(struct inj *j) { return -1; }
pid_t inj_tid(const struct inj *j) { return 0; }
int inj_in_syscall(const struct inj *j, long *nr) { return 0; }

#endif
