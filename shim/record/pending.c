/*
 * pending.c - each thread's changes to the live-block table that the shim
 * holds back: frees not yet released (held, at most PEND_DEPTH a thread,
 * so that the table's slot and glibc's chunk header are in cache when the
 * block is released) and new blocks not yet inserted (PEND_SLOTS fresh
 * slots, so that a block that dies young never touches the table).
 * docs/design.md, "Held frees and fresh blocks", says when each is used.
 *   Who may touch a slot: its thread alone fills an empty slot, and alone
 * empties a slot whose block it frees itself, without a lock.  Anything
 * else that empties a full slot holds the queue's flock: its thread
 * evicting or forgetting (trace_clear), another thread's free
 * (pend_take_other, after the table missed), fork's prepare.
 *   Lock order: the trace lock, then one flock (fork's prepare takes all,
 * ascending), then table stripes.  Nothing that can discharge a block runs
 * under a flock.  Held and fresh blocks are invisible: every walk of the
 * table goes through pend_foreach; a thread settles its own queue before a
 * snapshot, its sums or the peak, and at its end.  Queues are a fixed
 * array; loops stop at pend_q_top, and pend_claim orders a claim against
 * fork's pend_lock_all.  The walks that skip held blocks and add fresh
 * ones are pendwalk.c's.
 */
#include <string.h>

#include "recinner.h"

struct pend_queue pend_q[PEND_QUEUES]; /* the layout: recinner.h */
atomic_uint pend_q_top;
static lock_t pend_claim;      /* a claim (pend_thread_begin) against fork's lock_all */
/* pend_self, pend_fresh_on (hs_hot): this thread's queue, and
 * whether it keeps fresh blocks (its score <= 0) */
static struct {
    void (*free)(void *); /* the real free, where a held free ends */
    int sampled;          /* HEAPSNAP_SAMPLE: an unknown block is not foreign */
} pend_real;

/* From the hooks as recording starts, before any thread holds a free. */
void pend_init(void (*real_free)(void *), int sampled)
{
    pend_real.free = real_free;
    pend_real.sampled = sampled;
}

/* The calling thread starts holding frees, if a queue is left. */
void pend_thread_begin(void)
{
    lock_take(&pend_claim);
    for (unsigned i = 0; i < PEND_QUEUES && !pend_self; i++) {
        int want = 0;
        if (atomic_compare_exchange_strong(&pend_q[i].owned, &want, 1)) {
            pend_q[i].score = 0; /* a previous owner's history is not ours */
            pend_q[i].kept = pend_q[i].kept_off = 0;
            memset(pend_q[i].young, 0, sizeof pend_q[i].young);
            for (unsigned j = 0; j < PEND_SLOTS; j++) /* its last owner emptied them */
                atomic_store_explicit(&pend_q[i].fresh[j].p, 0, memory_order_relaxed);
            atomic_store(&pend_q[i].forget, 0);
            pend_self = &pend_q[i];
            pend_fresh_on = 1;
            trace_lines_check();
            unsigned top = atomic_load(&pend_q_top);
            while (top < i + 1 && !atomic_compare_exchange_weak(&pend_q_top, &top, i + 1))
                ;
        }
    }
    lock_drop(&pend_claim);
}

/* Releases every block q holds, oldest first: the allocator meets the
 * frees in the program's order (a double free it lets pass stays one it
 * lets pass: test_badfree.sh).  Each slot is emptied before its block is
 * released, so a settle that re-enters (through the peak) finds it empty. */
static void pend_drain(struct pend_queue *q)
{
    int saved = guard_enter();
    for (unsigned k = 0; k < PEND_DEPTH; k++) {
        void *p = atomic_exchange_explicit(&q->p[(q->next + k) % PEND_DEPTH], NULL,
                                           memory_order_relaxed);
        if (p)
            pend_release(p);
    }
    guard_leave(saved);
}

/* Releases what the calling thread holds. */
void pend_settle(void)
{
    if (pend_self)
        pend_drain(pend_self);
}

