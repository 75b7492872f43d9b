/*
 * inject.c - makes a running process call functions of ours (dlopen, then
 * the shim's heapsnap__attach) through ptrace, without gdb: x86-64 only.
 *
 * One thread is borrowed: each is seized in turn until one is where a call
 * cannot deadlock (asleep in a system call, or outside libc, the loader and
 * the allocator); the others never stop.  The thread runs tramp.c's blob,
 * put in a code page's unused tail: it maps memory for the call (never
 * writing below its own stack pointer), calls there with every signal
 * blocked, and comes back through a signal frame (inj_load's steps).  In
 * every state the CLI leaves it in, the thread ends where it was found, on
 * its own if the CLI dies; when the CLI lives, it puts the registers, the
 * vector state and the mask back itself, from an interrupt stop, so a
 * system call the thread was in restarts (or returns EINTR) as after a
 * signal with no handler; signals met while the thread is held are sent
 * again.  docs/design.md, "Attaching to a running process".
 */
#include <cpuid.h>
#include <errno.h>
#include <stddef.h>
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
#define INJ_REGION (512u * 1024u) /* the call's memory: its stack, then INJ_TOP */
#define INJ_TOP (64u * 1024u)     /* the header, the frame, the strings */
#define INJ_FP 1024u              /* the frame's vector state, from the header */
#define INJ_STRINGS 20480u        /* the strings, from the header */
#define INJ_CODE_MAX 1024u        /* the blob's bytes, at most */

