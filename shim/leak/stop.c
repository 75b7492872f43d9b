/*
 * stop.c - stop-the-world for the leak check, and the registry of threads
 * it stops: every thread's stack, registers and static TLS are roots, and
 * the other threads must hold still while they are read.
 *
 * Registry: the main thread's slot, then chunks of slots mapped as the
 * threads come (no malloc), filled by the pthread_create
 * hook (stop_claim, then stop_attach on the new thread); a slot lives on
 * until the kernel says its thread is gone (stop_gone): TLS destructors
 * still run on it.  Its lock is the last in root.h's order.
 * The stop (no ptrace): HEAPSNAP_STOP_SIGNAL by tgkill to every other
 * registered thread and every unknown task of /proc/self/task, never to
 * the shim's helper (stop_own_thread).  The handler saves every register
 * (fpstate.c: xmm, ymm, zmm, opmask), acknowledges and waits on a futex.
 * A thread that does not answer in time is unstopped: its whole stack is
 * scanned, on a fork.  A program's own handler on the signal: nothing is
 * sent, warned once.  docs/design.md, "Stopping the threads".
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
#include <sys/resource.h>
#include <sys/syscall.h>
#include <time.h>
#include <ucontext.h>
#include <unistd.h>

#include "fpstate.h"
#include "leakinner.h"
#include "procmaps.h"
#include "stopslot.h"

struct stop_registry stop;
static __thread struct stop_slot *stop_self;

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

/* Whether the thread of a live slot has ended: the kernel knows no such
 * thread, or the tid word of its TCB, which the kernel clears when the
 * thread exits (CLONE_CHILD_CLEARTID, what pthread_join waits on), no
 * longer holds its tid.  The word is probed with a zero-timeout
 * FUTEX_WAIT, which compares it without a read of ours: a TCB already
 * unmapped (glibc trims its stack cache) is EFAULT, never a fault. */
static int stop_gone(const struct stop_slot *s, pid_t pid)
{
    int saved = errno, gone = 0;
    if (syscall(SYS_tgkill, pid, s->tid, 0) != 0 && errno == ESRCH) {
        gone = 1;
    } else if (stop.tid_off && s->tp) {
        struct timespec zero = {0, 0};
        uint32_t *w = (uint32_t *)(s->tp + stop.tid_off);
        long r = syscall(SYS_futex, w, FUTEX_WAIT_PRIVATE, (uint32_t)s->tid, &zero, NULL, 0);
        gone = r != 0 && (errno == EAGAIN || errno == EFAULT);
    }
    errno = saved;
    return gone;
}

/* With the registry lock: an ending slot whose thread is gone is free. */
static void stop_free_ended(struct stop_slot *s)
{
    atomic_store(&s->state, STOP_FREE);
    atomic_fetch_sub(&stop.nending, 1);
}

/* With the registry lock: frees the slots of ended threads (all of them,
 * or those whose tid is tid: the kernel gave it to a new thread). */
static void stop_sweep(pid_t tid)
{
    pid_t pid = getpid();
    int top = atomic_load(&stop.top);
    for (int i = 1; i < top && atomic_load(&stop.nending); i++) {
        struct stop_slot *s = stop_slot(i);
        if (atomic_load(&s->state) != STOP_LIVE || !atomic_load(&s->ending) || s == stop_self)
            continue;
        if (tid ? s->tid == tid : stop_gone(s, pid))
            stop_free_ended(s);
    }
}

/* With the registry lock: a free slot of the mapped chunks whose writer
 * word is ours (-1), or NULL; stop_give hands it over. */
struct stop_slot *stop_take(void)
{
    struct stop_slot *s;
    for (int i = 1; i < STOP_MAX && (s = stop_slot(i)); i++) {
        int none = 0;
        if (atomic_load(&s->state) == STOP_FREE &&
            atomic_compare_exchange_strong(&s->writer, &none, -1))
            return s;
    }
    return NULL;
}

/* s (from stop_take) is given: its state, then the writer word back. */
void stop_give(struct stop_slot *s, int state)
{
    atomic_store(&s->state, state);
    atomic_store(&s->writer, 0);
}