/* recinner.h: q's oldest held block (the one whose lines have been
 * loading longest) released: 1, or 0 when another thread emptied q's
 * slots first.  Out of line: inlined, its registers cost trace_new_peak
 * a longer prologue on every new peak, held frees or none. */
HS_NOINLINE int pend_release_oldest(struct pend_queue *q)
{
    for (unsigned k = 0; k < PEND_DEPTH; k++) {
        void *p = atomic_exchange_explicit(&q->p[(q->next + k) % PEND_DEPTH], NULL,
                                           memory_order_relaxed);
        if (p) {
            int saved = guard_enter();
            pend_release(p);
            guard_leave(saved);
            return 1;
        }
    }
    return 0;
}

/* Releases the oldest block the calling thread holds: 1, or 0 when it
 * holds none.  A program that keeps what it allocates (kept64's every
 * malloc a new peak) holds none: trace_new_peak asks pend_holding itself
 * and makes no call. */
int pend_settle_one(void)
{
    struct pend_queue *q = pend_holding();
    return q && pend_release_oldest(q);
}

/* ---------------- the books: where a dying block is ---------------- */

/* A block the program frees or reallocates leaves the shim's books: 1 and
 * *e filled if it was there.  Looked for where it is most likely: this
 * thread's fresh blocks (if fresh), the table, other threads' fresh
 * blocks, and the table again (one of those threads may have moved it
 * there between the two looks: it leaves a slot only after its insert,
 * under the flock). */
int pend_take_any(uintptr_t a, struct tbl_entry *e, int fresh)
{
    return (fresh && pend_fresh_on && pend_take(a, e)) || tbl_remove(a, e) ||
           pend_take_other(a, e) || tbl_remove(a, e);
}

/* A block is about to die: out of the books, its trace discharged.  fresh:
 * p may be one of this thread's fresh blocks (not so for a held one: it
 * was looked for there before it was held).  Called with guard_on set
 * (table and trace locks may be held: a signal handler on this thread, an
 * _exit in it, can tell). */
void pend_drop(void *p, int fresh)
{
    if (!pend_unbook(p, fresh) && !pend_real.sampled) /* sampled: unsampled blocks are not foreign */
        atomic_fetch_add_explicit(&trace_counters.foreign_frees, 1, memory_order_relaxed);
}

/* The same without counting an unknown block as foreign: 1 when p was in
 * the books. */
int pend_unbook(void *p, int fresh)
{
    struct tbl_entry e;
    if (!pend_take_any((uintptr_t)p, &e, fresh))
        return 0;
    trace_discharge_block(&e);
    return 1;
}

/* A held free ends (guard_on set): the block leaves the books and goes
 * to the real free. */
void pend_release(void *p)
{
    struct tbl_entry e;
    if (tbl_remove((uintptr_t)p, &e)) /* where a held block almost always is */
        trace_discharge_block(&e);
    else
        pend_drop(p, 0);
    pend_real.free(p);
}

/* The same with p's where from pend_hold_where (stripe NULL: none). */
void pend_release_where(void *p, const struct tbl_where *w)
{
    struct tbl_entry e;
    if (w->stripe ? tbl_remove_where((uintptr_t)p, &e, w) : tbl_remove((uintptr_t)p, &e))
        trace_discharge_block(&e);
    else
        pend_drop(p, 0);
    pend_real.free(p);
}

/* pend_release_plain's other cases, out of line: no where (tried 0), or
 * not in the table (tried 1). */
static HS_NOINLINE void pend_release_other(void *p, int tried)
{
    if (!tried) {
        pend_release(p);
        return;
    }
    pend_drop(p, 0);
    pend_real.free(p);
}

/* The same with hs_rare 0 (hook_free_tracked's path): tbl_remove_plain, and
 * the plain discharge (weight 1).  Its other cases are out of line, so
 * that the entry removed stays in registers (a struct whose address an
 * out-of-line tbl_remove took lived on the stack).  hook_free_tracked's
 * alone: with a second caller (hook_free_other's, tried) it was no longer
 * inlined there (docs/performance-hotpath.md, hook_plain_fresh's row). */
