/*
 * stop.c - stop-the-world for the leak check, and the registry of threads it
 * stops: every thread's stack, registers and static TLS are roots, and the
 * other threads must hold still while they are read.
 *
 * Threads are registered by shim/'s pthread_create hook (stop_claim, then
 * stop_attach on the new thread) in a fixed array: no allocation.  The stop
 * needs no ptrace (it works in containers where LeakSanitizer's fails): the
 * collector holds the registry lock, bumps the stop generation and sends
 * HEAPSNAP_STOP_SIGNAL to every other registered thread with tgkill; the
 * handler saves the interrupted registers and stack pointer in the slot,
 * acknowledges, and waits on a futex for "go".  A thread that does not
 * answer within 200 ms is counted unstopped and its whole stack scanned.
 * If the program has its own handler on the signal, nothing is sent (warned
 * once).  The registry lock is the last in shim.h's lock order.
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
#include <sys/syscall.h>
#include <time.h>
#include <ucontext.h>
#include <unistd.h>

#include "inner.h"
#include "procmaps.h"

#define STOP_MAX 1024
#define STOP_STOP_NS 200000000ull /* a thread's time to answer the stop */
#define STOP_REDZONE 128          /* below SP, the x86-64 ABI's red zone */

enum { STOP_FREE, STOP_PENDING, STOP_LIVE };

struct stop_slot {
    atomic_int state;           /* STOP_* */
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
    size_t tls_static;           /* _dl_get_tls_static_info: static TLS + TCB */
    size_t tcb;                  /* sizeof(struct pthread): the TCB */
    int sig;                     /* stop signal; 0 = never stop */
    int installed;               /* our handler is on sig */
    atomic_int warned;           /* the stop signal had another handler */
    atomic_uint gen;             /* current stop generation */
    atomic_uint go;              /* generation released */
    uintptr_t caller_lo, caller_hi; /* the collecting thread's stack */
    uintptr_t caller_dtv;        /* its DTV block, when not registered */
    struct stop_slot slot[STOP_MAX];
} stop;

static __thread struct stop_slot *stop_self;

/* ---------------- stack bounds ---------------- */

/* This thread's stack from pthread_getattr_np (which may allocate and, on
 * the main thread, reads /proc: call with hook_guard set, never while the
 * world is stopped). */
void stop_bounds(uintptr_t *lo, uintptr_t *hi)
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
struct stop_find {
    uintptr_t addr, lo;
};

static void stop_mapping_line(const struct procmaps_line *l, void *arg)
{
    struct stop_find *f = arg;
    if (f->addr >= l->lo && f->addr < l->hi)
        f->lo = l->lo;
}

static uintptr_t stop_mapping_lo(uintptr_t addr)
{
    char buf[4096];
    struct stop_find f = {addr, 0};
    procmaps_each(buf, sizeof buf, stop_mapping_line, &f);
    return f.lo;
}

/* ---------------- the registry ---------------- */

/* The start of tp's DTV block: glibc (x86-64) keeps dtv + 1 in the TCB's
 * second word, 16 bytes into the malloc'd block; 0 without TLS bounds. */
static uintptr_t stop_dtv_block(uintptr_t tp)
{
    uintptr_t dtv;
    if (!tp || !stop.tcb)
        return 0;
    memcpy(&dtv, (const char *)tp + sizeof(void *), sizeof dtv);
    return dtv ? dtv - 16 : 0;
}

struct stop_slot *stop_claim(void *(*start)(void *), void *arg)
{
    lock_take(&stop.lock);
    for (int i = 1; i < STOP_MAX; i++) {
        struct stop_slot *s = &stop.slot[i];
        if (atomic_load(&s->state) == STOP_FREE) {
            s->start = start;
            s->arg = arg;
            s->tid = 0;
            atomic_store(&s->state, STOP_PENDING);
            lock_drop(&stop.lock);
            return s;
        }
    }
    lock_drop(&stop.lock);
    collect_host->warn("more than 1024 threads: the newest are not scanned by the leak check", "", "");
    return NULL;
}

void stop_unclaim(struct stop_slot *s)
{
    lock_take(&stop.lock);
    s->arg = NULL;
    atomic_store(&s->state, STOP_FREE);
    lock_drop(&stop.lock);
}

/* On the new thread: hands back its start routine and argument, and
 * makes its slot live with stack [lo, hi). */
