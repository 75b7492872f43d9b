/*
 * threads.c - the thread registry and the leak check's stop-the-world.
 *
 * The reference model needs every thread's stack, registers and static TLS
 * as roots, and needs the other threads to hold still while it reads them.
 * Threads are known from pthread_create, which is interposed: the start
 * routine is wrapped so the new thread records its tid, thread pointer and
 * stack bounds in a slot of a fixed array (no allocation, no host malloc),
 * and frees the slot from a cleanup handler when it returns, calls
 * pthread_exit or is cancelled.  The main thread takes slot 0 at start-up.
 * Threads the shim creates itself (the snapshot helper, created with
 * hook_guard set) are not registered: they hold no program pointers and
 * block every signal.
 *
 * Stop without ptrace (it works in containers where LeakSanitizer's
 * ptrace-based stop fails): the collector holds the registry lock, bumps
 * the stop generation and sends HEAPSNAP_STOP_SIGNAL (default SIGRTMAX-1)
 * to every other registered thread with tgkill.  The handler copies the
 * interrupted general registers and stack pointer into the thread's slot,
 * acknowledges with the generation, and waits on a futex until the
 * collector publishes the same generation as "go".  A thread that does not
 * answer within 200 ms (it blocks the signal, or is stuck in the kernel)
 * is counted unstopped and its whole stack is scanned instead.  The handler
 * keeps errno and is installed with SA_RESTART; a thread stopped inside a
 * sleep may still see it return early (nanosleep returns EINTR with the
 * time left, as for any handled signal).  If the program has its own
 * handler on the stop signal, nothing is sent: every other thread is
 * unstopped (warned once).
 *
 * The registry lock is the last in shim.h's lock order (after the arena's):
 * a thread holds it only to claim or free a slot, and the collector takes
 * it after the table locks, so a stopped thread never holds a lock that the
 * collector needs.
 */
#include <dlfcn.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <linux/futex.h>
#include <pthread.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/syscall.h>
#include <time.h>
#include <ucontext.h>
#include <unistd.h>

#include "model.h"
#include "shim.h"

#define THR_MAX 1024
#define THR_STOP_NS 200000000ull /* a thread's time to answer the stop */
#define THR_REDZONE 128          /* below SP, the x86-64 ABI's red zone */

enum { THR_FREE, THR_PENDING, THR_LIVE };

struct thr_slot {
    atomic_int state;           /* THR_* */
    pid_t tid;                  /* kernel thread id, for tgkill */
    uintptr_t tp;               /* pthread_self(): the thread pointer (TCB) */
    uintptr_t lo, hi;           /* stack bounds (lo: lowest usable address) */
    void *(*start)(void *);     /* pending: the program's start routine */
    void *arg;                  /* pending: its argument (scanned as a root) */
    atomic_uint ack;            /* last stop generation answered */
    int stopped;                /* answered the current stop */
    uintptr_t sp;               /* stack pointer when stopped */
    uintptr_t regs[NGREG];      /* general registers when stopped */
    uintptr_t dtv;              /* its DTV block's start (a root word) */
};

static struct {
    lock_t lock;                 /* slot claims and frees; held by a stop */
    int (*create)(pthread_t *, const pthread_attr_t *, void *(*)(void *), void *);
    size_t tls_static;           /* _dl_get_tls_static_info: static TLS + TCB */
    size_t tcb;                  /* sizeof(struct pthread): the TCB */
    int sig;                     /* stop signal; 0 = never stop */
    int installed;               /* our handler is on sig */
    atomic_int warned;           /* the stop signal had another handler */
    atomic_uint gen;             /* current stop generation */
    atomic_uint go;              /* generation released */
    uintptr_t caller_lo, caller_hi; /* the collecting thread's stack */
    uintptr_t caller_dtv;        /* its DTV block, when not registered */
    struct thr_slot slot[THR_MAX];
} thr;

static __thread struct thr_slot *thr_self;

/* ---------------- stack bounds ---------------- */

