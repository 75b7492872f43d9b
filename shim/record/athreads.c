/*
 * athreads.c - the threads that allocate, as the traces name them: each
 * thread gets a small index the first time it interns a stack (traces.c's
 * slow path asks athr_mine; the hooks' fast paths never do), and traces.c
 * keeps a stack apart per index, so that a trace's sums are one thread's
 * (top --key thread).  A record per index says which thread it was: its
 * tid and its name (the kernel's comm: pthread_setname_np, prctl, and
 * CPython from 3.14, which gives threading's names to the OS), read when
 * the index is given, again when the thread ends, and for the threads
 * still running at each snapshot (/proc/self/task/TID/comm: a name set
 * after the first allocation counts); a Python thread's name as threading
 * has it, when a snapshot read one (athr_py_name), is shown instead and
 * kept once the thread ends.  Indexes are never reused, so a
 * trace names one thread for good; the threads past ATHR_MAX share index
 * 0, "other threads".  Fixed storage, no lock: an index is an atomic
 * counter's, a record is its thread's to write until it ends.  Prefix
 * athr_.
 */
#include <fcntl.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/syscall.h>
#include <unistd.h>

#include "recinner.h"

/* One record per index, [1, ATHR_MAX); 0 stands for the threads past it. */
static struct athr_rec {
    _Atomic int32_t tid;  /* 0: not given yet */
    _Atomic uint32_t state; /* ATHR_ENDED, ATHR_PY */
    char name[HSNAP_THREAD_NAME];
} athr_recs[ATHR_MAX];
#define ATHR_ENDED 1u /* the thread has ended */
#define ATHR_PY 2u    /* name is its Python name (athr_py_name): comm is read no more */

static _Atomic uint32_t athr_next = 1; /* the next index to give */
static __thread uint32_t athr_me1;     /* this thread's index + 1; 0: none yet */

static void athr_comm_self(char *name)
{
    char buf[16 + 1] = {0};
    if (prctl(PR_GET_NAME, (unsigned long)buf, 0, 0, 0) == 0)
        memcpy(name, buf, HSNAP_THREAD_NAME);
}

static HS_NOINLINE uint32_t athr_claim(void)
{
    uint32_t i = atomic_fetch_add_explicit(&athr_next, 1, memory_order_relaxed);
    if (i >= ATHR_MAX) {
        atomic_store_explicit(&athr_next, ATHR_MAX, memory_order_relaxed);
        i = 0;
    } else {
        struct athr_rec *r = &athr_recs[i];
        athr_comm_self(r->name);
        atomic_store_explicit(&r->tid, (int32_t)syscall(SYS_gettid), memory_order_release);
    }
    athr_me1 = i + 1;
    return i;
}

uint32_t athr_mine(void)
{
    uint32_t m = athr_me1;
    return HS_LIKELY(m) ? m - 1 : athr_claim();
}

void athr_thread_end(void)
{
    uint32_t m = athr_me1;
    if (m > 1) {
        if (!(atomic_load_explicit(&athr_recs[m - 1].state, memory_order_acquire) & ATHR_PY))
            athr_comm_self(athr_recs[m - 1].name);
        atomic_fetch_or_explicit(&athr_recs[m - 1].state, ATHR_ENDED, memory_order_release);
    }
}

/* In a fork's child only this thread is left: it is the child's own
 * thread now (its tid), the others ended in the parent. */
void athr_after_fork_child(void)
{
    uint32_t n = atomic_load_explicit(&athr_next, memory_order_relaxed);
    for (uint32_t i = 1; i < n && i < ATHR_MAX; i++)
        if (i + 1 != athr_me1)
            atomic_fetch_or_explicit(&athr_recs[i].state, ATHR_ENDED, memory_order_relaxed);
    if (athr_me1 > 1)
        atomic_store_explicit(&athr_recs[athr_me1 - 1].tid, (int32_t)syscall(SYS_gettid),
                              memory_order_relaxed);
}

/* A running thread's comm, read from /proc (no allocation). */
static void athr_comm_of(int32_t tid, char *name)
{
    char path[48] = "/proc/self/task/", buf[HSNAP_THREAD_NAME + 1];
    size_t k = strlen(path);
    char digits[12];
    int nd = 0;
    for (uint32_t v = (uint32_t)tid; v || !nd; v /= 10)
        digits[nd++] = (char)('0' + v % 10);
    while (nd)
        path[k++] = digits[--nd];
    memcpy(path + k, "/comm", 6);
    int fd = open(path, O_RDONLY | O_CLOEXEC);
    if (fd < 0)
        return;
    ssize_t got = read(fd, buf, sizeof buf - 1);
    close(fd);
    if (got <= 0)
        return;
    while (got > 0 && (buf[got - 1] == '\n' || buf[got - 1] == 0))
        got--;
    memset(name, 0, HSNAP_THREAD_NAME);
    memcpy(name, buf, (size_t)got < HSNAP_THREAD_NAME ? (size_t)got : HSNAP_THREAD_NAME);
}

uint32_t athr_count(void)
{
    uint32_t n = atomic_load_explicit(&athr_next, memory_order_acquire);
    return n < ATHR_MAX ? n : ATHR_MAX;
}

int athr_get(uint32_t i, struct hsnap_thread *out, int fresh)
{
    memset(out, 0, sizeof *out);
    out->index = i;
    if (i == 0) {
        out->flags = HSNAP_THREAD_OTHERS;
        return 1;
    }
    if (i >= ATHR_MAX)
        return 0;
    struct athr_rec *r = &athr_recs[i];
    int32_t tid = atomic_load_explicit(&r->tid, memory_order_acquire);
    if (!tid)
        return 0;
    if (fresh && !atomic_load_explicit(&r->state, memory_order_acquire)) /* nor ATHR_PY */
        athr_comm_of(tid, r->name);
    out->tid = tid;
    if (atomic_load_explicit(&r->state, memory_order_relaxed) & ATHR_ENDED)
        out->flags |= HSNAP_THREAD_ENDED;
    if (tid == (int32_t)getpid())
        out->flags |= HSNAP_THREAD_MAIN;
    memcpy(out->name, r->name, HSNAP_THREAD_NAME);
    return 1;
}

void athr_py_name(int32_t tid, const char *name, uint32_t len)
{
    uint32_t n = athr_count();
    if (tid <= 0 || !len || len >= HSNAP_THREAD_NAME)
        return;
    for (uint32_t i = 1; i < n; i++) {
        struct athr_rec *r = &athr_recs[i];
        if (atomic_load_explicit(&r->tid, memory_order_acquire) == tid &&
            !(atomic_load_explicit(&r->state, memory_order_acquire) & ATHR_ENDED)) {
            atomic_fetch_or_explicit(&r->state, ATHR_PY, memory_order_relaxed);
            memcpy(r->name, name, len);
            memset(r->name + len, 0, HSNAP_THREAD_NAME - len);
        }
    }
}