void pend_release_plain(void *p, const struct tbl_where *w)
{
    struct tbl_entry e;
    if (HS_UNLIKELY(!w->stripe) || HS_UNLIKELY(!tbl_remove_plain((uintptr_t)p, &e, w))) {
        pend_release_other(p, w->stripe != NULL);
        return;
    }
    trace_discharge_plain(e.trace, e.size); /* no watch_died: HS_RARE_WATCH is clear */
    pend_real.free(p);
}

/* ---------------- fresh blocks ---------------- */

static inline unsigned pend_young(uintptr_t p)
{
    return (unsigned)((p * 0x9e3779b97f4a7c15ULL) >> (64 - PEND_YOUNG_BITS));
}

static inline struct pend_fresh *pend_fresh_of(struct pend_queue *q, uintptr_t p)
{
    return &q->fresh[(p * 0x9e3779b97f4a7c15ULL) >> (64 - PEND_FRESH_BITS)];
}

/* Which of q's slots holds p - its own, or the entering one - or NULL. */
static inline struct pend_fresh *pend_fresh_find(struct pend_queue *q, uintptr_t p)
{
    struct pend_fresh *f = pend_fresh_of(q, p);
    if (atomic_load_explicit(&f->p, memory_order_acquire) == p)
        return f;
    f = &q->fresh[PEND_FRESH];
    return atomic_load_explicit(&f->p, memory_order_acquire) == p ? f : NULL;
}

/* Reads f, which holds p, and empties it. */
static inline void pend_fresh_empty(struct pend_fresh *f, uintptr_t p, struct tbl_entry *e)
{
    pend_fresh_read(f, p, e);
    atomic_store_explicit(&f->p, 0, memory_order_relaxed);
}

/* Fills an empty slot (the caller is the slot's thread). */
static inline void pend_fresh_fill(struct pend_fresh *f, uintptr_t p, uint64_t size,
                                   uint32_t trace, uint32_t epoch)
{
    __atomic_store_n(&f->size, size, __ATOMIC_RELAXED);
    __atomic_store_n(&f->trace, trace, __ATOMIC_RELAXED);
    __atomic_store_n(&f->epoch, epoch, __ATOMIC_RELAXED);
    atomic_store_explicit(&f->p, p, memory_order_release);
}

/* Puts the block of a full slot f in the table (the caller holds the
 * flock and empties or refills f after): 0, or -1 when *e must still be
 * discharged - the stale entry p replaced, or p itself when the table had
 * no room (its charge is undone; its free will count as foreign). */
static int pend_fresh_enter(const struct pend_fresh *f, uintptr_t p, struct tbl_entry *e)
{
    pend_fresh_read(f, p, e);
    return tbl_insert(e->ptr, e->size, e->trace, e->epoch, e) == 0 ? 0 : -1;
}

/* Puts every fresh block of q in the table (q's thread is ending, or gone). */
static void pend_fresh_flush(struct pend_queue *q)
{
    for (unsigned j = 0; j < PEND_SLOTS; j++) {
        struct pend_fresh *f = &q->fresh[j];
        struct tbl_entry e;
        lock_take(&q->flock);
        uintptr_t p = atomic_load_explicit(&f->p, memory_order_relaxed);
        int left = p && pend_fresh_enter(f, p, &e) < 0;
        atomic_store_explicit(&f->p, 0, memory_order_relaxed);
        lock_drop(&q->flock);
        if (left)
            trace_discharge_block(&e);
    }
}

/* trace_clear came (pend_forget_fresh): q's thread forgets its fresh
 * blocks, under the flock (another thread may be taking one). */