void stop_attach(struct stop_slot *s, uintptr_t lo, uintptr_t hi, void *(**start)(void *),
                 void **arg)
{
    *start = s->start;
    *arg = s->arg;
    lock_take(&stop.lock);
    s->tid = (pid_t)syscall(SYS_gettid);
    s->tp = (uintptr_t)pthread_self();
    s->lo = lo;
    s->hi = hi;
    s->arg = NULL;
    s->ack = atomic_load(&stop.gen);
    stop_self = s;
    atomic_store(&s->state, STOP_LIVE);
    lock_drop(&stop.lock);
}

/* A thread's end: its slot goes; returns its DTV block's start.  glibc
 * keeps an exited thread's stack, TCB and DTV in its stack cache for
 * reuse, where no root reaches them: the DTV is glibc's, not a leak of the
 * program, so the caller has it ignored (as by heapsnap_ignore). */
uintptr_t stop_detach(struct stop_slot *s)
{
    uintptr_t dtv = stop_dtv_block(s->tp);
    stop_self = NULL;
    stop_unclaim(s);
    return dtv;
}

/* ---------------- stopping ---------------- */

static long stop_futex(atomic_uint *w, int op, unsigned val)
{
    return syscall(SYS_futex, w, op, val, NULL, NULL, 0);
}

static void stop_on_signal(int sig, siginfo_t *si, void *ucv)
{
    int saved = errno;
    struct stop_slot *s = stop_self;
    unsigned gen = atomic_load(&stop.gen);
    if (s && atomic_load(&s->ack) != gen) {
        const ucontext_t *uc = ucv;
        memcpy(s->regs, uc->uc_mcontext.gregs, sizeof s->regs);
        s->sp = (uintptr_t)uc->uc_mcontext.gregs[REG_RSP];
        atomic_store(&s->ack, gen);
        /* Until a resume reaches this generation or a later one: a signal
         * handled late (the collector gave up waiting for it) may find the
         * next round already begun and ended, and go past gen; waiting
         * for go == gen would then wait for good. */
        for (unsigned go; (int)((go = atomic_load(&stop.go)) - gen) < 0;)
            stop_futex(&stop.go, FUTEX_WAIT_PRIVATE, go);
    }
    errno = saved;
}

/* Our handler is on the stop signal, installing it if the disposition is
 * still the default; 0 when another handler owns it. */
static int stop_handler_ok(void)
{
    struct sigaction old, sa;
    if (!stop.sig || collect_host->sigaction(stop.sig, NULL, &old) != 0)
        return 0;
    if ((old.sa_flags & SA_SIGINFO) && old.sa_sigaction == stop_on_signal)
        return 1;
    if (old.sa_handler == SIG_DFL) {
        memset(&sa, 0, sizeof sa);
        sa.sa_sigaction = stop_on_signal;
        sa.sa_flags = SA_SIGINFO | SA_RESTART;
        sigfillset(&sa.sa_mask);
        return collect_host->sigaction(stop.sig, &sa, NULL) == 0;
    }
    if (atomic_exchange(&stop.warned, 1) == 0)
        collect_host->warn("HEAPSNAP_STOP_SIGNAL has a handler of the program's; "
                 "threads are scanned without stopping", "", "");
    return 0;
}

static uint64_t stop_mono_ns(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (uint64_t)ts.tv_sec * 1000000000ull + (uint64_t)ts.tv_nsec;
}

/* Before the stop (may allocate, hook_guard set): the caller's stack
 * bounds when it is not registered, the main thread's mapped stack. */
void stop_prepare(void)
{
    if (!stop_self)
        stop_bounds(&stop.caller_lo, &stop.caller_hi);
    struct stop_slot *m = &stop.slot[0];
    if (atomic_load(&m->state) == STOP_LIVE && m != stop_self) {
        uintptr_t lo = stop_mapping_lo(m->hi - 1);
        if (lo)
            m->lo = lo;
    }
    stop.installed = stop_handler_ok();
}

/* Stops every other registered thread (registry lock held until
 * stop_resume); returns how many could not be stopped. */