/* This thread's stack from pthread_getattr_np (which may allocate and, on
 * the main thread, reads /proc: call with hook_guard set, never while the
 * world is stopped). */
static void thr_bounds(uintptr_t *lo, uintptr_t *hi)
{
    pthread_attr_t a;
    void *addr = NULL;
    size_t size = 0;
    *lo = *hi = 0;
    if (pthread_getattr_np(pthread_self(), &a) != 0)
        return;
    if (pthread_attr_getstack(&a, &addr, &size) == 0) {
        *lo = (uintptr_t)addr;
        *hi = (uintptr_t)addr + size;
    }
    pthread_attr_destroy(&a);
}

/* The lowest address of the mapping holding addr, from /proc/self/maps
 * (the main thread's stack grows on demand: its rlimit bound is not
 * mapped).  Raw reads, no allocation; 0 when not found. */
static uintptr_t thr_mapping_lo(uintptr_t addr)
{
    char buf[4096];
    size_t have = 0;
    int fd = open("/proc/self/maps", O_RDONLY | O_CLOEXEC);
    uintptr_t found = 0;
    if (fd < 0)
        return 0;
    for (;;) {
        ssize_t r = read(fd, buf + have, sizeof buf - 1 - have);
        if (r <= 0)
            break;
        have += (size_t)r;
        buf[have] = 0;
        char *line = buf, *nl;
        while ((nl = strchr(line, '\n'))) {
            char *end;
            uintptr_t lo = strtoul(line, &end, 16), hi = *end == '-' ? strtoul(end + 1, NULL, 16) : 0;
            if (addr >= lo && addr < hi)
                found = lo;
            line = nl + 1;
        }
        have = (size_t)(buf + have - line);
        memmove(buf, line, have);
    }
    close(fd);
    return found;
}

/* ---------------- the registry ---------------- */

/* The start of tp's DTV block: glibc (x86-64) keeps dtv + 1 in the TCB's
 * second word, 16 bytes into the malloc'd block; 0 without TLS bounds. */
static uintptr_t thr_dtv_block(uintptr_t tp)
{
    uintptr_t dtv;
    if (!tp || !thr.tcb)
        return 0;
    memcpy(&dtv, (const char *)tp + sizeof(void *), sizeof dtv);
    return dtv ? dtv - 16 : 0;
}

static struct thr_slot *thr_claim(void *(*start)(void *), void *arg)
{
    lock_take(&thr.lock);
    for (int i = 1; i < THR_MAX; i++) {
        struct thr_slot *s = &thr.slot[i];
        if (atomic_load(&s->state) == THR_FREE) {
            s->start = start;
            s->arg = arg;
            s->tid = 0;
            atomic_store(&s->state, THR_PENDING);
            lock_drop(&thr.lock);
            return s;
        }
    }
    lock_drop(&thr.lock);
    opt_warn("more than 1024 threads: the newest are not scanned by the leak check", "", "");
    return NULL;
}

static void thr_free(struct thr_slot *s)
{
    lock_take(&thr.lock);
    s->arg = NULL;
    atomic_store(&s->state, THR_FREE);
    lock_drop(&thr.lock);
}

/* Fills the calling thread's slot and makes it live. */
static void thr_attach(struct thr_slot *s)
{
    uintptr_t lo, hi;
    int saved = guard_enter();
    thr_bounds(&lo, &hi);
    guard_leave(saved);
    lock_take(&thr.lock);
    s->tid = (pid_t)syscall(SYS_gettid);
    s->tp = (uintptr_t)pthread_self();
    s->lo = lo;
    s->hi = hi;
    s->arg = NULL;
    s->ack = atomic_load(&thr.gen);
    thr_self = s;
    atomic_store(&s->state, THR_LIVE);
    lock_drop(&thr.lock);
    pend_thread_begin();
}

/* A thread's end.  glibc keeps an exited thread's stack, TCB and DTV in
 * its stack cache for reuse, where no root reaches them: the DTV is
 * glibc's, not a leak of the program, so it is ignored (as by
 * heapsnap_ignore) until freed. */