static HS_NOINLINE void pend_fresh_forget(struct pend_queue *q)
{
    lock_take(&q->flock);
    atomic_store_explicit(&q->forget, 0, memory_order_relaxed);
    for (unsigned j = 0; j < PEND_SLOTS; j++) {
        struct pend_fresh *f = &q->fresh[j];
        uintptr_t p = atomic_load_explicit(&f->p, memory_order_relaxed);
        if (!p)
            continue;
        trace_forget(__atomic_load_n(&f->size, __ATOMIC_RELAXED));
        atomic_store_explicit(&f->p, 0, memory_order_relaxed);
    }
    lock_drop(&q->flock);
}

/* p takes the full slot f, under the flock (another thread may be freeing
 * a block of q).  f's block does not enter the table yet: it becomes the
 * one entering, whose table slot was prefetched when p was born
 * (pend_born), and the block that was entering goes in now, its slot
 * prefetched one eviction ago.  (Inserted at once, a pushed-out block
 * would wait on its cold slot.)  The
 * order of the stores lets a walk on another thread (pend_look reads f
 * before the entering slot) see f's block twice but never miss it. */
static HS_NOINLINE void pend_fresh_evict(struct pend_queue *q, struct pend_fresh *f, uintptr_t p,
                                         uint64_t size, uint32_t trace, uint32_t epoch)
{
    struct pend_fresh *in = &q->fresh[PEND_FRESH];
    struct tbl_entry e, o;
    lock_take(&q->flock);
    uintptr_t old = atomic_load_explicit(&f->p, memory_order_relaxed);
    uintptr_t prev = atomic_load_explicit(&in->p, memory_order_relaxed);
    int left = prev && pend_fresh_enter(in, prev, &e) < 0;
    if (old) { /* not taken by another thread meanwhile */
        pend_fresh_read(f, old, &o);
        pend_fresh_fill(in, old, o.size, o.trace, o.epoch);
    } else {
        atomic_store_explicit(&in->p, 0, memory_order_relaxed);
    }
    pend_fresh_fill(f, p, size, trace, epoch);
    lock_drop(&q->flock);
    q->kept++;
    if (left) /* outside the flock: a discharge may release held frees */
        trace_discharge_block(&e);
}

/* A thread that keeps what it allocates (a parser's tree, a cache: kept's
 * blocks) pushes every fresh block out alive, and pays for the slot, the
 * flock and the entering block's move on top of the insert.  Once
 * PEND_KEPT_OFF more were pushed out than PEND_KEPT_YOUNG times those that
 * died fresh, it keeps none (its fresh blocks go to the table) and
 * inserts at once, on the plain path; young frees (pend_young_freed) count
 * back, and PEND_KEPT_OFF / PEND_KEPT_YOUNG of them turn fresh blocks on
 * again.  kept64, callgrind a malloc: docs/performance.md. */
static HS_NOINLINE void pend_keep_none(struct pend_queue *q)
{
    q->kept_off = 1;
    pend_fresh_on = 0;
    pend_fresh_flush(q);
}

static HS_NOINLINE void pend_kept_young(struct pend_queue *q)
{
    if ((q->kept -= PEND_KEPT_YOUNG) > 0)
        return;
    q->kept = q->kept_off = 0;
    if (q->score <= 0) /* not holding */
        pend_fresh_on = 1;
}

/* The calling thread allocated p (the caller charges it): 0 if p is kept
 * fresh, -1 if the caller must insert it.  The block whose slot p takes
 * becomes the entering one (pend_fresh_evict). */
int pend_keep(uintptr_t p, uint64_t size, uint32_t trace, uint32_t epoch)
{
    struct pend_queue *q = pend_self;
    if (!q || tbl_filter.on) {
        pend_fresh_on = 0; /* sampled mode: for good */
        return -1;
    }
    if (HS_UNLIKELY(atomic_load_explicit(&q->forget, memory_order_relaxed)))
        pend_fresh_forget(q);
    struct pend_fresh *f = pend_fresh_of(q, p);
    if (atomic_load_explicit(&f->p, memory_order_relaxed)) {
        if (HS_UNLIKELY(q->kept >= PEND_KEPT_OFF)) {
            pend_keep_none(q);
            return -1; /* the caller inserts p */
        }
        pend_fresh_evict(q, f, p, size, trace, epoch);
    } else
        pend_fresh_fill(f, p, size, trace, epoch);
    return 0;
}

