/*
 * threads.c - the program's threads as the recorder sees them.
 * pthread_create is interposed: the start routine is wrapped so that the
 * new thread registers with the leak check's stop-the-world (stop_attach:
 * its tid, thread pointer and stack bounds, in a fixed array, no
 * allocation) and, when it returns, calls pthread_exit or is cancelled,
 * gives back what the recorder kept for it: its held frees and fresh
 * blocks (pend_thread_end), its walk memo (unwind/), its line of sums (trace_thread_end).
 * Its registration outlives that point: the leak check keeps stopping and
 * scanning it while its TLS destructors run, until the thread is gone.
 * A joinable thread's return value stays a root (result_keep) until
 * pthread_join, its try/timed/clock forms or pthread_detach (interposed)
 * take it back.
 * The main thread is registered at start-up.  Threads the shim creates
 * itself (the snapshot helper) are not registered: they hold no program
 * pointers and block every signal, and give their tid to stop_own_thread
 * so that a stop leaves them alone.  Threads started past this hook (the
 * pthread_create dlsym(RTLD_NEXT) finds) are found by the stop itself.
 *   The last thread's end: glibc ends a process with exit(0) when its
 * count of threads reaches zero (C's main calling pthread_exit, CPython's
 * thread that forked, in the child).  The helper thread counts there and
 * blocks every signal, so such a process lived on, SIGTERM pending for
 * ever (CPython's test_threading.test_3_join_in_forked_from_thread hung:
 * test_python_cpython_suite, test_guest).  The program's threads are
 * counted (thr_live: main, and each one this hook starts), and a thread
 * whose end leaves none, and which finds no other thread but the helper
 * in /proc/self/stat, calls exit(0) from its key's destructor: the exit
 * glibc would make after it.
 */
#include <dlfcn.h>
#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>
#include <unistd.h>

#include "root.h"
#include "python.h" /* pyfr_thread_end */

static int (*thr_create)(pthread_t *, const pthread_attr_t *, void *(*)(void *), void *);
static __thread int thr_registered; /* this thread runs thr_start */
static pthread_key_t thr_key;       /* its destructor: a thread's very end */
static int thr_key_ok;
static atomic_long thr_live = 1;    /* the program's threads, main's included */

/* This thread ends with ret: kept as a root until it is joined, unless it
 * is detached (checked after keeping: a pthread_detach racing with the
 * end drops the value itself, or is seen here). */
static void thr_keep(void *ret)
{
    pthread_attr_t a;
    int state = PTHREAD_CREATE_JOINABLE;
    if (!ret || !thr_registered)
        return;
    result_keep((uintptr_t)pthread_self(), (uintptr_t)ret);
    int saved = guard_enter(); /* pthread_getattr_np allocates */
    if (pthread_getattr_np(pthread_self(), &a) == 0) {
        pthread_attr_getdetachstate(&a, &state);
        pthread_attr_destroy(&a);
    }
    guard_leave(saved);
    if (state == PTHREAD_CREATE_DETACHED)
        result_drop((uintptr_t)pthread_self());
}

/* A thread's end (its cleanup handler). */
static void thr_detach(void *p)
{
    uintptr_t dtv = stop_detach(p);
    pend_thread_end();
    unwind_thread_end();
    pyfr_thread_end();
    trace_thread_end();
    peak_thread_end();
    if (dtv)
        lchk_ignore((const void *)dtv);
}

/* 1 when this thread and the helper are the process's only live threads
 * (/proc/self/stat: num_threads, the 20th field, counts a leader that
 * ended by pthread_exit while others ran on: a zombie, the 3rd field's Z). */
static int thr_alone(void)
{
    char buf[512];
    int fd = open("/proc/self/stat", O_RDONLY | O_CLOEXEC);
    if (fd < 0)
        return 0;
    ssize_t n = read(fd, buf, sizeof buf - 1);
    close(fd);
    if (n <= 0)
        return 0;
    buf[n] = 0;
    char *p = strrchr(buf, ')'); /* past the command's name, which may hold anything */
    if (!p || p[1] != ' ')
        return 0;
    int leader_gone = p[2] == 'Z';
    for (int field = 2; p && field < 20; field++)
        p = strchr(p + 1, ' ');
    return p && strtol(p + 1, NULL, 10) == 1 + leader_gone + helper_running();
}