static void thr_detach(void *p)
{
    struct thr_slot *s = p;
    uintptr_t dtv = thr_dtv_block(s->tp);
    thr_self = NULL;
    thr_free(s);
    pend_thread_end();
    cfi_thread_end();
    trace_thread_end();
    if (dtv)
        collect_ignore((const void *)dtv);
}

static void *thr_start(void *p)
{
    struct thr_slot *s = p;
    void *(*start)(void *) = s->start, *arg = s->arg, *ret;
    thr_attach(s);
    pthread_cleanup_push(thr_detach, s);
    ret = start(arg);
    pthread_cleanup_pop(1);
    return ret;
}

static void thr_resolve(void)
{
    int saved = guard_enter();
    if (!thr.create)
        thr.create = dlsym(RTLD_NEXT, "pthread_create");
    guard_leave(saved);
}

HS_EXPORT int pthread_create(pthread_t *t, const pthread_attr_t *attr,
                             void *(*start)(void *), void *arg)
{
    if (HS_UNLIKELY(!thr.create))
        thr_resolve();
    if (!thr.create)
        return EAGAIN;
    struct thr_slot *s = hook_guard ? NULL : thr_claim(start, arg);
    if (!s)
        return thr.create(t, attr, start, arg);
    int r = thr.create(t, attr, thr_start, s);
    if (r != 0)
        thr_free(s);
    return r;
}

/* ---------------- stopping ---------------- */

static long thr_futex(atomic_uint *w, int op, unsigned val)
{
    return syscall(SYS_futex, w, op, val, NULL, NULL, 0);
}

static void thr_on_stop(int sig, siginfo_t *si, void *ucv)
{
    int saved = errno;
    struct thr_slot *s = thr_self;
    unsigned gen = atomic_load(&thr.gen);
    if (s && atomic_load(&s->ack) != gen) {
        const ucontext_t *uc = ucv;
        memcpy(s->regs, uc->uc_mcontext.gregs, sizeof s->regs);
        s->sp = (uintptr_t)uc->uc_mcontext.gregs[REG_RSP];
        atomic_store(&s->ack, gen);
        /* Until a resume reaches this generation or a later one: a signal
         * handled late (the collector gave up waiting for it) may find the
         * next round already begun and ended, and go past gen; waiting
         * for go == gen would then wait for good. */
        for (unsigned go; (int)((go = atomic_load(&thr.go)) - gen) < 0;)
            thr_futex(&thr.go, FUTEX_WAIT_PRIVATE, go);
    }
    errno = saved;
}

/* "RTMAX-k", "RTMIN+k", or what opt_parse_signal accepts; -1 = bad. */
static int thr_parse_signal(const char *s)
{
    if (!strncasecmp(s, "SIG", 3))
        s += 3;
    if (!strncasecmp(s, "RTMAX", 5) || !strncasecmp(s, "RTMIN", 5)) {
        char *end;
        long k = s[5] ? strtol(s + 5, &end, 10) : 0;
        if (s[5] && *end)
            return -1;
        long sig = (s[4] == 'X' || s[4] == 'x' ? SIGRTMAX : SIGRTMIN) + k;
        return sig >= SIGRTMIN && sig <= SIGRTMAX ? (int)sig : -1;
    }
    return opt_parse_signal(s);
}

/* Our handler is on the stop signal, installing it if the disposition is
 * still the default; 0 when another handler owns it. */
static int thr_handler_ok(void)
{
    struct sigaction old, sa;
    if (!thr.sig || sig_install(thr.sig, NULL, &old) != 0)
        return 0;
    if ((old.sa_flags & SA_SIGINFO) && old.sa_sigaction == thr_on_stop)
        return 1;
    if (old.sa_handler == SIG_DFL) {
        memset(&sa, 0, sizeof sa);
        sa.sa_sigaction = thr_on_stop;
        sa.sa_flags = SA_SIGINFO | SA_RESTART;
        sigfillset(&sa.sa_mask);
        return sig_install(thr.sig, &sa, NULL) == 0;
    }
    if (atomic_exchange(&thr.warned, 1) == 0)
        opt_warn("HEAPSNAP_STOP_SIGNAL has a handler of the program's; "
                 "threads are scanned without stopping", "", "");
    return 0;
}