static struct stop_slot *stop_take_free(void *(*start)(void *), void *arg)
{
    struct stop_slot *s = stop_take();
    if (!s)
        return NULL;
    int i = s->index;
    s->start = start;
    s->arg = arg;
    s->tid = 0;
    atomic_store(&s->ending, 0);
    if (i >= atomic_load(&stop.top))    /* first: a fork's child that sees */
        atomic_store(&stop.top, i + 1); /* the slot taken sees it counted */
    stop_give(s, STOP_PENDING);
    return s;
}

/* Slot s's vector save area (see STOP_VEC_CHUNK); NULL when there are no
 * vector registers to save or no memory (its vectors are then not saved). */
uintptr_t *stop_vec_area(const struct stop_slot *s)
{
    size_t i = (size_t)s->index, bytes = STOP_VEC_CHUNK * stop.vec_words * sizeof(uintptr_t);
    _Atomic(uintptr_t *) *c = &stop.vec_chunk[i / STOP_VEC_CHUNK];
    uintptr_t *p = atomic_load(c);
    if (!p && bytes) {
        uintptr_t *q = collect_host->map(bytes);
        if (q && atomic_compare_exchange_strong(c, &p, q))
            p = q;
        else
            collect_host->unmap(q, bytes);
    }
    return p ? p + i % STOP_VEC_CHUNK * stop.vec_words : NULL;
}

int stop_grow(void)
{
    size_t bytes = STOP_SLOT_CHUNK * sizeof(struct stop_slot);
    for (int c = 0; c < STOP_MAX / STOP_SLOT_CHUNK; c++) {
        struct stop_slot *p = atomic_load(&stop.slot_chunk[c]);
        if (p)
            continue;
        struct stop_slot *q = collect_host->map(bytes);
        if (!q)
            return -1;
        for (int k = 0; k < STOP_SLOT_CHUNK; k++)
            q[k].index = c * STOP_SLOT_CHUNK + k;
        if (!atomic_compare_exchange_strong(&stop.slot_chunk[c], &p, q))
            collect_host->unmap(q, bytes); /* another thread's came first */
        return 0;
    }
    return -1;
}

/* A new chunk is mapped outside the registry lock: a leak check holds the
 * arena's mapping lock while it waits for the registry's. */
struct stop_slot *stop_claim(void *(*start)(void *), void *arg)
{
    struct stop_slot *s;
    do {
        lock_take(&stop.lock);
        s = stop_take_free(start, arg);
        if (!s) { /* ended threads' slots are only reclaimed when needed */
            stop_sweep(0);
            s = stop_take_free(start, arg);
        }
        lock_drop(&stop.lock);
    } while (!s && stop_grow() == 0);
    if (!s && stop_slot(STOP_MAX - 1))
        collect_host->warn("more than 1024 threads: the newest are not scanned by the leak check", "", "");
    else if (!s->vec) /* the slot is ours until it is live */
        s->vec = stop_vec_area(s);
    return s;
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
    pid_t tid = (pid_t)syscall(SYS_gettid);
    lock_take(&stop.lock);
    stop_sweep(tid); /* an ended thread's slot with our tid is stale */
    s->tid = tid;
    s->tp = (uintptr_t)pthread_self();
    s->lo = lo;
    s->hi = hi;
    s->arg = NULL;
    s->ack = atomic_load(&stop.gen);
    stop_self = s;
    atomic_store(&s->state, STOP_LIVE);
    lock_drop(&stop.lock);
}

/* A thread the shim starts for itself (it holds no program pointer and
 * blocks every signal): its tid, which a stop neither signals nor takes
 * for a program's thread.  Given by its creator as soon as pthread_create
 * returns (glibc sets the TCB's tid word before: CLONE_PARENT_SETTID), so
 * that a stop that comes before the thread first runs leaves it alone,
 * and on the thread itself at its start; forgotten (t 0) once joined.  t: its pthread_t, the TCB's address. */
void stop_own_thread(uintptr_t t)
{
    pid_t tid = 0;
    if (t && t == (uintptr_t)pthread_self())
        tid = (pid_t)syscall(SYS_gettid);
    else if (t && stop.tid_off)
        memcpy(&tid, (const char *)t + stop.tid_off, sizeof tid);
    atomic_store(&stop.own_tp, t); /* before stop_init: tid_off comes later */
    if (tid || !t)
        atomic_store(&stop.own_tid, tid);
}