/* The key's destructor, among this thread's last steps (glibc's own exit
 * for the last thread follows them): the program's last thread ends the
 * process, as it would without the helper.  A thread whose end came just
 * before may still be in the kernel's count: its key's destructor ran, but
 * not its later ones nor glibc's last steps (CPython's join returns before
 * them: in test_threading.test_3_join_in_forked_from_thread the child's
 * last two threads end one after the other, and under load the second
 * found the first there and the child lived on, its parent waiting for
 * ever).  So a count
 * that says not alone is read again, every millisecond for THR_END_WAIT_MS
 * at most, while no program thread starts: a thread the shim never
 * counted (started past the hook) keeps the process, as it would glibc's,
 * and costs this thread's end that wait once
 * (guest_last_thread_waits_for_one_ending). */
#define THR_END_WAIT_MS 500
static void thr_key_end(void *v)
{
    (void)v;
    if (atomic_fetch_sub(&thr_live, 1) != 1)
        return;
    for (int ms = 0; atomic_load(&thr_live) == 0; ms++) {
        if (thr_alone())
            exit(0);
        if (ms == THR_END_WAIT_MS)
            return;
        struct timespec t = {0, 1000000};
        nanosleep(&t, NULL);
    }
}

static void thr_live_mark(void)
{
    if (thr_key_ok) {
        int saved = guard_enter(); /* a key past the first 32 allocates its block */
        pthread_setspecific(thr_key, (void *)1);
        guard_leave(saved);
    }
}

/* fork's child: the thread that forked is its only one. */
static void thr_live_forked(void)
{
    atomic_store(&thr_live, 1);
}

static void *thr_start(void *p)
{
    struct stop_slot *s = p;
    void *(*start)(void *), *arg, *ret;
    uintptr_t lo, hi;
    int saved = guard_enter(); /* pthread_getattr_np allocates */
    task_bounds(&lo, &hi);
    guard_leave(saved);
    stop_attach(s, lo, hi, &start, &arg);
    pend_thread_begin();
    thr_registered = 1;
    thr_live_mark();
    pthread_cleanup_push(thr_detach, s);
    ret = start(arg);
    thr_keep(ret);
    pthread_cleanup_pop(1);
    return ret;
}

static void thr_resolve(void)
{
    int saved = guard_enter();
    if (!thr_create)
        thr_create = dlsym(RTLD_NEXT, "pthread_create");
    guard_leave(saved);
}

HS_EXPORT int pthread_create(pthread_t *t, const pthread_attr_t *attr,
                             void *(*start)(void *), void *arg)
{
    if (HS_UNLIKELY(!thr_create))
        thr_resolve();
    if (!thr_create)
        return EAGAIN;
    struct stop_slot *s = guard_on || cred_secure() ? NULL : stop_claim(start, arg);
    if (!s)
        return thr_create(t, attr, start, arg);
    atomic_fetch_add(&thr_live, 1); /* before it can end */
    int r = thr_create(t, attr, thr_start, s);
    if (r != 0) {
        atomic_fetch_sub(&thr_live, 1);
        stop_unclaim(s);
    }
    return r;
}

/* pthread_exit, the joins and pthread_detach: an ended thread's return
 * value is a root from its end until it is fetched or cannot be. */
static void *thr_next(const char *name)
{
    int saved = guard_enter();
    void *f = dlsym(RTLD_NEXT, name);
    guard_leave(saved);
    return f;
}

HS_EXPORT __attribute__((noreturn)) void pthread_exit(void *ret)
{
    static void (*next)(void *);
    if (!next)
        next = (void (*)(void *))thr_next("pthread_exit");
    thr_keep(ret);
    if (next)
        next(ret);
    abort(); /* the real pthread_exit does not return */
}

HS_EXPORT int pthread_join(pthread_t t, void **ret)
{
    static int (*next)(pthread_t, void **);
    if (!next && !(next = (int (*)(pthread_t, void **))thr_next("pthread_join")))
        return ENOSYS;
    int r = next(t, ret);
    if (r == 0)
        result_drop((uintptr_t)t);
    return r;
}