static uint64_t thr_mono_ns(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (uint64_t)ts.tv_sec * 1000000000ull + (uint64_t)ts.tv_nsec;
}

/* Before the stop (may allocate, hook_guard set): the caller's stack
 * bounds when it is not registered, the main thread's mapped stack. */
void thr_prepare(void)
{
    if (!thr_self)
        thr_bounds(&thr.caller_lo, &thr.caller_hi);
    struct thr_slot *m = &thr.slot[0];
    if (atomic_load(&m->state) == THR_LIVE && m != thr_self) {
        uintptr_t lo = thr_mapping_lo(m->hi - 1);
        if (lo)
            m->lo = lo;
    }
    thr.installed = thr_handler_ok();
}

/* Stops every other registered thread (registry lock held until
 * thr_resume); returns how many could not be stopped. */
uint32_t thr_stop(void)
{
    uint32_t unstopped = 0, waiting = 0;
    lock_take(&thr.lock);
    unsigned gen = atomic_fetch_add(&thr.gen, 1) + 1;
    pid_t pid = getpid();
    for (int i = 0; i < THR_MAX; i++) {
        struct thr_slot *s = &thr.slot[i];
        s->stopped = 0;
        if (atomic_load(&s->state) != THR_LIVE || s == thr_self)
            continue;
        if (thr.installed && syscall(SYS_tgkill, pid, s->tid, thr.sig) == 0)
            waiting++;
        else
            unstopped++;
    }
    for (uint64_t until = thr_mono_ns() + THR_STOP_NS; waiting && thr_mono_ns() < until;) {
        waiting = 0;
        for (int i = 0; i < THR_MAX; i++) {
            struct thr_slot *s = &thr.slot[i];
            if (atomic_load(&s->state) == THR_LIVE && s != thr_self && !s->stopped)
                waiting += !(s->stopped = atomic_load(&s->ack) == gen);
        }
        if (waiting)
            sched_yield();
    }
    return unstopped + waiting;
}

void thr_resume(void)
{
    atomic_store(&thr.go, atomic_load(&thr.gen));
    thr_futex(&thr.go, FUTEX_WAKE_PRIVATE, INT_MAX);
    lock_drop(&thr.lock);
}

/* ---------------- roots ---------------- */

/* One thread's roots: stack from its stack pointer (minus redzone bytes:
 * a stopped thread's red zone, which the code it was stopped in may use;
 * the calling thread has none, since a call clobbers it) or whole,
 * registers, and static TLS up to the TCB's end (the TCB holds the
 * pthread_setspecific values).  A TLS block inside the stack mapping
 * (every thread but the main one) ends the stack range.  The TCB points
 * 16 bytes into the DTV block, so *dtv gets the block's start and is a
 * root word of its own: the DTV, and the dynamic TLS blocks it lists, are
 * reachable, not "possibly lost". */
static void thr_thread_roots(uintptr_t sp, uintptr_t redzone, uintptr_t lo, uintptr_t hi,
                             uintptr_t tp, const uintptr_t *regs, size_t nregs, uintptr_t *dtv,
                             thr_root_fn fn, void *arg)
{
    uintptr_t tls_lo = 0, tls_hi = 0;
    if (tp && thr.tls_static > thr.tcb) {
        tls_hi = tp + thr.tcb;
        tls_lo = tls_hi - thr.tls_static;
    }
    if (tls_lo && tls_lo >= lo && tls_lo < hi)
        hi = tls_lo;
    if (sp) {
        sp = sp > lo + redzone ? sp - redzone : lo;
        lo = sp;
    }
    if (lo && hi > lo)
        fn(lo, hi, MODEL_ROOT_STACK, arg);
    if (regs)
        fn((uintptr_t)regs, (uintptr_t)(regs + nregs), MODEL_ROOT_REGS, arg);
    if (tls_lo)
        fn(tls_lo, tls_hi, MODEL_ROOT_TLS, arg);
    if ((*dtv = thr_dtv_block(tp)))
        fn((uintptr_t)dtv, (uintptr_t)(dtv + 1), MODEL_ROOT_TLS, arg);
}