struct inj {
    pid_t pid, tid;
    int mem;                          /* /proc/PID/mem */
    struct user_regs_struct regs;     /* as found */
    unsigned char xs[INJ_XSTATE];
    size_t xslen;
    int sigs[INJ_MAXSIGS];            /* held: sent again after the release */
    int nsigs;
    uint64_t code;                    /* where the blob is (0: not yet) */
    unsigned char old[INJ_CODE_MAX];  /* the bytes it replaced */
    uint64_t region;                  /* the call's memory, while mapped */
    uint64_t mask;                    /* the thread's signal mask, as the call found it */
    int mask_set, abandoned, gone;
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

/* The TracerPid of thread tid (0: none, -1: unknown). */
static long inj_tracer(pid_t tid)
{
    char path[64], line[256];
    long by = -1;
    snprintf(path, sizeof path, "/proc/%d/status", (int)tid);
    FILE *f = fopen(path, "re");
    if (!f)
        return -1;
    while (fgets(line, sizeof line, f))
        if (!strncmp(line, "TracerPid:", 10))
            by = strtol(line + 10, NULL, 10);
    fclose(f);
    return by;
}

/* A tracer of a thread of pid other than this process (0: none): two
 * CLIs that each seized a thread both see the other, and both back off. */
long inj_other_tracer(pid_t pid)
{
    char path[64];
    long by = 0;
    snprintf(path, sizeof path, "/proc/%d/task", (int)pid);
    DIR *d = opendir(path);
    struct dirent *e;
    if (!d)
        return 0;
    while (!by && (e = readdir(d))) {
        long t = atol(e->d_name), tr = t > 0 ? inj_tracer((pid_t)t) : 0;
        if (tr > 0 && tr != (long)getpid())
            by = tr;
    }
    closedir(d);
    return by;
}

/* Seizes tid and waits for its stop: 0, or -1 with errno. */
static int inj_seize(struct inj *j, pid_t tid)
{
    int st;
    if (ptrace(PTRACE_SEIZE, tid, 0, PTRACE_O_TRACESYSGOOD) != 0)
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
                    long by = inj_tracer(tid);
                    if (by > 0)
                        snprintf(err, errlen, "process %d is already traced by process %ld (a "
                                 "debugger, strace, another heapsnap attach): detach that first",
                                 (int)pid, by);
                    else
                        snprintf(err, errlen, "ptrace: %s", strerror(errno));
                    closedir(d);
                    free(j);
                    return -2;
                }
                continue; /* a thread that ended meanwhile */
            }
            long other = inj_other_tracer(pid);
            if (other > 0) { /* one injection at a time: the code tail is shared */
                inj_let_go(j);
                closedir(d);
                snprintf(err, errlen, "process %d is already traced by process %ld (another "
                         "heapsnap attach, a debugger): try again once it is done", (int)pid,
                         other);
                free(j);
                return -1;
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

static int inj_write(struct inj *j, uint64_t addr, const void *p, size_t n)
{
    return pwrite(j->mem, p, n, (off_t)addr) == (ssize_t)n ? 0 : -1;
}

static int inj_read(struct inj *j, uint64_t addr, void *p, size_t n)
{
    ssize_t r = pread(j->mem, p, n, (off_t)addr);
    return r > 0 ? (int)r : -1;
}

/* The tests' way to kill the CLI at a known step (HEAPSNAP_INJECT_HALT=N):
 * it says so and waits for its end, the thread held where step N left it. */
static void inj_halt(int step)
{
    const char *h = getenv("HEAPSNAP_INJECT_HALT");
    if (!h || atoi(h) != step)
        return;
    fprintf(stderr, "heapsnap: inject halt %d\n", step);
    for (;;)
        pause();
}

/* What the thread's registers become when it goes back on its own: those
 * it was found with, and a system call it was in restarted, as the kernel
 * restarts one after a stop (rt_sigreturn and the blob's way back set
 * orig_rax to -1, so the restart is done here). */
static void inj_back_regs(const struct user_regs_struct *f, struct user_regs_struct *b)
{
    *b = *f;
    if ((long)f->orig_rax < 0)
        return;
    switch ((long)f->rax) {
    case -512: case -513: case -514: /* ERESTARTSYS, ERESTARTNOINTR, ERESTARTNOHAND */
        b->rax = f->orig_rax;
        b->rip -= 2;
        break;
    case -516: /* ERESTART_RESTARTBLOCK */
        b->rax = SYS_restart_syscall;
        b->rip -= 2;
        break;
    }
}

enum { INJ_STOP_SYSCALL, INJ_STOP_EVENT };

static uint64_t inj_now_ms(void)
{
    struct timespec now;
    clock_gettime(CLOCK_MONOTONIC, &now);
    return (uint64_t)now.tv_sec * 1000 + (uint64_t)now.tv_nsec / 1000000;
}

/* Resumes the thread with req (PTRACE_SYSCALL, PTRACE_CONT) and waits, at
 * most until deadline (inj_now_ms), for a stop of kind want: a system
 * call's (req PTRACE_SYSCALL) or the interrupt's.  Signals met on the way
 * are held; group stops are passed.  0; -3 the process ended; -4 the
 * deadline; -1 ptrace trouble. */
static int inj_next(struct inj *j, int req, int want, uint64_t deadline)
{
    int st;
    if (ptrace(req, j->tid, 0, 0) != 0)
        return -1;
    for (;;) {
        uint64_t ms = inj_now_ms();
        if (inj_wait(j->tid, &st, ms >= deadline ? 0 : (unsigned)(deadline - ms)) != 0)
            return errno == ETIMEDOUT ? -4 : -1;
        if (WIFEXITED(st) || WIFSIGNALED(st))
            return -3;
        if (!WIFSTOPPED(st))
            continue;
        int sig = WSTOPSIG(st), ev = st >> 16;
        if (ev == 0 && sig == (SIGTRAP | 0x80)) {
            if (want == INJ_STOP_SYSCALL)
                return 0;
        } else if (ev == PTRACE_EVENT_STOP && sig == SIGTRAP) {
            if (want == INJ_STOP_EVENT)
                return 0;
        } else if (ev == 0) {
            inj_hold_signal(j, sig);
        }
        if (ptrace(req, j->tid, 0, 0) != 0)
            return -1;
    }
}

/* From a system-call stop to an interrupt stop, where the registers found
 * may be put back (the kernel restarts a call only from there). */
static int inj_park(struct inj *j)
{
    if (ptrace(PTRACE_INTERRUPT, j->tid, 0, 0) != 0)
        return -1;
    return inj_next(j, PTRACE_CONT, INJ_STOP_EVENT, inj_now_ms() + 5000);
}

/* Where the blob goes: libc's, the loader's or the program's code tail
 * (never unloaded), its old bytes kept for the end. */
static int inj_place(struct inj *j, const struct rsym_map *map, char *err, size_t errlen)
{
    const struct rsym_module *c[] = {rsym_find(map, "libc.so"), rsym_find(map, "ld-linux"),
                                     map->n ? &map->m[0] : NULL};
    size_t n = inj_tramp_size();
    for (unsigned i = 0; i < 3 && !j->code; i++)
        if (c[i] && (j->code = rsym_code_tail(j->pid, c[i], n)) &&
            inj_read(j, j->code, j->old, n) != (int)n)
            j->code = 0;
    if (!j->code)
        snprintf(err, errlen, "no room for the injected code in process %d (libc's, the "
                 "loader's and the program's last code pages are full)", (int)j->pid);
    return j->code ? 0 : -1;
}

/* The blob, its way back to r (and to the mask, when mask). */
static int inj_put_code(struct inj *j, const struct user_regs_struct *r, const uint64_t *mask)
{
    unsigned char blob[INJ_CODE_MAX];
    struct user_regs_struct b;
    inj_back_regs(r, &b);
    inj_tramp_build(blob, &b, mask);
    return inj_write(j, j->code, blob, inj_tramp_size());
}

/* The region's header, as inj_tramp_call reads it (its offsets). */
struct inj_hdr {
    uint64_t magic, dlopen, dlerror, dlsym, path, sym, conf, mode, entry; /* in */
    uint64_t handle, error, ret, called, done;                          /* out */
    uint64_t all;                                                         /* every signal */
    uint64_t pad[17];
};
/* The kernel's ucontext (rt_sigreturn's), right after the header. */
struct inj_uc {
    uint64_t flags, link, ss_sp;
    int32_t ss_flags, ss_pad;
    uint64_t ss_size;
    uint64_t r8, r9, r10, r11, r12, r13, r14, r15, rdi, rsi, rbp, rbx, rdx, rax, rcx, rsp, rip,
        eflags;
    uint16_t cs, gs, fs, ss;
    uint64_t err, trapno, oldmask, cr2, fpstate, reserved[8];
    uint64_t sigmask;
};
_Static_assert(sizeof(struct inj_hdr) == 256, "inj_tramp_call's header");
_Static_assert(offsetof(struct inj_uc, ss_sp) == 16 && offsetof(struct inj_uc, sigmask) == 296,
               "the kernel's ucontext");

#define INJ_TILEDATA 18 /* AMX's tile data: the one state component a thread asks for */

/* The bytes of the signal frame's vector state, from the n ptrace gave
 * (NT_X86_XSTATE holds the largest size the kernel knows, whatever the
 * thread's) for a thread whose state header says bv, *xcr0 the features
 * the frame names.  A thread that never asked for AMX's tile data
 * (arch_prctl ARCH_REQ_XCOMP_PERM; bv then never has it) has frames that
 * end where the tile data would begin, and rt_sigreturn takes a longer
 * one for a damaged frame: it puts back the legacy state alone, the ymm
 * registers' upper halves zeroed (on a CPU with AMX, the thread left on
 * its own when the CLI died: test_attach_borrowed_state's vector case).
 * The frame ends there then, and names no tile data. */
static size_t inj_frame_size(size_t n, uint64_t bv, uint64_t *xcr0)
{
    unsigned size, off, c, d;
    if (!(*xcr0 >> INJ_TILEDATA & 1) || (bv >> INJ_TILEDATA & 1) ||
        !__get_cpuid_count(0xd, INJ_TILEDATA, &size, &off, &c, &d) || !size || off < 576 ||
        off >= n)
        return n;
    *xcr0 &= ~(1ull << INJ_TILEDATA);
    return off;
}

/* The frame rt_sigreturn reads: registers b, the vector state as found. */
static int inj_put_frame(struct inj *j, uint64_t hdr, const struct user_regs_struct *b)
{
    struct inj_uc uc = {
        .flags = 7, /* UC_FP_XSTATE, UC_SIGCONTEXT_SS, UC_STRICT_RESTORE_SS */
        .r8 = b->r8, .r9 = b->r9, .r10 = b->r10, .r11 = b->r11, .r12 = b->r12, .r13 = b->r13,
        .r14 = b->r14, .r15 = b->r15, .rdi = b->rdi, .rsi = b->rsi, .rbp = b->rbp,
        .rbx = b->rbx, .rdx = b->rdx, .rax = b->rax, .rcx = b->rcx, .rsp = b->rsp,
        .rip = b->rip, .eflags = b->eflags, .cs = (uint16_t)b->cs, .ss = (uint16_t)b->ss,
        .fpstate = hdr + INJ_FP,
    };
    static unsigned char fp[INJ_XSTATE + 4];
    size_t n = j->xslen;
    memcpy(fp, j->xs, n);
    if (n > 512) { /* the signal frame's software bytes, where ptrace put XCR0 */
        uint64_t xcr0, bv;
        memcpy(&xcr0, fp + 464, 8);
        memcpy(&bv, fp + 512, 8); /* the state header's first word */
        n = inj_frame_size(n, bv, &xcr0);
        uint32_t magic1 = 0x46505853u, ext = (uint32_t)n + 4, size = (uint32_t)n,
                 magic2 = 0x46505845u;
        memset(fp + 464, 0, 48);
        memcpy(fp + 464, &magic1, 4);
        memcpy(fp + 468, &ext, 4);
        memcpy(fp + 472, &xcr0, 8);
        memcpy(fp + 480, &size, 4);
        memcpy(fp + n, &magic2, 4);
        n += 4;
    }
    return inj_write(j, hdr + sizeof(struct inj_hdr), &uc, sizeof uc) != 0 ||
           inj_write(j, hdr + INJ_FP, fp, n) != 0 ? -1 : 0;
}

/* Step 1: the region, mapped by the thread on its own stack pointer. */
static int inj_map(struct inj *j, uint64_t deadline, char *err, size_t errlen)
{
    struct user_regs_struct r = j->regs;
    r.rip = j->code + inj_tramp_off(INJ_T_SYS);
    r.rax = SYS_mmap;
    r.rdi = 0;
    r.rsi = INJ_REGION;
    r.rdx = 3;          /* PROT_READ | PROT_WRITE */
    r.r10 = 0x4022;     /* MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE */
    r.r8 = (uint64_t)-1;
    r.r9 = 0;
    r.r15 = INJ_REGION; /* unmapped again on the way back if the CLI is gone */
    r.orig_rax = (uint64_t)-1;
    if (ptrace(PTRACE_SETREGS, j->tid, 0, &r) != 0) {
        snprintf(err, errlen, "ptrace: %s", strerror(errno));
        return -1;
    }
    inj_halt(1);
    int rc = inj_next(j, PTRACE_SYSCALL, INJ_STOP_SYSCALL, deadline); /* its entry */
    if (rc == 0)
        rc = inj_next(j, PTRACE_SYSCALL, INJ_STOP_SYSCALL, deadline); /* its exit */
    if (rc == 0 && ptrace(PTRACE_GETREGS, j->tid, 0, &r) != 0)
        rc = -1;
    if (rc == 0 && r.rax >= (uint64_t)-4095) {
        snprintf(err, errlen, "process %d could not map %u KiB for the call: %s", (int)j->pid,
                 INJ_REGION / 1024, strerror((int)-r.rax));
        rc = -5;
    }
    if (rc == 0)
        j->region = r.rax;
    return rc;
}

/* Step 2: the call, on the region; at the end, the thread stopped at the
 * entry of the blob's rt_sigreturn. */
static int inj_run(struct inj *j, struct inj_load *l, uint64_t deadline, char *err, size_t errlen)
{
    uint64_t hdr = j->region + INJ_REGION - INJ_TOP, s = hdr + INJ_STRINGS;
    size_t lp = strlen(l->path) + 1, ls = strlen(l->sym) + 1, lc = strlen(l->conf) + 1;
    struct inj_hdr h = {.magic = 0x6a6e6970616e7368ull, .dlopen = l->dlopen,
                        .dlerror = l->dlerror, .dlsym = l->dlsym, .path = s, .sym = s + lp,
                        .conf = s + lp + ls, .mode = (uint64_t)l->mode, .entry = l->entry,
                        .all = ~0ull};
    struct user_regs_struct b, r;
    if (lp + ls + lc > INJ_TOP - INJ_STRINGS) {
        snprintf(err, errlen, "the options are too long");
        return -1;
    }
    inj_back_regs(&j->regs, &b);
    if (inj_write(j, hdr, &h, sizeof h) != 0 || inj_put_frame(j, hdr, &b) != 0 ||
        inj_write(j, s, l->path, lp) != 0 || inj_write(j, s + lp, l->sym, ls) != 0 ||
        inj_write(j, s + lp + ls, l->conf, lc) != 0) {
        snprintf(err, errlen, "cannot write into process %d: %s", (int)j->pid, strerror(errno));
        return -1;
    }
    r = j->regs;
    r.rip = j->code + inj_tramp_off(INJ_T_CALL);
    r.rsp = hdr;
    r.rbx = hdr;
    r.r15 = 0;
    r.orig_rax = (uint64_t)-1;
    r.eflags &= ~0x400ull; /* DF clear, as a call wants */
    if (ptrace(PTRACE_SETREGS, j->tid, 0, &r) != 0) {
        snprintf(err, errlen, "ptrace: %s", strerror(errno));
        return -1;
    }
    inj_halt(2);
    uint64_t ret = j->code + inj_tramp_off(INJ_T_RET);
    for (int first = 1;; first = 0) {
        int rc = inj_next(j, PTRACE_SYSCALL, INJ_STOP_SYSCALL, deadline);
        if (rc != 0)
            return rc;
        if (ptrace(PTRACE_GETREGS, j->tid, 0, &r) != 0)
            return -1;
        if (r.rip == ret && r.orig_rax == SYS_rt_sigreturn)
            break;
        if (!first)
            inj_halt(3); /* in the middle of the call */
    }
    if (inj_read(j, hdr, &h, sizeof h) != (int)sizeof h ||
        inj_read(j, hdr + sizeof h + offsetof(struct inj_uc, sigmask), &j->mask,
                 sizeof j->mask) != (int)sizeof j->mask) {
        snprintf(err, errlen, "cannot read process %d's answer", (int)j->pid);
        return -1;
    }
    j->mask_set = 1;
    l->handle = h.handle;
    l->entry = h.entry;
    l->ret = h.ret;
    l->called = (int)h.called;
    l->dlerr[0] = 0;
    if (!h.handle && h.error) {
        int got = inj_read(j, h.error, l->dlerr, sizeof l->dlerr - 1);
        l->dlerr[got > 0 ? got : 0] = 0;
    }
    return 0;
}

/* Step 3: the rt_sigreturn becomes the region's munmap, and the way back
 * puts the mask back too, should the CLI be gone before the end. */
static int inj_unmap(struct inj *j)
{
    struct user_regs_struct r;
    if (inj_put_code(j, &j->regs, &j->mask) != 0 || ptrace(PTRACE_GETREGS, j->tid, 0, &r) != 0)
        return -1;
    r.orig_rax = SYS_munmap;
    r.rdi = j->region;
    r.rsi = INJ_REGION;
    if (ptrace(PTRACE_SETREGS, j->tid, 0, &r) != 0)
        return -1;
    inj_halt(4);
    j->region = 0;
    return inj_park(j);
}

/* Lets the thread go where it is: it finishes the call by itself. */
static void inj_abandon(struct inj *j)
{
    int st;
    j->abandoned = 1;
    if (ptrace(PTRACE_INTERRUPT, j->tid, 0, 0) == 0)
        for (int i = 0; i < 50 && inj_wait(j->tid, &st, 100) == 0 && WIFSTOPPED(st); i++) {
            if ((st >> 16) == 0 && WSTOPSIG(st) != (SIGTRAP | 0x80)) {
                inj_hold_signal(j, WSTOPSIG(st));
                ptrace(PTRACE_CONT, j->tid, 0, 0); /* the interrupt's stop is still to come */
                continue;
            }
            break;
        }
    inj_let_go(j);
}

int inj_load(struct inj *j, struct rsym_map *map, struct inj_load *l, unsigned timeout_ms,
             char *err, size_t errlen)
{
    uint64_t deadline = inj_now_ms() + timeout_ms;
    int rc;
    err[0] = 0;
    if (inj_place(j, map, err, errlen) != 0)
        return -1;
    if (j->mask_set) /* a second call: the mask the first one found */
        ptrace(PTRACE_SETSIGMASK, j->tid, sizeof j->mask, &j->mask);
    if (inj_put_code(j, &j->regs, j->mask_set ? &j->mask : NULL) != 0) {
        snprintf(err, errlen, "cannot write into process %d: %s", (int)j->pid, strerror(errno));
        j->code = 0;
        return -1;
    }
    if ((rc = inj_map(j, deadline, err, errlen)) == 0)
        rc = inj_run(j, l, deadline, err, errlen);
    if (rc == -3) {
        snprintf(err, errlen, "process %d ended during the call", (int)j->pid);
        j->gone = 1;
        return -3;
    }
    if (rc == -4) {
        snprintf(err, errlen, "the call in process %d did not return within %u s: it goes on "
                 "there, and the thread returns to what it was doing when the call ends "
                 "(heapsnap waits no longer)", (int)j->pid, timeout_ms / 1000);
        inj_abandon(j);
        return -4;
    }
    if (rc == -1 && !err[0])
        snprintf(err, errlen, "ptrace: %s", strerror(errno));
    if (j->region && inj_unmap(j) != 0 && rc == 0) {
        snprintf(err, errlen, "ptrace: %s", strerror(errno));
        rc = -1;
    }
    if (rc == -5) /* the mmap failed: back to an interrupt stop */
        inj_park(j);
    return rc < 0 ? -1 : 0;
}

int inj_close(struct inj *j)
{
    int r = 0;
    if (!j->abandoned && !j->gone) {
        inj_halt(5);
        if (j->mask_set && ptrace(PTRACE_SETSIGMASK, j->tid, sizeof j->mask, &j->mask) != 0)
            r = -1;
        if (inj_restore(j) != 0)
            r = -1;
        ptrace(PTRACE_DETACH, j->tid, 0, 0);
        inj_resend(j);
        if (j->code) /* the code tail as it was: no thread runs there now */
            inj_write(j, j->code, j->old, inj_tramp_size());
    }
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
int inj_load(struct inj *j, struct rsym_map *map, struct inj_load *l, unsigned timeout_ms,
             char *err, size_t errlen) { return -1; }
int inj_close(struct inj *j) { return -1; }
pid_t inj_tid(const struct inj *j) { return 0; }
int inj_in_syscall(const struct inj *j, long *nr) { return 0; }

#endif
