/*
 * pending.c - frees held back: each thread's short queue of blocks the
 * program has freed and the shim has not yet released.
 *
 * Why: on a free the shim must find the block in the live-block table, and
 * glibc must read the chunk's header.  For blocks the program has not
 * touched lately both are cache misses, one after the other, and on the
 * small-block churn they were most of the shim's cost.  Instead, a free
 * only starts loading both lines (prefetch) and puts the block in the
 * thread's queue; the block that falls out of the queue, PEND_DEPTH frees
 * later, is the one removed from the table and given to the real free,
 * by then with both lines in cache.  Only threads whose frees are mostly
 * of old blocks hold any, and never a young block (pend_hold says why).
 * No lock: a queue is written only by its own thread, with hook_guard set
 * (a signal handler's free passes through untracked and never touches it).
 *
 * What a held block may not change:
 *  - Memory: at most PEND_DEPTH blocks per thread, released PEND_DEPTH
 *    frees later or at once when the thread allocates PEND_BIG bytes or
 *    more (pend_room, shim.h), so "free a big block, allocate another" never
 *    holds two.  glibc's mmapped chunks (a page start + 16) are never held.
 *  - Snapshots and the leak check: a held block is freed as far as the
 *    program knows.  Every walk of the table goes through pend_foreach,
 *    which leaves out the blocks any queue holds (a snapshot counts them
 *    as freed in its sums); the thread that takes a snapshot or asks for
 *    its sums settles its own queue first.
 *  - The peak: traces.c settles the thread's queue before it raises the
 *    peak, so with one thread the peak is still exact.
 *  - Thread end, fork: a thread settles its queue as it ends (threads.c);
 *    in a fork's child the other threads' queues are settled for them.
 *
 * Queues live in a static array (PEND_QUEUES of them), claimed by a
 * thread at its start: a reader on another thread never reads memory that
 * may be gone.  Threads past PEND_QUEUES free at once, as before.
 */
#include <string.h>

#include "shim.h"

#define PEND_DEPTH 4      /* blocks a thread holds */
#define PEND_QUEUES 64    /* threads that hold any */
#define PEND_YOUNG_BITS 6 /* blocks remembered as young: 64, direct-mapped */
#define PEND_SCORE 1024   /* bound of the old-minus-young score (pend_hold) */

struct pend_queue {
    void *_Atomic p[PEND_DEPTH]; /* NULL = empty */
    unsigned next;               /* the slot the next free goes to */
    int score;                   /* > 0: this thread holds (pend_hold) */
    atomic_int owned;
    uintptr_t young[1u << PEND_YOUNG_BITS]; /* recent allocations, by pend_young */
} __attribute__((aligned(64)));

static struct pend_queue pend_q[PEND_QUEUES];
__thread struct pend_queue *pend_self;

/* The calling thread starts holding frees, if a queue is left. */
void pend_thread_begin(void)
{
    for (unsigned i = 0; i < PEND_QUEUES && !pend_self; i++) {
        int want = 0;
        if (atomic_compare_exchange_strong(&pend_q[i].owned, &want, 1)) {
            pend_q[i].score = 0; /* a previous owner's history is not ours */
            memset(pend_q[i].young, 0, sizeof pend_q[i].young);
            pend_self = &pend_q[i];
        }
    }
}

/* Releases every block q holds.  Each slot is emptied before its block is
 * released, so a settle that re-enters (through the peak) finds it empty. */
static void pend_drain(struct pend_queue *q)
{
    int saved = hook_guard;
    hook_guard = 1;
    for (unsigned i = 0; i < PEND_DEPTH; i++) {
        void *p = atomic_exchange_explicit(&q->p[i], NULL, memory_order_relaxed);
        if (p)
            hook_release(p);
    }
    hook_guard = saved;
}

/* Releases what the calling thread holds. */
void pend_settle(void)
{
    if (pend_self)
        pend_drain(pend_self);
}

/* The thread ends: what it holds goes now; it frees at once from here on. */
void pend_thread_end(void)
{
    struct pend_queue *q = pend_self;
    if (!q)
        return;
    pend_drain(q);
    pend_self = NULL;
    atomic_store(&q->owned, 0);
}

/* In a fork's child (locks free): only this thread is left,
 * and the blocks the others held are released for them. */
void pend_after_fork_child(void)
{
    for (unsigned i = 0; i < PEND_QUEUES; i++) {
        struct pend_queue *q = &pend_q[i];
        if (q == pend_self || !atomic_load(&q->owned))
            continue;
        pend_drain(q);
        atomic_store(&q->owned, 0);
    }
}