/* pend_keep on the plain path's fresh variant (hook_plain_fresh: the
 * thread's queue is set and no filter is on), inlined into that path's
 * frame: a free slot is filled there, a full one's block pushed out from
 * there (pend_fresh_evict), trace_clear's forget and the turn to keeping
 * none left to pend_keep.  Out of line, every fresh block paid pend_keep's
 * call and the registers its eviction's call saved. */
__attribute__((always_inline)) inline int pend_keep_fresh(uintptr_t p, uint64_t size,
                                                          uint32_t trace, uint32_t epoch)
{
    struct pend_queue *q = pend_self;
    struct pend_fresh *f = pend_fresh_of(q, p);
    if (HS_UNLIKELY(atomic_load_explicit(&q->forget, memory_order_relaxed)))
        return pend_keep(p, size, trace, epoch);
    if (atomic_load_explicit(&f->p, memory_order_relaxed)) {
        if (HS_UNLIKELY(q->kept >= PEND_KEPT_OFF))
            return pend_keep(p, size, trace, epoch); /* keeps none from now on */
        pend_fresh_evict(q, f, p, size, trace, epoch);
        return 0;
    }
    pend_fresh_fill(f, p, size, trace, epoch);
    return 0;
}

/* The where of the block at next worked out (pend_where_ahead). */
static __attribute__((always_inline)) inline void pend_ahead_in(struct pend_queue *q,
                                                                uintptr_t next)
{
    tbl_prefetch_where(next, &q->ahead);
    q->ahead_at = next;
}

/* pend_ahead_in out of line: for the hooks' other paths (pend_born),
 * which are already long; malloc's plain one (pend_born_held) has it
 * inline, as a kept program needs it at each malloc. */
static HS_NOINLINE void pend_ahead_of(struct pend_queue *q, uintptr_t next)
{
    pend_ahead_in(q, next);
}

/* p's where (tbl_prefetch_where: its hash and stripe worked out, its home
 * cluster starting to load), and the next block's, a whole allocation
 * ahead.  A program that keeps what it allocates takes its blocks from
 * the end of the heap one after another: where p's own prefetch had only
 * the walk to overlap its miss (and its TLB miss: a big table's homes are
 * scattered over MiBs), the insert stalled on it (two thirds of
 * hook_malloc_tracked's samples on `kept 2000000 64`).  Where p follows
 * the last block as glibc's top chunk gives them (the request and its
 * size word rounded to 16, at least 32), the block that would follow p
 * has its where worked out now (q->ahead), and when it comes it takes
 * that where instead of working out its own: the same work, done one
 * allocation earlier.  Elsewhere (a block reused, another allocator) a
 * few instructions: the guess, two compares and a store.  inl: malloc's
 * plain path, with the next where's work inline. */
static __attribute__((always_inline)) inline void pend_where_ahead(struct pend_queue *q,
                                                                   uintptr_t p, size_t n,
                                                                   struct tbl_where *w,
                                                                   int inl)
{
    uintptr_t chunk = (n + 8 + 15) & ~(uintptr_t)15;
    if (chunk < 32)
        chunk = 32;
    if (HS_UNLIKELY(p == q->ahead_at)) { /* worked out by the last block's */
        *w = q->ahead;
        if (inl)
            pend_ahead_in(q, p + chunk);
        else
            pend_ahead_of(q, p + chunk);
    } else {
        tbl_prefetch_where(p, w);
        if (HS_UNLIKELY(p == q->follow)) /* it follows the last: so may the next */
            pend_ahead_of(q, p + chunk);
    }
    q->follow = p + chunk;
}