/* With the world stopped: every thread's root ranges.  The caller's own
 * stack starts at sp and its registers are regs[0..nregs). */
void thr_roots(uintptr_t sp, const uintptr_t *regs, size_t nregs, thr_root_fn fn, void *arg)
{
    struct thr_slot *me = thr_self;
    if (me)
        thr_thread_roots(sp, 0, me->lo, me->hi, me->tp, regs, nregs, &me->dtv, fn, arg);
    else
        thr_thread_roots(sp, 0, thr.caller_lo, thr.caller_hi, (uintptr_t)pthread_self(), regs,
                         nregs, &thr.caller_dtv, fn, arg);
    for (int i = 0; i < THR_MAX; i++) {
        struct thr_slot *s = &thr.slot[i];
        int st = atomic_load(&s->state);
        if (st == THR_PENDING)
            fn((uintptr_t)&s->arg, (uintptr_t)(&s->arg + 1), MODEL_ROOT_STACK, arg);
        if (st != THR_LIVE || s == me)
            continue;
        thr_thread_roots(s->stopped ? s->sp : 0, THR_REDZONE, s->lo, s->hi, s->tp,
                         s->stopped ? s->regs : NULL, NGREG, &s->dtv, fn, arg);
    }
}

/* ---------------- life ---------------- */

static void thr_after_fork_child(void)
{
    lock_drop(&thr.lock);
    for (int i = 0; i < THR_MAX; i++)
        if (&thr.slot[i] != thr_self)
            atomic_store(&thr.slot[i].state, THR_FREE);
    if (thr_self)
        thr_self->tid = (pid_t)syscall(SYS_gettid);
    thr.installed = 0;
}

/* Static TLS size (ld.so) and the TCB size (libc's libthread_db data), as
 * LeakSanitizer finds them; without either, TLS is not scanned. */
static void thr_init_tls(void)
{
    void (*info)(size_t *, size_t *) = dlsym(RTLD_NEXT, "_dl_get_tls_static_info");
    const uint32_t *tcb = dlsym(RTLD_NEXT, "_thread_db_sizeof_pthread");
    if (info && tcb) {
        size_t align;
        info(&thr.tls_static, &align);
        thr.tcb = *tcb;
    } else {
        opt_debug("no static TLS bounds: TLS is not scanned", "", "");
    }
}

static void thr_init_signal(void)
{
    const char *s = opt_str(OPT_STOP_SIGNAL);
    int sig = thr_parse_signal(s && *s ? s : "RTMAX-1");
    if (sig > 0 && opt_signal_unsafe(sig)) {
        opt_warn("refusing HEAPSNAP_STOP_SIGNAL: a program cannot survive that signal, "
                 "using RTMAX-1", "", "");
        sig = SIGRTMAX - 1;
    } else if (sig < 0) {
        opt_warn("bad HEAPSNAP_STOP_SIGNAL, using RTMAX-1", "", "");
        sig = SIGRTMAX - 1;
    }
    thr.sig = sig;
}

/* After life_init (priority 101): options are parsed. */
__attribute__((constructor(102))) static void thr_init(void)
{
    int saved = guard_enter();
    thr_resolve();
    thr_init_tls();
    thr_init_signal();
    struct thr_slot *m = &thr.slot[0];
    m->tid = (pid_t)syscall(SYS_gettid);
    m->tp = (uintptr_t)pthread_self();
    thr_bounds(&m->lo, &m->hi);
    thr_self = m;
    atomic_store(&m->state, THR_LIVE);
    pend_thread_begin();
    pthread_atfork(NULL, NULL, thr_after_fork_child);
    guard_leave(saved);
}