uint32_t stop_world(void)
{
    uint32_t unstopped = 0, waiting = 0;
    lock_take(&stop.lock);
    unsigned gen = atomic_fetch_add(&stop.gen, 1) + 1;
    pid_t pid = getpid();
    for (int i = 0; i < STOP_MAX; i++) {
        struct stop_slot *s = &stop.slot[i];
        s->stopped = 0;
        if (atomic_load(&s->state) != STOP_LIVE || s == stop_self)
            continue;
        if (stop.installed && syscall(SYS_tgkill, pid, s->tid, stop.sig) == 0)
            waiting++;
        else
            unstopped++;
    }
    for (uint64_t until = stop_mono_ns() + STOP_STOP_NS; waiting && stop_mono_ns() < until;) {
        waiting = 0;
        for (int i = 0; i < STOP_MAX; i++) {
            struct stop_slot *s = &stop.slot[i];
            if (atomic_load(&s->state) == STOP_LIVE && s != stop_self && !s->stopped)
                waiting += !(s->stopped = atomic_load(&s->ack) == gen);
        }
        if (waiting)
            sched_yield();
    }
    return unstopped + waiting;
}

void stop_resume(void)
{
    atomic_store(&stop.go, atomic_load(&stop.gen));
    stop_futex(&stop.go, FUTEX_WAKE_PRIVATE, INT_MAX);
    lock_drop(&stop.lock);
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
static void stop_thread_roots(uintptr_t sp, uintptr_t redzone, uintptr_t lo, uintptr_t hi,
                             uintptr_t tp, const uintptr_t *regs, size_t nregs, uintptr_t *dtv,
                             stop_root_fn fn, void *arg)
{
    uintptr_t tls_lo = 0, tls_hi = 0;
    if (tp && stop.tls_static > stop.tcb) {
        tls_hi = tp + stop.tcb;
        tls_lo = tls_hi - stop.tls_static;
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
    if ((*dtv = stop_dtv_block(tp)))
        fn((uintptr_t)dtv, (uintptr_t)(dtv + 1), MODEL_ROOT_TLS, arg);
}

/* With the world stopped: every thread's root ranges.  The caller's own
 * stack starts at sp and its registers are regs[0..nregs). */
void stop_roots(uintptr_t sp, const uintptr_t *regs, size_t nregs, stop_root_fn fn, void *arg)
{
    struct stop_slot *me = stop_self;
    if (me)
        stop_thread_roots(sp, 0, me->lo, me->hi, me->tp, regs, nregs, &me->dtv, fn, arg);
    else
        stop_thread_roots(sp, 0, stop.caller_lo, stop.caller_hi, (uintptr_t)pthread_self(), regs,
                         nregs, &stop.caller_dtv, fn, arg);
    for (int i = 0; i < STOP_MAX; i++) {
        struct stop_slot *s = &stop.slot[i];
        int st = atomic_load(&s->state);
        if (st == STOP_PENDING)
            fn((uintptr_t)&s->arg, (uintptr_t)(&s->arg + 1), MODEL_ROOT_STACK, arg);
        if (st != STOP_LIVE || s == me)
            continue;
        stop_thread_roots(s->stopped ? s->sp : 0, STOP_REDZONE, s->lo, s->hi, s->tp,
                         s->stopped ? s->regs : NULL, NGREG, &s->dtv, fn, arg);
    }
}

/* ---------------- start-up, fork ---------------- */

void stop_after_fork_child(void)
{
    lock_drop(&stop.lock);
    for (int i = 0; i < STOP_MAX; i++)
        if (&stop.slot[i] != stop_self)
            atomic_store(&stop.slot[i].state, STOP_FREE);
    if (stop_self)
        stop_self->tid = (pid_t)syscall(SYS_gettid);
    stop.installed = 0;
}

/* Static TLS size (ld.so) and the TCB size (libc's libthread_db data), as
 * LeakSanitizer finds them; without either, TLS is not scanned. */
static void stop_init_tls(void)
{
    void (*info)(size_t *, size_t *) = dlsym(RTLD_NEXT, "_dl_get_tls_static_info");
    const uint32_t *tcb = dlsym(RTLD_NEXT, "_thread_db_sizeof_pthread");
    if (info && tcb) {
        size_t align;
        info(&stop.tls_static, &align);
        stop.tcb = *tcb;
    } else {
        collect_host->debug("no static TLS bounds: TLS is not scanned", "", "");
    }
}

/* Start-up, on the main thread (the re-entry guard set: dlsym): the stop
 * signal and the main thread's slot. */
void stop_init(int sig, uintptr_t lo, uintptr_t hi)
{
    stop_init_tls();
    stop.sig = sig;
    struct stop_slot *m = &stop.slot[0];
    m->tid = (pid_t)syscall(SYS_gettid);
    m->tp = (uintptr_t)pthread_self();
    m->lo = lo;
    m->hi = hi;
    stop_self = m;
    atomic_store(&m->state, STOP_LIVE);
}