/* The calling thread got p (a tracked block) and will record it a little
 * later: p is noted young, and the table slot that recording will write
 * starts loading - p's own (pend_where_ahead), or where p will be kept
 * fresh, that of the block p will push out.  (Pushed out by a block 16
 * allocations later, it would otherwise meet a cold line: the realloc
 * workload, which copies big blocks between, ran 10% slower.)  Inlined
 * into hook_record (with LTO), both its paths. */
__attribute__((always_inline)) inline void pend_born_held(uintptr_t p, size_t n, struct tbl_where *w)
{
    struct pend_queue *q = pend_self; /* hook_plain's word: lines_mine, a queue */
    q->young[pend_young(p)] = p;
    pend_where_ahead(q, p, n, w, 1);
}

/* ... for a thread that keeps fresh blocks (pend_fresh_on), its queue set:
 * no slot of the table is written now (w->stripe NULL), the block p will
 * push out of its fresh slot starts loading. */
__attribute__((always_inline)) inline void pend_born_fresh(uintptr_t p, struct tbl_where *w)
{
    struct pend_queue *q = pend_self;
    q->young[pend_young(p)] = p;
    uintptr_t old = atomic_load_explicit(&pend_fresh_of(q, p)->p, memory_order_relaxed);
    w->stripe = NULL;
    if (old)
        tbl_prefetch_ptr(old);
}

__attribute__((always_inline)) inline void pend_born(uintptr_t p, size_t n, struct tbl_where *w)
{
    struct pend_queue *q = pend_self;
    if (q) {
        if (pend_fresh_on) {
            pend_born_fresh(p, w);
            return;
        }
        q->young[pend_young(p)] = p;
        pend_where_ahead(q, p, n, w, 0);
        return;
    }
    tbl_prefetch_where(p, w);
}

/* Whether q holds p. */
static int pend_holds(const struct pend_queue *q, uintptr_t p)
{
    for (unsigned i = 0; i < PEND_DEPTH; i++)
        if ((uintptr_t)atomic_load_explicit(&q->p[i], memory_order_relaxed) == p)
            return 1;
    return 0;
}

/* A young block p freed in a thread that held frees until now (its score
 * came down to 0 or more): at 0 it stops holding, and what it held goes
 * too.  Above 0, p may be a block it holds, freed again (a hold marks p
 * young: pend_hold): what it holds goes, oldest first, and p itself then
 * goes to the real free at the call, not in the table - the allocator
 * meets both frees in the program's order, and stops the program where it
 * would without the shim (test_badfree.sh). */
static HS_NOINLINE void pend_young_holding(struct pend_queue *q, uintptr_t p)
{
    if (q->score == 0) {
        pend_drain(q);
        pend_fresh_on = !q->kept_off;
    } else if (pend_holds(q, p)) {
        pend_drain(q);
    }
}

/* A young block p freed: the score moves towards not holding. */
static void pend_young_freed(struct pend_queue *q, uintptr_t p)
{
    if (HS_UNLIKELY(q->kept_off))
        pend_kept_young(q);
    if (q->score > -PEND_SCORE && --q->score >= 0)
        pend_young_holding(q, p);
}

/* A realloc of p: if the calling thread holds p (a use after free), what
 * it holds goes first, oldest first, so that the allocator meets p's free
 * before the call that uses p again, as it would without the shim.  A
 * thread that keeps fresh blocks holds none (its first hold turns them
 * off: pend_hold_in), so its queue is not read. */
void pend_settle_held(uintptr_t p)
{
    struct pend_queue *q = pend_self;
    if (q && !pend_fresh_on && pend_holds(q, p))
        pend_drain(q);
}

/* The calling thread frees p: 1 and *e filled if p was one of its fresh
 * blocks (now gone from the slot), else 0.  No lock: only this thread
 * empties a slot that holds a block this thread frees.  q: its queue. */