/* The shim's second thread of its own (shim/attach's control thread: it
 * blocks every signal and holds no program pointer), by its tid, from the
 * thread itself; 0 when it ends. */
void stop_aux_thread(pid_t tid)
{
    atomic_store(&stop.aux_tid, tid);
}

/* The thread's start routine is over (returned, pthread_exit, cancelled):
 * returns its DTV block's start.  The slot stays live, and the thread
 * stoppable, while its TLS destructors and glibc's cleanup run; a later
 * stop, claim or attach frees it once the thread is gone.  glibc keeps
 * an exited thread's stack, TCB and DTV in its stack cache for reuse,
 * where no root reaches them: the DTV is glibc's, not a leak of the
 * program, so the caller has it ignored (as by heapsnap_ignore). */
uintptr_t stop_detach(struct stop_slot *s)
{
    if (!atomic_exchange(&s->ending, 1))
        atomic_fetch_add(&stop.nending, 1);
    return stop_dtv_block(s->tp);
}

/* ---------------- stopping ---------------- */

static long stop_futex(atomic_uint *w, int op, unsigned val)
{
    return syscall(SYS_futex, w, op, val, NULL, NULL, 0);
}

/* This thread's alternate signal stack while it runs on it, else 0s. */
static void stop_alt_stack(uintptr_t *lo, uintptr_t *hi)
{
    stack_t ss;
    *lo = *hi = 0;
    if (sigaltstack(NULL, &ss) == 0 && (ss.ss_flags & SS_ONSTACK)) {
        *lo = (uintptr_t)ss.ss_sp;
        *hi = (uintptr_t)ss.ss_sp + ss.ss_size;
    }
}

static int stop_is_foreign(const struct stop_slot *s, pid_t tid)
{
    return atomic_load(&s->state) == STOP_FOREIGN && s->tid == tid;
}

/* A foreign thread's slot in this stop (the handler's search), its writer
 * word held (stop_on_signal gives it back); NULL when there is none,
 * or the collector holds it. */
static struct stop_slot *stop_foreign_self(void)
{
    pid_t tid = (pid_t)syscall(SYS_gettid);
    int top = atomic_load(&stop.top);
    for (int i = 0; i < top; i++) {
        struct stop_slot *s = stop_slot(i);
        int none = 0;
        if (!stop_is_foreign(s, tid))
            continue;
        if (!atomic_compare_exchange_strong(&s->writer, &none, (int)tid))
            return NULL;
        if (stop_is_foreign(s, tid)) /* still ours, now that it cannot change */
            return s;
        atomic_store(&s->writer, 0);
        return NULL;
    }
    return NULL;
}

