/*
 * pendwalk.c - the walks of the live-block table as the program sees it:
 * without the blocks the threads hold back from it (held frees) and with
 * the ones not yet in it (fresh blocks), each visited once (pend_foreach),
 * the count of both (pend_live_count), the held ones and what they weigh
 * (pend_held_foreach, pend_held_bytes: the timeline counts the heap
 * without them, the site line takes them out of peak_live's sums).  The
 * queues are pending.c's; their layout is in recinner.h.
 */
#include <string.h>

#include "recinner.h"

#define PEND_MASK_SHIFT 8
#define PEND_MASK_BITS (1u << PEND_MASK_SHIFT)

struct pend_view {
    uintptr_t p[PEND_QUEUES * PEND_DEPTH]; /* held, sorted */
    unsigned n;
    struct tbl_entry fresh[PEND_QUEUES * PEND_SLOTS]; /* sorted by ptr, each once */
    unsigned char seen[PEND_QUEUES * PEND_SLOTS];     /* ... met in the table too */
    unsigned nfresh;
    /* A bit per hash of every pointer in p[] and fresh[] (pend_mark): a
     * table block whose bit is clear is in neither, and skips their
     * searches - the walk's usual case (a kept heap's exit snapshot visits
     * each block twice: the instruction count's kept64 workload). */
    uint64_t mask[PEND_MASK_BITS / 64];
    tbl_visit_fn fn;
    void *arg;
    struct pend_left left;
};

/* p's bit in a view's mask. */
static inline unsigned pend_mask_bit(uintptr_t p)
{
    return (unsigned)((p * 0x9e3779b97f4a7c15ULL) >> (64 - PEND_MASK_SHIFT));
}

static inline void pend_mark(struct pend_view *v, uintptr_t p)
{
    unsigned b = pend_mask_bit(p);
    v->mask[b / 64] |= 1ULL << (b % 64);
}

/* Index of the first of the n sorted values at a (stride apart) >= p. */
static unsigned pend_lower(const void *a, size_t stride, unsigned n, uintptr_t p)
{
    unsigned lo = 0, hi = n;
    while (lo < hi) {
        unsigned mid = (lo + hi) / 2;
        if (*(const uintptr_t *)((const char *)a + mid * stride) < p)
            lo = mid + 1;
        else
            hi = mid;
    }
    return lo;
}

/* Every block some queue holds now, and every fresh block, each sorted
 * (insertion: a handful per thread).  A fresh slot is read between two
 * loads of its pointer; one that changed meanwhile is left out (its block
 * is born or dies during the walk: either is right). */
static void pend_look(struct pend_view *v)
{
    v->n = v->nfresh = 0;
    memset(v->mask, 0, sizeof v->mask);
    unsigned top = atomic_load_explicit(&pend_q_top, memory_order_acquire);
    for (unsigned i = 0; i < top; i++) {
        struct pend_queue *q = &pend_q[i];
        if (!atomic_load_explicit(&q->owned, memory_order_relaxed))
            continue;
        for (unsigned j = 0; j < PEND_DEPTH; j++) {
            uintptr_t p = (uintptr_t)atomic_load_explicit(&q->p[j], memory_order_relaxed);
            if (!p)
                continue;
            pend_mark(v, p);
            unsigned k = v->n++;
            for (; k > 0 && v->p[k - 1] > p; k--)
                v->p[k] = v->p[k - 1];
            v->p[k] = p;
        }
        for (unsigned j = 0; j < PEND_SLOTS; j++) { /* the entering slot last */
            struct tbl_entry e;
            uintptr_t p = pend_fresh_peek(&q->fresh[j], &e);
            if (!p)
                continue;
            unsigned k = pend_lower(v->fresh, sizeof *v->fresh, v->nfresh, p);
            if (k < v->nfresh && v->fresh[k].ptr == p)
                continue; /* seen in its slot, then entering (pend_fresh_evict) */
            pend_mark(v, p);
            memmove(&v->fresh[k + 1], &v->fresh[k], (v->nfresh - k) * sizeof *v->fresh);
            v->fresh[k] = e;
            v->nfresh++;
        }
    }
    memset(v->seen, 0, v->nfresh);
}

static int pend_visit(const struct tbl_entry *e, void *arg)
{
    struct pend_view *v = arg;
    unsigned k, b = pend_mask_bit(e->ptr);
    if (HS_LIKELY(!(v->mask[b / 64] >> (b % 64) & 1)))
        return v->fn(e, v->arg); /* neither held nor fresh */
    if (v->n && (k = pend_lower(v->p, sizeof *v->p, v->n, e->ptr)) < v->n && v->p[k] == e->ptr) {
        uint64_t n, bytes;
        sample_weigh(e->size, &n, &bytes);
        v->left.blocks++;
        v->left.bytes += bytes;
        return 0;
    }
    /* entering the table while the walk ran: visited here, not twice */
    if (v->nfresh && (k = pend_lower(v->fresh, sizeof *v->fresh, v->nfresh, e->ptr)) < v->nfresh &&
        v->fresh[k].ptr == e->ptr)
        v->seen[k] = 1;
    return v->fn(e, v->arg);
}