static inline unsigned pend_young(uintptr_t p)
{
    return (unsigned)((p * 0x9e3779b97f4a7c15ULL) >> (64 - PEND_YOUNG_BITS));
}

/* The thread allocated p (a tracked block). */
void pend_note(void *p)
{
    struct pend_queue *q = pend_self;
    if (q)
        q->young[pend_young((uintptr_t)p)] = (uintptr_t)p;
}

/* A tracked free: holds p and returns the block to release now (the one
 * that fell out), or NULL.  Starts loading p's table slot; free() already
 * started on its header.
 *
 * Only a thread whose frees are mostly of old blocks holds any.  A young
 * block (one of the thread's last few dozen allocations) has its table
 * slot and header still in cache: holding it hides nothing.  And holding
 * changes which block glibc hands out next.  Where most frees are of
 * blocks the program just allocated (and just used), that reuse is worth
 * more than what holding hides: measured, holding every old block made the
 * C++ containers workload 1.18x -> 1.36x (its memcmp of map keys slowed
 * down by a third) while the small-block churn, whose frees are all of old,
 * cold blocks, went 1.84x -> 1.24x.  So the thread keeps a score, +1 for
 * each old block freed, -1 for each young one, within +-PEND_SCORE, and
 * holds while it is positive (churn: 0.1% young; deep 0.1%; realloc 11%;
 * python 55%; cxx 69%; sqlite 99%). */
void *pend_hold(void *p)
{
    struct pend_queue *q = pend_self;
    if (!q || ((uintptr_t)p & 4095) == 16) /* none, maybe an mmapped chunk */
        return p;
    if (q->young[pend_young((uintptr_t)p)] == (uintptr_t)p) {
        if (q->score > -PEND_SCORE && --q->score == 0)
            pend_drain(q); /* stops holding: what it held goes too */
        return p;
    }
    if (q->score < PEND_SCORE)
        q->score++;
    if (q->score <= 0)
        return p;
    tbl_prefetch_ptr((uintptr_t)p);
    unsigned i = q->next;
    void *out = atomic_load_explicit(&q->p[i], memory_order_relaxed);
    atomic_store_explicit(&q->p[i], p, memory_order_relaxed);
    q->next = (i + 1) % PEND_DEPTH;
    return out;
}

/* ---------------- walks that leave held blocks out ---------------- */

struct pend_view {
    uintptr_t p[PEND_QUEUES * PEND_DEPTH]; /* sorted */
    unsigned n;
    tbl_visit_fn fn;
    void *arg;
    struct pend_left left;
};

/* Every block some queue holds now, sorted (insertion: a handful). */
static void pend_look(struct pend_view *v)
{
    v->n = 0;
    for (unsigned i = 0; i < PEND_QUEUES; i++) {
        if (!atomic_load_explicit(&pend_q[i].owned, memory_order_relaxed))
            continue;
        for (unsigned j = 0; j < PEND_DEPTH; j++) {
            uintptr_t p = (uintptr_t)atomic_load_explicit(&pend_q[i].p[j], memory_order_relaxed);
            if (!p)
                continue;
            unsigned k = v->n++;
            for (; k > 0 && v->p[k - 1] > p; k--)
                v->p[k] = v->p[k - 1];
            v->p[k] = p;
        }
    }
}

static int pend_held(const struct pend_view *v, uintptr_t p)
{
    unsigned lo = 0, hi = v->n;
    while (lo < hi) {
        unsigned mid = (lo + hi) / 2;
        if (v->p[mid] < p)
            lo = mid + 1;
        else
            hi = mid;
    }
    return lo < v->n && v->p[lo] == p;
}

static int pend_visit(const struct tbl_entry *e, void *arg)
{
    struct pend_view *v = arg;
    if (v->n && pend_held(v, e->ptr)) {
        uint64_t n, bytes;
        sample_weigh(e->size, &n, &bytes);
        v->left.blocks++;
        v->left.bytes += bytes;
        return 0;
    }
    return v->fn(e, v->arg);
}

/* tbl_foreach (tries == 0) or tbl_foreach_bounded, without the held
 * blocks.  A block held while the walk runs on other threads may be
 * counted or not, as any block freed during the walk. */
int pend_foreach(tbl_visit_fn fn, void *arg, unsigned tries, struct pend_left *left)
{
    struct pend_view v;
    v.fn = fn;
    v.arg = arg;
    v.left = (struct pend_left){0, 0};
    pend_look(&v);
    int r = tries ? tbl_foreach_bounded(pend_visit, &v, tries) : tbl_foreach(pend_visit, &v);
    if (left)
        *left = v.left;
    return r;
}