static void stop_on_signal(int sig, siginfo_t *si, void *ucv)
{
    int saved = errno;
    struct stop_slot *s = stop_self ? stop_self : stop_foreign_self();
    unsigned gen = atomic_load(&stop.gen);
    if (s && atomic_load(&s->ack) == gen && !stop_self)
        atomic_store(&s->writer, 0); /* answered already: nothing to write */
    else if (s && atomic_load(&s->ack) != gen) {
        const ucontext_t *uc = ucv;
        if (!stop_self)
            s->tp = (uintptr_t)pthread_self();
        memcpy(s->regs, uc->uc_mcontext.gregs, sizeof s->regs);
        s->nvec = (unsigned)(fpstate_vectors(uc->uc_mcontext.fpregs, &stop.fp, s->vec,
                                             stop.vec_words * sizeof *s->vec) / sizeof *s->vec);
        s->sp = (uintptr_t)uc->uc_mcontext.gregs[REG_RSP];
        stop_alt_stack(&s->alo, &s->ahi);
        atomic_store(&s->ack, gen);
        if (!stop_self) /* the slot may be freed from here on */
            atomic_store(&s->writer, 0);
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

/* A detach (shim/attach): the stop signal's default disposition back, if
 * ours is on it, as the process had it before the attach.  No stop may be
 * under way. */
void stop_release_signal(void)
{
    struct sigaction old, sa;
    if (!stop.sig || !collect_host || collect_host->sigaction(stop.sig, NULL, &old) != 0 ||
        !(old.sa_flags & SA_SIGINFO) || old.sa_sigaction != stop_on_signal)
        return;
    memset(&sa, 0, sizeof sa);
    sa.sa_handler = SIG_DFL;
    sigemptyset(&sa.sa_mask);
    collect_host->sigaction(stop.sig, &sa, NULL);
    stop.installed = 0;
}

static uint64_t stop_mono_ns(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (uint64_t)ts.tv_sec * 1000000000ull + (uint64_t)ts.tv_nsec;
}

/* Before the stop (may allocate, guard_on set): the caller's stack
 * bounds when it is not registered, the main thread's mapped stack. */
void stop_prepare(void)
{
    if (!stop_self)
        task_bounds(&stop.caller_lo, &stop.caller_hi);
    struct stop_slot *m = &stop.slot0;
    if (atomic_load(&m->state) == STOP_LIVE && m != stop_self) {
        uintptr_t lo = task_mapping_lo(m->hi - 1);
        if (lo)
            m->lo = lo;
        if (!m->vec) /* before its first stop: mapped when first needed */
            m->vec = stop_vec_area(m);
    }
    stop.installed = stop_handler_ok();
}

/* Stops every other thread, registered or not (registry lock held until
 * stop_resume); returns how many could not be stopped. */
uint32_t stop_world(void)
{
    uint32_t unstopped = 0, waiting = 0;
    lock_take(&stop.lock);
    unsigned gen = atomic_fetch_add(&stop.gen, 1) + 1;
    pid_t pid = getpid();
    for (int i = 0, top = atomic_load(&stop.top); i < top; i++) {
        struct stop_slot *s = stop_slot(i);
        s->stopped = 0;
        if (atomic_load(&s->state) != STOP_LIVE || s == stop_self)
            continue;
        if (atomic_load(&s->ending) && stop_gone(s, pid)) {
            stop_free_ended(s);
            continue;
        }
        if (stop.installed && syscall(SYS_tgkill, pid, s->tid, stop.sig) == 0)
            waiting++;
        else
            unstopped++;
    }
    waiting += stop_foreign(pid, gen, &unstopped);
    for (uint64_t until = stop_mono_ns() + STOP_STOP_NS; waiting && stop_mono_ns() < until;) {
        waiting = 0;
        for (int i = 0, top = atomic_load(&stop.top); i < top; i++) {
            struct stop_slot *s = stop_slot(i);
            int st = atomic_load(&s->state);
            if ((st != STOP_LIVE && st != STOP_FOREIGN) || s == stop_self || s->stopped)
                continue;
            if ((s->stopped = atomic_load(&s->ack) == gen))
                continue;
            /* past its destructors, glibc blocks every signal: it will
             * not answer, but it is about to be gone */
            if (st == STOP_FOREIGN) {
                if (!task_dead(s->tid))
                    waiting++;
                else /* exiting or gone: nothing of it to scan */
                    atomic_store(&s->state, STOP_FREE);
            } else if (atomic_load(&s->ending) && stop_gone(s, pid)) {
                stop_free_ended(s);
            } else {
                waiting++;
            }
        }
        if (waiting)
            sched_yield();
    }
    return unstopped + waiting;
}

void stop_resume(void)
{
    int top = atomic_load(&stop.top);
    stop_keep_regs(); /* keptregs.c: for the Python pass, after the resume */
    atomic_store(&stop.go, atomic_load(&stop.gen));
    stop_futex(&stop.go, FUTEX_WAKE_PRIVATE, INT_MAX);
    for (int i = 0; i < top; i++) /* a late handler finds none: it returns */
        if (atomic_load(&stop_slot(i)->state) == STOP_FOREIGN)
            atomic_store(&stop_slot(i)->state, STOP_FREE);
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
/* A stack pointer on the thread's alternate signal stack [alo, ahi): the
 * handler's frames from sp up are a root, and the return is the stack
 * pointer the outermost signal interrupted on the normal stack, read from
 * its signal frame's ucontext near the top of the alternate stack (its
 * uc_stack is the alternate stack, flags 0: it came from outside), or 0
 * (the normal stack is then scanned whole). */
static uintptr_t stop_alt_roots(uintptr_t sp, uintptr_t redzone, uintptr_t alo, uintptr_t ahi,
                                pid_t tid, uintptr_t tp, stop_root_fn fn, void *arg)
{
    uintptr_t from = sp > alo + redzone ? sp - redzone : alo, out = 0;
    fn(from, ahi, MODEL_ROOT_STACK, tid, tp, arg);
    const size_t at = offsetof(ucontext_t, uc_stack);
    for (uintptr_t p = (sp + 7) & ~(uintptr_t)7; p + sizeof(stack_t) <= ahi; p += 8) {
        const stack_t *st = (const stack_t *)p;
        if ((uintptr_t)st->ss_sp != alo || st->ss_size != ahi - alo || st->ss_flags != 0 ||
            p < alo + at || p - at + sizeof(ucontext_t) > ahi)
            continue;
        const ucontext_t *uc = (const ucontext_t *)(p - at);
        out = (uintptr_t)uc->uc_mcontext.gregs[REG_RSP]; /* the outermost wins */
    }
    return out;
}

static void stop_thread_roots(pid_t tid, uintptr_t sp, uintptr_t redzone, uintptr_t lo,
                             uintptr_t hi, uintptr_t tp, const uintptr_t *regs, size_t nregs,
                             const uintptr_t *vec, size_t nvec, uintptr_t *dtv,
                             uintptr_t alo, uintptr_t ahi, stop_root_fn fn, void *arg)
{
    uintptr_t tls_lo = 0, tls_hi = 0;
    if (tp && stop.tls_static > stop.tcb) {
        tls_hi = tp + stop.tcb;
        tls_lo = tls_hi - stop.tls_static;
    }
    if (tls_lo && tls_lo >= lo && tls_lo < hi)
        hi = tls_lo;
    if (sp && (sp < lo || sp >= hi) && alo < ahi && sp >= alo && sp < ahi) {
        sp = stop_alt_roots(sp, redzone, alo, ahi, tid, tp, fn, arg);
        redzone = STOP_REDZONE; /* the interrupted code's red zone */
        if (sp < lo || sp >= hi)
            sp = 0;
    }
    if (sp) {
        sp = sp > lo + redzone ? sp - redzone : lo;
        lo = sp;
    }
    if (lo && hi > lo)
        fn(lo, hi, MODEL_ROOT_STACK, tid, tp, arg);
    if (regs)
        fn((uintptr_t)regs, (uintptr_t)(regs + nregs), MODEL_ROOT_REGS, tid, tp, arg);
    if (vec && nvec)
        fn((uintptr_t)vec, (uintptr_t)(vec + nvec), MODEL_ROOT_REGS, tid, tp, arg);
    if (tls_lo)
        fn(tls_lo, tls_hi, MODEL_ROOT_TLS, tid, tp, arg);
    if ((*dtv = stop_dtv_block(tp)))
        fn((uintptr_t)dtv, (uintptr_t)(dtv + 1), MODEL_ROOT_TLS, tid, tp, arg);
}

/* With the world stopped: every thread's root ranges.  The caller's own
 * stack starts at sp and its registers are regs[0..nregs): the callee-saved
 * ones at its call into the shim.  Its vector registers are not roots: the
 * x86-64 ABI has them all caller-saved, so no value of the program's lives
 * in one across that call (what they hold now is the shim's). */
void stop_roots(uintptr_t sp, const uintptr_t *regs, size_t nregs, stop_root_fn fn, void *arg)
{
    struct stop_slot *me = stop_self;
    uintptr_t alo, ahi;
    stop_alt_stack(&alo, &ahi);
    if (me)
        stop_thread_roots(me->tid, sp, 0, me->lo, me->hi, me->tp, regs, nregs, NULL, 0, &me->dtv, alo,
                         ahi, fn, arg);
    else
        stop_thread_roots((pid_t)syscall(SYS_gettid), sp, 0, stop.caller_lo, stop.caller_hi,
                          (uintptr_t)pthread_self(), regs,
                         nregs, NULL, 0, &stop.caller_dtv, alo, ahi, fn, arg);
    stop_find_unanswered();
    for (int i = 0, top = atomic_load(&stop.top); i < top; i++) {
        struct stop_slot *s = stop_slot(i);
        int st = atomic_load(&s->state);
        if (st == STOP_PENDING)
            fn((uintptr_t)&s->arg, (uintptr_t)(&s->arg + 1), MODEL_ROOT_STACK, s->tid, s->tp, arg);
        if (st == STOP_FOREIGN && !s->stopped) {
            /* its whole stack, static TLS and DTV, as they were at the
             * fork (an in-place check does not run while it runs) */
            stop_thread_roots(s->tid, 0, 0, s->lo, s->hi, s->tp, NULL, 0, NULL, 0, &s->dtv, 0, 0, fn,
                              arg);
            continue;
        }
        if (st == STOP_FOREIGN && s->stopped) {
            /* its stack: from its stack pointer to the end of the mapping
             * that holds it (a glibc stack's TCB and TLS at the top) */
            uintptr_t hi = task_mapping_hi(s->sp);
            if (hi)
                stop_thread_roots(s->tid, s->sp, STOP_REDZONE, s->sp, hi, s->tp, s->regs, NGREG,
                                  s->vec, s->nvec, &s->dtv, s->alo, s->ahi, fn, arg);
            continue;
        }
        if (st != STOP_LIVE || s == me)
            continue;
        stop_thread_roots(s->tid, s->stopped ? s->sp : 0, STOP_REDZONE, s->lo, s->hi, s->tp,
                         s->stopped ? s->regs : NULL, NGREG, s->stopped ? s->vec : NULL,
                         s->nvec, &s->dtv, s->stopped ? s->alo : 0, s->stopped ? s->ahi : 0,
                         fn, arg);
    }
}

/* ---------------- start-up, fork ---------------- */

/* Only the slots ever claimed are looked at: a write to each slot mapped
 * would cost every fork's child a page fault per page (a fork-heavy
 * workload shows it as faults per fork). */
void stop_after_fork_child(void)
{
    lock_drop(&stop.lock);
    int top = atomic_load(&stop.top);
    for (int i = 0; i < top; i++) {
        struct stop_slot *s = stop_slot(i);
        if (s != stop_self && atomic_load(&s->state) != STOP_FREE)
            atomic_store(&s->state, STOP_FREE);
        atomic_store(&s->writer, 0); /* a handler of the parent's */
    }
    if (stop_self)
        stop_self->tid = (pid_t)syscall(SYS_gettid);
    atomic_store(&stop.nending, stop_self && atomic_load(&stop_self->ending));
    atomic_store(&stop.own_tid, 0);
    atomic_store(&stop.own_tp, 0);
    atomic_store(&stop.aux_tid, 0);
    stop.installed = 0;
}

/* Static TLS size (ld.so) and the TCB size (libc's libthread_db data), as
 * LeakSanitizer finds them; without either, TLS is not scanned. */
static void stop_init_tls(void)
{
    void (*info)(size_t *, size_t *) = dlsym(RTLD_NEXT, "_dl_get_tls_static_info");
    const uint32_t *tcb = dlsym(RTLD_NEXT, "_thread_db_sizeof_pthread");
    /* libthread_db's field descriptor: {bits, count, offset} */
    const uint32_t *tid = dlsym(RTLD_NEXT, "_thread_db_pthread_tid");
    if (info && tcb) {
        size_t align;
        info(&stop.tls_static, &align);
        stop.tcb = *tcb;
    } else {
        collect_host->debug("no static TLS bounds: TLS is not scanned", "", "");
    }
    if (tid && tid[0] == 32 && tid[1] == 1 && tcb && tid[2] + 4 <= *tcb)
        stop.tid_off = tid[2];
    else
        collect_host->debug("no pthread tid offset: an ended thread is known by tgkill only", "", "");
}

int stop_can_hold(void)
{
    return stop.sig != 0;
}

/* Start-up, on the main thread (the re-entry guard set: dlsym): the stop
 * signal and the main thread's slot. */
void stop_init(int sig, uintptr_t lo, uintptr_t hi)
{
    stop_init_tls();
    fpstate_layout_init(&stop.fp);
    stop.vec_words = stop.fp.bytes / sizeof(uintptr_t);
    stop.sig = sig;
    struct stop_slot *m = &stop.slot0;
    m->tid = (pid_t)syscall(SYS_gettid);
    m->tp = (uintptr_t)pthread_self();
    if (m->tid == getpid())
        stop.main_tp = m->tp;
    m->lo = lo;
    m->hi = hi;
    stop_self = m;
    atomic_store(&m->state, STOP_LIVE);
    atomic_store(&stop.top, 1);
}