/* tbl_foreach (tries == 0), tbl_foreach_bounded, tbl_drain (PEND_DRAIN)
 * or tbl_foreach_copied (PEND_COPIED), without the held
 * blocks and with the fresh ones.  A block held, or born, while the walk
 * runs on other threads may be counted or not, as any block freed during
 * the walk.  -1 also when the view's memory cannot be had. */
int pend_foreach(tbl_visit_fn fn, void *arg, unsigned tries, struct pend_left *left)
{
    /* About 29 KiB: too big for the stack of a fatal signal's snapshot.  mmap is
     * async-signal-safe, and no lock is needed. */
    struct pend_view *v = arena_map(sizeof *v);
    if (!v)
        return -1;
    v->fn = fn;
    v->arg = arg;
    v->left = (struct pend_left){0, 0};
    pend_look(v);
    int r = tries == PEND_DRAIN    ? tbl_drain(pend_visit, v)
            : tries == PEND_COPIED ? tbl_foreach_copied(pend_visit, v)
            : tries                ? tbl_foreach_bounded(pend_visit, v, tries)
                                   : tbl_foreach(pend_visit, v);
    for (unsigned k = 0; r == 0 && k < v->nfresh; k++)
        if (!v->seen[k])
            r = fn(&v->fresh[k], arg);
    if (left)
        *left = v->left;
    arena_unmap(v, sizeof *v);
    return r;
}

/* Live blocks: the table's and the fresh ones (sizes an array for a walk). */
uint64_t pend_live_count(void)
{
    uint64_t n = tbl_count();
    unsigned top = atomic_load_explicit(&pend_q_top, memory_order_acquire);
    for (unsigned i = 0; i < top; i++)
        if (atomic_load_explicit(&pend_q[i].owned, memory_order_relaxed))
            for (unsigned j = 0; j < PEND_SLOTS; j++)
                n += atomic_load_explicit(&pend_q[i].fresh[j].p, memory_order_relaxed) != 0;
    return n;
}

/* Each block the threads hold now (freed by the program, not yet
 * released) to fn, as its table entry.  A slot is read, its block looked
 * up, and the slot read again: a block released meanwhile is left out, and
 * one released, born again at its address and held again in the same slot
 * is held now.  Takes table stripes: the caller holds no lock of the
 * shim's. */
void pend_held_foreach(void (*fn)(const struct tbl_entry *e, void *arg), void *arg)
{
    unsigned top = atomic_load_explicit(&pend_q_top, memory_order_acquire);
    for (unsigned i = 0; i < top; i++) {
        struct pend_queue *q = &pend_q[i];
        if (!atomic_load_explicit(&q->owned, memory_order_relaxed))
            continue;
        for (unsigned j = 0; j < PEND_DEPTH; j++) {
            uintptr_t p = (uintptr_t)atomic_load_explicit(&q->p[j], memory_order_relaxed);
            struct tbl_entry e;
            if (p && tbl_find(p, &e) &&
                (uintptr_t)atomic_load_explicit(&q->p[j], memory_order_acquire) == p)
                fn(&e, arg);
        }
    }
}

static void pend_held_weigh(const struct tbl_entry *e, void *arg)
{
    uint64_t n, bytes;
    sample_weigh(e->size, &n, &bytes);
    *(uint64_t *)arg += bytes;
}

/* The bytes of the blocks the threads hold now (pend_held_foreach's). */
uint64_t pend_held_bytes(void)
{
    uint64_t sum = 0;
    pend_held_foreach(pend_held_weigh, &sum);
    return sum;
}

/* The held blocks' addresses folded into one word (no lock): a walk that
 * found the same allocations and frees counted (sl_unchanged) walks again
 * when a thread has held a free since, which moved no count. */
uint64_t pend_held_sig(void)
{
    uint64_t sig = 0;
    unsigned top = atomic_load_explicit(&pend_q_top, memory_order_acquire);
    for (unsigned i = 0; i < top; i++)
        for (unsigned j = 0; j < PEND_DEPTH; j++)
            sig = sig * 0x9e3779b97f4a7c15ULL +
                  (uintptr_t)atomic_load_explicit(&pend_q[i].p[j], memory_order_relaxed);
    return sig;
}