HS_EXPORT int pthread_tryjoin_np(pthread_t t, void **ret)
{
    static int (*next)(pthread_t, void **);
    if (!next && !(next = (int (*)(pthread_t, void **))thr_next("pthread_tryjoin_np")))
        return ENOSYS;
    int r = next(t, ret);
    if (r == 0)
        result_drop((uintptr_t)t);
    return r;
}

HS_EXPORT int pthread_timedjoin_np(pthread_t t, void **ret, const struct timespec *at)
{
    static int (*next)(pthread_t, void **, const struct timespec *);
    if (!next && !(next = (int (*)(pthread_t, void **, const struct timespec *))thr_next(
                       "pthread_timedjoin_np")))
        return ENOSYS;
    int r = next(t, ret, at);
    if (r == 0)
        result_drop((uintptr_t)t);
    return r;
}

HS_EXPORT int pthread_clockjoin_np(pthread_t t, void **ret, clockid_t clock,
                                   const struct timespec *at)
{
    static int (*next)(pthread_t, void **, clockid_t, const struct timespec *);
    if (!next && !(next = (int (*)(pthread_t, void **, clockid_t, const struct timespec *))
                       thr_next("pthread_clockjoin_np")))
        return ENOSYS;
    int r = next(t, ret, clock, at);
    if (r == 0)
        result_drop((uintptr_t)t);
    return r;
}

HS_EXPORT int pthread_detach(pthread_t t)
{
    static int (*next)(pthread_t);
    if (!next && !(next = (int (*)(pthread_t))thr_next("pthread_detach")))
        return ENOSYS;
    int r = next(t);
    if (r == 0)
        result_drop((uintptr_t)t);
    return r;
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

static int thr_signal(void)
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
    return sig;
}

/* After life_init (priority 101): options are parsed.  The leak room meets
 * its host first (the registry warns through it). */
/* ---------------- the recorder, as the leak room sees it ---------------- */

/* The recorder's locks, in root.h's order, around the leak check's stop. */
static void thr_lock_world(void)
{
    trace_lock();
    tbl_lock_all();
    arena_lock();
    arena_maps_hold();
}

static void thr_unlock_world(void)
{
    arena_maps_release();
    arena_unlock();
    tbl_unlock_all();
    trace_unlock();
}

static const struct leak_host thr_leak_host = {
    .map = arena_map,
    .unmap = arena_unmap,
    .remap = arena_remap,
    .populate = arena_populate,
    .warn = opt_warn,
    .debug = opt_debug,
    .loader_enter = loader_enter,
    .loader_leave = loader_leave,
    .lock_all = thr_lock_world,
    .unlock_all = thr_unlock_world,
    .sigaction = sig_install,
    .trace_lock = trace_lock,
    .trace_unlock = trace_unlock,
    .trace_count = trace_count,
    .trace_stack = trace_stack,
    .runtime_owned = dom_immortal,
    .stale_words = dom_stale_words,
    .object_starts = py_object_starts,
    .init_trace = pyl_init_trace,
    .init_object = pyl_init_object,
    .init_held = pyl_init_held,
    .init_prepare = pyl_init_prepare,
    .own_maps = arena_each_map,
    .own_maps_hold = arena_maps_hold,
    .own_maps_release = arena_maps_release,
};

__attribute__((constructor(102))) static void thr_init(void)
{
    uintptr_t lo, hi;
    if (cred_secure()) { /* no registry, no stop signal's handler */
        thr_resolve();
        return;
    }
    int saved = guard_enter();
    collect_init(&thr_leak_host);
    thr_resolve();
    task_bounds(&lo, &hi);
    int sig = thr_signal();
    stop_init(sig, lo, hi);
    sig_keep_open(sig);
    roots_set_mapped(opt_int(OPT_MAPPED_ROOTS) != 0);
    pend_thread_begin();
    pthread_atfork(NULL, NULL, stop_after_fork_child);
    thr_key_ok = pthread_key_create(&thr_key, thr_key_end) == 0;
    thr_live_mark(); /* main's */
    pthread_atfork(NULL, NULL, thr_live_forked);
    guard_leave(saved);
}