static __attribute__((always_inline)) inline int pend_take_in(struct pend_queue *q, uintptr_t p,
                                                              struct tbl_entry *e)
{
    struct pend_fresh *f = pend_fresh_find(q, p);
    if (!f)
        return 0;
    pend_fresh_empty(f, p, e);
    if (q->kept > -PEND_KEPT_OFF)
        q->kept -= PEND_KEPT_YOUNG;
    pend_young_freed(q, p);
    return 1;
}

int pend_take(uintptr_t p, struct tbl_entry *e)
{
    struct pend_queue *q = pend_self;
    return q && pend_take_in(q, p, e);
}

/* ... on a plain path (hook_plain_fresh: the thread's queue is set),
 * inlined into its frame: *e stays in registers. */
__attribute__((always_inline)) inline int pend_take_fresh(uintptr_t p, struct tbl_entry *e)
{
    return pend_take_in(pend_self, p, e);
}

/* Another thread's fresh block p is freed: the same, for the caller that
 * did not find p in the table. */
int pend_take_other(uintptr_t p, struct tbl_entry *e)
{
    unsigned top = atomic_load_explicit(&pend_q_top, memory_order_acquire);
    for (unsigned i = 0; i < top; i++) {
        struct pend_queue *q = &pend_q[i];
        if (q == pend_self || !pend_fresh_find(q, p))
            continue;
        lock_take(&q->flock);
        struct pend_fresh *f = pend_fresh_find(q, p); /* again: it may have moved on */
        if (f)
            pend_fresh_empty(f, p, e);
        lock_drop(&q->flock);
        if (f)
            return 1;
    }
    return 0;
}

/* A fresh block p of any thread, copied to *e (heapsnap_ignore). */
int pend_find_fresh(uintptr_t p, struct tbl_entry *e)
{
    unsigned top = atomic_load_explicit(&pend_q_top, memory_order_acquire);
    for (unsigned i = 0; i < top; i++) {
        struct pend_fresh *f = pend_fresh_find(&pend_q[i], p);
        if (f && pend_fresh_peek(f, e) == p)
            return 1;
    }
    return 0;
}

/* trace_clear: every fresh block is forgotten - the calling thread's now,
 * the others' by their threads at their next allocation (their bytes
 * count until then; a fresh block freed before that is discharged, and
 * so forgotten once all the same).  The queues left to other threads. */
unsigned pend_forget_fresh(void)
{
    unsigned top = atomic_load(&pend_q_top), left = 0; /* a queue claimed later starts empty */
    for (unsigned i = 0; i < top; i++) {
        struct pend_queue *q = &pend_q[i];
        if (q == pend_self)
            pend_fresh_forget(q);
        else if (atomic_load(&q->owned))
            atomic_store(&q->forget, 1), left++;
    }
    return left;
}

/* A new session (trace_reset_counts, no hook recording): the fresh blocks
 * that pend_forget_fresh left to threads that have not allocated since
 * (a detach unhooks them: they would forget at their first kept block of
 * the next session, after its first blocks had raised its peak over its
 * own) are forgotten now. */
void pend_forget_owed(void)
{
    unsigned top = atomic_load(&pend_q_top);
    for (unsigned i = 0; i < top; i++)
        if (atomic_load(&pend_q[i].forget))
            pend_fresh_forget(&pend_q[i]);
}

/* fork's prepare and parent: every claimed queue's flock, in ascending
 * order, under pend_claim (no queue is claimed meanwhile, so the top does
 * not move).  The fork handlers take them after the trace lock and before
 * the table's. */
void pend_lock_all(void)
{
    lock_take(&pend_claim);
    unsigned top = atomic_load(&pend_q_top);
    for (unsigned i = 0; i < top; i++)
        lock_take(&pend_q[i].flock);
}

void pend_unlock_all(void)
{
    for (unsigned i = atomic_load(&pend_q_top); i-- > 0;)
        lock_drop(&pend_q[i].flock);
    lock_drop(&pend_claim);
}

/* ---------------- thread end, fork ---------------- */

/* The thread ends: what it holds goes now, its fresh blocks go to the
 * table; it frees and inserts at once from here on. */
void pend_thread_end(void)
{
    struct pend_queue *q = pend_self;
    lines_mine = 0;
    if (!q)
        return;
    pend_drain(q);
    pend_fresh_on = 0;
    pend_fresh_flush(q);
    pend_self = NULL;
    atomic_store(&q->owned, 0);
}

/* In a fork's child (locks free, every flock released): only this thread
 * is left; the blocks the others held are released for them and their
 * fresh blocks put in the table. */
void pend_after_fork_child(void)
{
    unsigned top = atomic_load(&pend_q_top);
    for (unsigned i = 0; i < top; i++) {
        struct pend_queue *q = &pend_q[i];
        if (q == pend_self || !atomic_load(&q->owned))
            continue;
        pend_drain(q);
        pend_fresh_flush(q);
        atomic_store(&q->owned, 0);
    }
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
 * more than what holding hides (the C++ containers workload's map keys
 * went cold), while the small-block churn, whose frees are all of old,
 * cold blocks, gains most.  So the thread keeps a score, +1 for
 * each old block freed, -1 for each young one, within +-PEND_SCORE, and
 * holds while it is positive (churn: 0.1% young; deep 0.1%; realloc 11%;
 * python 55%; cxx 69%; sqlite 99%).  Never held either: a pointer that
 * is no block's (not 16-aligned; into the thread's stack, PEND_NEAR_STACK
 * above the freeing frame), whose free must meet glibc at the call, where
 * it stops the program (test_badfree.sh); a block taken for one only
 * loses the hold.  A held block is marked young, so that a second free
 * of it finds the mark (pend_young_holding).  Inlined into hook_free_tracked
 * (with LTO, as tbl_prefetch_where): its own prologue saved four
 * registers that hook_free_tracked saves already.  plain: hook_plain's
 * word, lines_mine: the thread has a queue. */
static __attribute__((always_inline)) inline void *pend_hold_in(void *p, struct tbl_where *w,
                                                                int plain)
{
    struct pend_queue *q = pend_self;
    uintptr_t a = (uintptr_t)p;
    w->stripe = NULL;
    if ((!plain && !q) || (a & 4095) == 16) /* none, maybe an mmapped chunk */
        return p;
    uintptr_t *young = &q->young[pend_young(a)];
    if (*young == a) {
        pend_young_freed(q, a);
        tbl_prefetch_gone((uintptr_t)p, w); /* released now: the plain remove */
        return p;
    }
    if (q->score < PEND_SCORE && ++q->score == 1) {
        pend_fresh_on = 0; /* starts holding: keeps no fresh blocks meanwhile */
        pend_fresh_flush(q);
    }
    if (q->score <= 0) {
        tbl_prefetch_gone((uintptr_t)p, w);
        return p;
    }
    if ((a & 15) || a - (uintptr_t)__builtin_frame_address(0) < PEND_NEAR_STACK)
        return p; /* no block's: released now, by the full lookup */
    unsigned i = q->next;
    void *out = atomic_load_explicit(&q->p[i], memory_order_relaxed);
    /* only this thread writes where[] (a drain empties p[] alone); read
     * whether or not out is NULL (then unused): no branch before the
     * caller's own test of out */
    *w = q->where[i];
    tbl_prefetch_gone((uintptr_t)p, &q->where[i]);
    atomic_store_explicit(&q->p[i], p, memory_order_relaxed);
    *young = a; /* p freed again while held: pend_young_holding */
    q->next = (i + 1) % PEND_DEPTH;
    return out;
}

void *pend_hold_where(void *p, struct tbl_where *w)
{
    return pend_hold_in(p, w, 0);
}

__attribute__((always_inline)) inline void *pend_hold_plain(void *p, struct tbl_where *w)
{
    return pend_hold_in(p, w, 1);
}

void *pend_hold(void *p)
{
    struct tbl_where w;
    return pend_hold_where(p, &w);
}
