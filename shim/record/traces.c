/*
 * traces.c - interned allocation stacks and their running sums.
 *
 * Identical stacks are stored once (in frametree.c's tree) and numbered
 * from 0 in order of first sight; the id is what the table and the
 * snapshot refer to.  Records and nodes are never freed while the process
 * lives (ids stay valid for every reader; clear_traces zeroes sums), and
 * id -> record goes through chunks that never move: read without a lock.
 *   Locks: a thread's direct-mapped cache (stack hash -> trace) takes none;
 * a miss takes the intern lock, looks in the index of stacks by hash
 * (trace_index_find), unless the stack is near the thread's last walk,
 * and then in the tree; the lock also guards the index,
 * the tree's new nodes,
 * the failed allocations (trace_fail) and the writer's copy of TRACES.
 *   Threads: a stack is interned apart for each thread that allocates
 * from it (athreads.c's index, asked on the slow path only: the thread's
 * cache holds its own traces), so a trace's sums are one thread's; the
 * records of one stack are chained (sib1) from the one its node's tag
 * names.
 *   Sums: a trace keeps totals only, as deltas in the thread's own line
 * (trace_delta_add), or on its record while another trace holds its slot
 * (trace_delta_other); its live sums come from the table's walk
 * (trace_live_add).  Global sums are sharded, a cache line a thread
 * written with plain stores (line 0 shared, atomic); so is the peak, each
 * line's highest kept in it (trace_raise_peak).  The peak folds past
 * +-TRACE_FOLD: exact with one thread, within (N - 1) x TRACE_FOLD with N,
 * never below the current size.  Counts are in 1/65536 units (TRACE_UNIT,
 * for sampling).  docs/design.md, "Traces and their sums".
 */
#include <string.h>

#include "recinner.h"

/* Chunks of records are whole mappings (arena_map: zero, so only the pages
 * used are resident), not arena_alloc's blocks, which it zeroes: a small
 * program would touch 128 KiB at its first stack.  Chunks after the first
 * are resident at once (arena_map_full): records fill them in order, and
 * one call fills what was a fault a page. */
#define TRACE_CHUNK_BITS 12
#define TRACE_CHUNK (1u << TRACE_CHUNK_BITS)      /* records per chunk (128 KiB) */
#define TRACE_CHUNKS 4096u                        /* so at most 16M traces */
#define TRACE_CACHE 256u                          /* per-thread cache slots */
#define TRACE_UNIT_SHIFT 16                       /* counts in 1/65536 units */
#define TRACE_SHARDS 64                           /* lines for the global sums */
#define TRACE_FOLD (64 * 1024)                    /* bytes a thread changes between folds */
#define TRACE_DELTAS 32                           /* per-trace totals a line keeps */
#define TRACE_DELTA_PATIENCE 8u                   /* other traces' charges before one takes a slot */

/* 32 bytes: a big program keeps a million (import torch).  The id is
 * where the record lies (trace_by_id), and the callers that reach a record
 * otherwise are handed it beside; an __lsan_disable twin is chained after
 * its trace among the same stack's records (sib1), flagged. */
struct trace {
    uint32_t node;           /* innermost frame's node; 0 = no frames */
    uint16_t depth;          /* frames from node out to the root */
    _Atomic uint16_t flags;  /* HSNAP_TRACE_* */
    uint16_t thread;         /* athr_mine's index, or HSNAP_THREAD_NONE */
    uint32_t sib1;           /* the same stack's next record (another thread's, or a
                                twin): id + 1; written under the intern lock */
    struct trace_stat st;    /* running sums */
};
_Static_assert(sizeof(struct trace) == 32, "a trace record is 32 bytes");

struct trace_cache_slot {
    uint64_t hash;
    struct trace *t;
    uint32_t id;             /* t's */
};

static struct {
    lock_t lock;                         /* everything below but the readers' loads */
    _Atomic uint32_t count;              /* ids handed out */
    struct trace *chunk[TRACE_CHUNKS];   /* id -> record */
    uint32_t unsampled1;                 /* the <unsampled> pseudo-trace's id + 1 */
    _Atomic uint64_t folded, peak;       /* current size at the last fold / highest */
} traces;

struct trace_counters trace_counters;

/* A share of one trace's totals, not yet added to its record. */
struct trace_delta {
    _Atomic uint32_t id1;    /* the trace's id + 1; 0 = none */
    uint32_t other;          /* other traces' charges since id1 took it (trace_delta_other);
                                the thread's own, in the padding before count */
    _Atomic uint64_t count, bytes;
};

/* One thread's share of the global sums (bytes may wrap: only the sum over
 * shards means anything, as blocks are freed by other threads), and of
 * per-trace totals: threads allocating from one site would otherwise each
 * add to its record's line, which would bounce between their cores.  A
 * delta goes to the record when another
 * trace needs its slot; readers add the deltas of every line (kept when its
 * thread ends, and used on by the next owner). */
static struct trace_shard {
    _Alignas(64) _Atomic uint64_t allocs, frees, bytes;
    atomic_int owned;        /* claimed by a live thread (never line 0) */
    _Atomic uint64_t peak;   /* the highest size its threads saw (trace_raise_peak) */
    struct trace_delta delta[TRACE_DELTAS]; /* by id; unused on line 0 */
} trace_shards[TRACE_SHARDS];
/* Lines ever claimed, and line 0: [0, top).  Readers stop there, so a
 * process with a few threads reads a few lines, not the 60 KiB array (each
 * page read is a page of its memory: docs/performance.md, issue 21). */
static atomic_uint trace_shards_top = 1;

/* trace_my_shard, trace_pending (hs_hot): this thread's line, and
 * the bytes it changed since its last fold */

static __thread struct trace_cache_slot trace_cache[TRACE_CACHE];

/* A stack's hashing state: two independent xor-multiply chains, the
 * lanes (even and odd frames), which halve the loop's dependency chain,
 * on deep stacks most of trace_intern; each step is a bijection of the
 * lane.  trace_hash folds the lanes into one word, and its final mix
 * (murmur3's finalizer) carries every bit to the low ones the caches
 * index with; trace_check folds them into another. */
struct trace_lanes {
    uint64_t a, b;
};

static inline struct trace_lanes trace_lanes_of(const uintptr_t *ip, unsigned depth)
{
    uint64_t a = 0x9e3779b97f4a7c15ULL ^ depth, b = 0x6a09e667f3bcc909ULL;
    unsigned i = 0;
    for (; i + 1 < depth; i += 2) {
        a = (a ^ ip[i]) * 0xff51afd7ed558ccdULL;
        b = (b ^ ip[i + 1]) * 0xc4ceb9fe1a85ec53ULL;
    }
    if (i < depth)
        a = (a ^ ip[i]) * 0xff51afd7ed558ccdULL;
    return (struct trace_lanes){a, b};
}

static inline uint64_t trace_lanes_hash(struct trace_lanes l)
{
    return trace_mix((l.a ^ (l.a >> 32)) * 0xbf58476d1ce4e5b9ULL + l.b);
}

uint64_t trace_hash(const uintptr_t *ip, unsigned depth)
{
    return trace_lanes_hash(trace_lanes_of(ip, depth));
}

static inline struct trace *trace_by_id(uint32_t id)
{
    struct trace *c = traces.chunk[id >> TRACE_CHUNK_BITS];
    return c ? &c[id & (TRACE_CHUNK - 1)] : NULL;
}

/* Whether trace t's frames are ip[0..depth), innermost first. */
static inline int trace_same(const struct trace *t, const uintptr_t *ip, unsigned depth)
{
    return t->depth == depth && ftree_found(t->node, ip, depth);
}

/* A new record for the stack that ends at node (depth frames), its id in
 * *idp; lock held. */
static struct trace *trace_new(uint32_t node, unsigned depth, unsigned flags, uint32_t thread,
                               uint32_t *idp)
{
    uint32_t id = atomic_load(&traces.count);
    unsigned ci = id >> TRACE_CHUNK_BITS;
    if (ci >= TRACE_CHUNKS) {
        degrade_now("too many distinct stacks");
        return NULL;
    }
    if (!traces.chunk[ci] &&
        !(traces.chunk[ci] = ci ? arena_map_full(TRACE_CHUNK * sizeof(struct trace))
                                : arena_map(TRACE_CHUNK * sizeof(struct trace))))
        return NULL;
    struct trace *t = &traces.chunk[ci][id & (TRACE_CHUNK - 1)];
    *idp = id;
    t->node = node;
    t->depth = (uint16_t)depth;
    t->thread = (uint16_t)thread;
    atomic_store_explicit(&t->flags, (uint16_t)flags, memory_order_relaxed);
    atomic_store_explicit(&traces.count, id + 1, memory_order_release);
    return t;
}

/* ---------------- the index: stack hash -> trace ---------------- */

/* Interned stacks by their hash (trace_hash): those looked up far from
 * their thread's last walk (trace_lookup_slow), so that a miss of the
 * thread's cache (TRACE_CACHE slots) finds a known stack with one probe,
 * not a walk of the frame tree from the root with a lookup a frame: a
 * program whose stacks take turns past the cache (the instruction count's
 * kept100k workload, 100,000 of them) paid that walk on every allocation.
 * An entry is matched by the hash's upper half and a second hash of the
 * stack and its thread (trace_check), 96 bits, rather than by its frames
 * read back from the tree: that read followed a node a frame, most of
 * them cache misses in a tree of MiBs (ftree_found: 14% of `kept 1000000
 * 100000`'s time), where two stacks share both hashes about once in 2^96
 * compares, as pyfr_native_name_of trusts its two.  Open addressing,
 * linear probing, at most 3/4 full: 21 to 43 bytes an entry (a probe
 * reads one slot, and only a miss of the thread's cache probes; at most
 * half full, a program of a million traces mapped twice what it needed).
 * The upper half places a slot; id1 = the id + 1 (0: empty).  The intern
 * lock guards it.  Without memory for it the frame tree still finds every
 * stack: the index is only a shortcut. */
#define TRACE_INDEX_FIRST 512u /* first mapping 8 KiB (fixed address space: test_hostile_host) */

struct trace_islot {
    uint64_t check;          /* trace_check's */
    uint32_t hi, id1;        /* trace_hash's upper half; the id + 1, 0: empty */
};

static struct {
    struct trace_islot *slot;
    uint32_t cap, n;         /* cap: 0 or a power of two */
} trace_index;

/* The second hash the index matches a stack by (trace_index_find): the
 * lanes trace_hash folded (128 bits of state) folded another way, with
 * the thread in, so that two stacks (or two threads' records of one)
 * agree in both hashes' 96 compared bits about once in 2^96. */
static inline uint64_t trace_check(struct trace_lanes l, uint32_t thread)
{
    return trace_mix((l.b ^ (l.b >> 31)) * 0xd6e8feb86659fd93ULL +
                     (l.a ^ (uint64_t)thread * 0x94d049bb133111ebULL));
}

static struct trace *trace_index_find(uint64_t h, uint64_t check, uint32_t *idp)
{
    if (!trace_index.cap)
        return NULL;
    uint32_t mask = trace_index.cap - 1, hi = (uint32_t)(h >> 32);
    for (uint32_t i = hi & mask;; i = (i + 1) & mask) {
        const struct trace_islot *x = &trace_index.slot[i];
        if (!x->id1)
            return NULL;
        if (x->hi == hi && x->check == check) {
            struct trace *t = trace_by_id(x->id1 - 1);
            if (t)
                *idp = x->id1 - 1;
            return t;
        }
    }
}

static void trace_index_put(struct trace_islot *slot, uint32_t cap, struct trace_islot x)
{
    uint32_t mask = cap - 1;
    uint32_t i = x.hi & mask;
    while (slot[i].id1)
        i = (i + 1) & mask;
    slot[i] = x;
}

/* Adds trace id of hashes h and check (not in the index yet), growing it
 * first. */
static void trace_index_add(uint64_t h, uint64_t check, uint32_t id)
{
    if (4 * ((uint64_t)trace_index.n + 1) > 3 * (uint64_t)trace_index.cap) {
        uint32_t old = trace_index.cap, cap = old ? 2 * old : TRACE_INDEX_FIRST;
        /* the rehash writes every page of a big one: resident at once */
        size_t len = (size_t)cap * sizeof(struct trace_islot);
        struct trace_islot *slot =
            cap <= old ? NULL : len > 65536 ? arena_map_full(len) : arena_map(len);
        if (!slot)
            return;
        for (uint32_t i = 0; i < old; i++)
            if (trace_index.slot[i].id1)
                trace_index_put(slot, cap, trace_index.slot[i]);
        if (old)
            arena_unmap(trace_index.slot, (size_t)old * sizeof *slot);
        trace_index.slot = slot;
        trace_index.cap = cap;
    }
    trace_index_put(trace_index.slot, trace_index.cap,
                    (struct trace_islot){check, (uint32_t)(h >> 32), id + 1});
    trace_index.n++;
}

/* The index given back (the exit snapshot's, with the tree's: its pages
 * serve the snapshot's buffers); stacks looked up after it go in again
 * as they are met.  Caller holds the intern lock (trace_lock). */
void trace_index_drop(void)
{
    if (trace_index.cap)
        arena_unmap(trace_index.slot, (size_t)trace_index.cap * sizeof *trace_index.slot);
    trace_index.slot = NULL;
    trace_index.cap = trace_index.n = 0;
}

/* The record of thread's among the same stack's, from head (whose id is
 * *idp) on, made (and chained after head) if none; its id in *idp; lock
 * held.  Twins (HSNAP_TRACE_DISABLED) are no thread's record. */
static struct trace *trace_of_thread(struct trace *head, uint32_t thread, uint32_t *idp)
{
    uint32_t id = *idp;
    for (struct trace *t = head; t;) {
        if (t->thread == thread &&
            !(atomic_load_explicit(&t->flags, memory_order_relaxed) & HSNAP_TRACE_DISABLED)) {
            *idp = id;
            return t;
        }
        id = t->sib1 - 1;
        t = t->sib1 ? trace_by_id(id) : NULL;
    }
    struct trace *t = trace_new(head->node, head->depth, 0, thread, idp);
    if (t) {
        t->sib1 = head->sib1;
        head->sib1 = *idp + 1;
    }
    return t;
}

/* A stack that differs from this thread's last walk in at most this many
 * inner frames is looked up by the walk alone (trace_lookup_slow). */
#define TRACE_WALK_NEAR 2u

/* The stack's record of this thread's (h: its trace_hash, of lanes l), made if new:
 * the innermost node names the first thread's, which chains the others'.
 * The index is keyed by the hash and the thread.  A stack near the
 * thread's last walk (a Python program's next line: most of its new
 * stacks) skips the index: the walk looks up its few inner frames, and
 * stops looking at the first it makes, where the index's probe, a cache
 * miss, found nothing for 82% of torchtrain.py's 1.4 M lookups; such a
 * stack enters the index when a walk far from it finds it.  Lock taken
 * here. */
static HS_NOINLINE struct trace *trace_lookup_slow(const uintptr_t *ip, unsigned depth,
                                                   struct trace_lanes l, uint64_t h,
                                                   uint32_t *idp)
{
    uint32_t thread = athr_mine(); /* before the lock: its first call reads the name */
    h ^= (uint64_t)thread * 0x9e3779b97f4a7c15ULL;
    lock_take(&traces.lock);
    unsigned k = ftree_path_shared(ip, depth); /* the walk's too: the index's misses keep it */
    int far = depth - k > TRACE_WALK_NEAR;
    uint64_t check = far ? trace_check(l, thread) : 0;
    struct trace *t = far ? trace_index_find(h, check, idp) : NULL;
    if (t)
        goto out;
    int64_t n = ftree_walk_in(ip, depth, k);
    if (n < 0)
        goto out;
    uint32_t tag = ftree_tag((uint32_t)n);
    if (tag) {
        t = trace_by_id(*idp = tag - 1);
        if (t)
            t = trace_of_thread(t, thread, idp);
    } else if ((t = trace_new((uint32_t)n, depth, 0, thread, idp)) != NULL) {
        ftree_set_tag((uint32_t)n, *idp + 1);
    }
    if (t && far)
        trace_index_add(h, check, *idp);
out:
    lock_drop(&traces.lock);
    return t;
}

/* The id of this stack, interning it if new.  0 on success, -1 when out of
 * memory (the caller does not record the block). */
int trace_intern(const uintptr_t *ip, unsigned depth, unsigned flags, uint32_t *id)
{
    struct trace_lanes l = trace_lanes_of(ip, depth);
    uint64_t h = trace_lanes_hash(l);
    struct trace_cache_slot *c = &trace_cache[h & (TRACE_CACHE - 1)];
    struct trace *t = c->t;
    if (!t || c->hash != h || !trace_same(t, ip, depth)) {
        uint32_t got;
        t = trace_lookup_slow(ip, depth, l, h, &got);
        if (!t)
            return -1;
        c->hash = h;
        c->t = t;
        c->id = got;
    }
    if (HS_UNLIKELY(flags & ~atomic_load_explicit(&t->flags, memory_order_relaxed)))
        atomic_fetch_or(&t->flags, (uint16_t)flags);
    *id = c->id;
    return 0;
}

int trace_intern_new(const uintptr_t *ip, unsigned depth, unsigned flags, uint32_t *id)
{
    struct trace_lanes l = trace_lanes_of(ip, depth);
    struct trace *t = trace_lookup_slow(ip, depth, l, trace_lanes_hash(l), id);
    if (!t)
        return -1;
    if (HS_UNLIKELY(flags & ~atomic_load_explicit(&t->flags, memory_order_relaxed)))
        atomic_fetch_or(&t->flags, (uint16_t)flags);
    return 0;
}

/* The <unsampled> pseudo-trace (HEAPSNAP_SAMPLE with HEAPSNAP_LEAKS): no
 * frames, like an empty stack, but a record of its own, which no stack's
 * lookup finds. */
int trace_intern_unsampled(uint32_t *id)
{
    struct trace *t = NULL;
    lock_take(&traces.lock);
    if (traces.unsampled1)
        t = trace_by_id(*id = traces.unsampled1 - 1);
    else if ((t = trace_new(0, 0, HSNAP_TRACE_UNSAMPLED, HSNAP_THREAD_NONE, id)) != NULL)
        traces.unsampled1 = *id + 1;
    lock_drop(&traces.lock);
    return t ? 0 : -1;
}

/* __lsan_disable's twin of a trace: the same frames (the same innermost
 * node) in a record of its own, which no stack's lookup finds; it is
 * chained among the stack's records (sib1) right after its trace, and
 * found there again (the first flagged record of its thread's after it:
 * other threads' records may be chained in between).  A twin's own twin
 * is itself.  Under the intern lock: only allocations inside an
 * __lsan_disable scope ask. */
uint32_t trace_disabled_twin(uint32_t id)
{
    struct trace *t = trace_by_id(id);
    if (!t || (atomic_load_explicit(&t->flags, memory_order_relaxed) & HSNAP_TRACE_DISABLED))
        return id;
    uint32_t twin = id;
    lock_take(&traces.lock);
    for (const struct trace *s = t; s->sib1;) {
        uint32_t next = s->sib1 - 1;
        if (!(s = trace_by_id(next)))
            break;
        if (s->thread == t->thread &&
            (atomic_load_explicit(&s->flags, memory_order_relaxed) & HSNAP_TRACE_DISABLED)) {
            twin = next;
            goto out;
        }
    }
    unsigned flags = HSNAP_TRACE_DISABLED | atomic_load_explicit(&t->flags, memory_order_relaxed);
    struct trace *w = trace_new(t->node, t->depth, flags, t->thread, &twin);
    if (w) {
        w->sib1 = t->sib1;
        t->sib1 = twin + 1;
    } else {
        twin = id;
    }
out:
    lock_drop(&traces.lock);
    return twin;
}

/* A record of its own for trace id's frames with flags added (reg_twin:
 * HSNAP_TRACE_MMAP, the kind of a mapping's site), which no stack's
 * lookup finds; the caller keeps its id.  0, or -1 (out of memory). */
int trace_twin_new(uint32_t id, unsigned flags, uint32_t *twin)
{
    struct trace *t = trace_by_id(id), *w = NULL;
    lock_take(&traces.lock);
    if (t)
        w = trace_new(t->node, t->depth,
                      flags | atomic_load_explicit(&t->flags, memory_order_relaxed), t->thread,
                      twin);
    lock_drop(&traces.lock);
    return w ? 0 : -1;
}

static HS_NOINLINE struct trace_shard *trace_shard_pick(void)
{
    unsigned k;
    for (k = 1; k < TRACE_SHARDS; k++)
        if (line_claim(&trace_shards[k].owned, &trace_shards_top, k))
            break;
    trace_my_shard = &trace_shards[k < TRACE_SHARDS ? k : 0];
    trace_lines_check();
    return trace_my_shard;
}

void trace_lines_check(void)
{
    lines_mine = pend_self && (uintptr_t)trace_my_shard > (uintptr_t)trace_shards && peak_mine;
}

static inline struct trace_shard *trace_shard(void)
{
    struct trace_shard *s = trace_my_shard;
    return HS_LIKELY(s != NULL) ? s : trace_shard_pick();
}

/* In a fork's child only this thread is left: the other lines go back. */
void trace_after_fork_child(void)
{
    for (unsigned k = 1; k < atomic_load(&trace_shards_top); k++)
        if (&trace_shards[k] != trace_my_shard)
            atomic_store_explicit(&trace_shards[k].owned, 0, memory_order_relaxed);
    athr_after_fork_child();
}

uint32_t trace_thread(uint32_t id)
{
    const struct trace *t = id < atomic_load_explicit(&traces.count, memory_order_acquire)
                                ? trace_by_id(id)
                                : NULL;
    return t ? t->thread : HSNAP_THREAD_NONE;
}

/* *c += v on this thread's line: a plain load and store if the line is its
 * own, an atomic add on the shared line 0. */
static inline void trace_shard_add(const struct trace_shard *s, _Atomic uint64_t *c, uint64_t v)
{
    if (HS_LIKELY(s != trace_shards))
        line_own_add(c, v);
    else
        atomic_fetch_add_explicit(c, v, memory_order_relaxed);
}

/* The thread is ending: its line goes back (its sums stay in it) and what
 * it still allocates goes to line 0. */
void trace_thread_end(void)
{
    athr_thread_end();
    lines_mine = 0;
    struct trace_shard *s = trace_my_shard;
    trace_my_shard = &trace_shards[0];
    if (s && s != trace_shards)
        atomic_store_explicit(&s->owned, 0, memory_order_release);
}

static uint64_t trace_current(void)
{
    uint64_t sum = 0;
    unsigned top = atomic_load_explicit(&trace_shards_top, memory_order_acquire);
    for (unsigned k = 0; k < top; k++)
        sum += atomic_load_explicit(&trace_shards[k].bytes, memory_order_relaxed);
    /* Shards read one after another while others change them can add up
     * to less than nothing (a free counted, its allocation not yet). */
    return (int64_t)sum < 0 ? 0 : sum;
}

/* The peak raised to cur.  A thread with a line of its own keeps its
 * highest there, with a plain store (readers take the highest of every
 * line and traces.peak: trace_totals); line 0's threads raise traces.peak
 * itself.  A locked compare-and-swap waits until every store before it is
 * done, the table's write of the block just made among them (a cache
 * miss, most often, in a big table): a program that keeps what it
 * allocates raises the peak at nearly every malloc, and that wait was a
 * tenth of its time. */
static void trace_raise_peak(uint64_t cur)
{
    struct trace_shard *s = trace_my_shard;
    if (HS_LIKELY((uintptr_t)s > (uintptr_t)trace_shards)) {
        if (cur > atomic_load_explicit(&s->peak, memory_order_relaxed))
            atomic_store_explicit(&s->peak, cur, memory_order_relaxed);
        return;
    }
    uint64_t peak = atomic_load_explicit(&traces.peak, memory_order_relaxed);
    while (cur > peak && !atomic_compare_exchange_weak(&traces.peak, &peak, cur))
        ;
}

/* The peak as a thread of line s (its trace_my_shard: NULL before it
 * has one) knows it: traces.peak and its line's. */
static inline uint64_t trace_peak_seen_by(const struct trace_shard *s)
{
    uint64_t p = atomic_load_explicit(&traces.peak, memory_order_relaxed);
    uint64_t q = s ? atomic_load_explicit(&s->peak, memory_order_relaxed) : 0;
    return q > p ? q : p;
}

static inline uint64_t trace_peak_seen(void)
{
    return trace_peak_seen_by(trace_my_shard);
}

/* Folds this thread's change into the global size and raises the peak to
 * it; a fall asks the timeline for a point.  The frees this thread holds back (pend_hold) happened before the
 * change: they are released first (lowering trace_pending; the discharge of
 * a big one may fold in its turn, which finds the queue emptied). */
static HS_NOINLINE void trace_fold(void)
{
    int fell = trace_pending < 0;
    pend_settle();
    uint64_t cur = trace_current();
    trace_pending = 0;
    atomic_store_explicit(&traces.folded, cur, memory_order_relaxed);
    trace_raise_peak(cur);
    if (fell) /* the timeline follows the heap down (timeline_fall) */
        timeline_fall();
}

/* This thread's change would raise the peak: first the frees it holds,
 * which happened before it, oldest first and only as many as it takes.
 * Their sizes are not known until they are released (that is the point
 * of holding them), so a thread that holds any sees "a new peak" after
 * most allocations that follow a free (deep: 85% of them); draining the
 * whole queue each time left it nearly empty, and the table's misses it
 * is there to hide came back.  The peak is raised, and captured, only
 * with the queue empty: it stays exact.  cur: the size trace_track_peak
 * found over the peak, so that a thread holding none (kept64's every
 * malloc) goes straight to the raise, with no call (pend_holding). */
static HS_NOINLINE void trace_new_peak(uint64_t cur)
{
    struct pend_queue *q;
    while ((q = pend_holding()) && pend_release_oldest(q)) {
        if (trace_pending <= 0)
            return;
        cur = atomic_load_explicit(&traces.folded, memory_order_relaxed) +
              (uint64_t)trace_pending;
        if (cur <= trace_peak_seen())
            return;
    }
    trace_raise_peak(cur);
    peak_check(cur); /* PEAK (peak_capture): cur is the peak this thread sees now */
}

/* The peak after this thread (of line s) changed the traced size
 * (trace_pending). */
static inline __attribute__((always_inline)) void trace_track_peak(const struct trace_shard *s)
{
    if (trace_pending >= TRACE_FOLD || trace_pending <= -TRACE_FOLD) {
        trace_fold();
        peak_check(trace_peak_seen()); /* PEAK (peak_capture) */
        return;
    }
    if (trace_pending <= 0) /* frees by this thread (of others' blocks, too) */
        return;
    uint64_t cur = atomic_load_explicit(&traces.folded, memory_order_relaxed) +
                   (uint64_t)trace_pending;
    if (HS_UNLIKELY(cur > trace_peak_seen_by(s)))
        trace_new_peak(cur);
}

/* Adds to trace id's record.  A record is one thread's (trace_of_thread:
 * a thread interns, and so charges, only its own; an mmap-kind twin is
 * its trace's thread's), so its adds are plain (line_own_add), since a
 * locked add waits for the stores before it, as trace_raise_peak says
 * (kept's every malloc charges its record so: trace_delta_other).  A
 * record of no one thread (HSNAP_THREAD_NONE: the <unsampled>
 * pseudo-trace, every thread's) takes atomic adds. */
static void trace_total_add(uint32_t id, uint64_t n, uint64_t bytes)
{
    struct trace *t = trace_by_id(id);
    if (!t)
        return;
    if (HS_LIKELY(t->thread != HSNAP_THREAD_NONE)) {
        line_own_add(&t->st.total_count, n);
        line_own_add(&t->st.total_bytes, bytes);
        return;
    }
    atomic_fetch_add_explicit(&t->st.total_count, n, memory_order_relaxed);
    atomic_fetch_add_explicit(&t->st.total_bytes, bytes, memory_order_relaxed);
}

/* A charge of trace id whose delta slot d holds another trace's share.
 * The slot goes over to id (what it held to its trace) only after
 * TRACE_DELTA_PATIENCE such charges; until then id's charge goes to its
 * own record, whose line the stack's lookup has just read (trace_intern),
 * where a take writes the slot's trace's, most likely a miss: stacks
 * that take turns past TRACE_DELTAS (kept's 100,000, a parser's) moved
 * a slot on nearly every charge.  A site that allocates often takes its
 * slot back within that many charges.  1: charged here; 0: d is id's now,
 * empty.  Either way the sums a reader adds up (trace_read_stat: the
 * record and the deltas that name it) are the same. */
static HS_NOINLINE int trace_delta_other(struct trace_delta *d, uint32_t id, uint64_t n,
                                         uint64_t bytes)
{
    uint32_t was = atomic_load_explicit(&d->id1, memory_order_relaxed);
    if (was && ++d->other < TRACE_DELTA_PATIENCE) {
        trace_total_add(id, n, bytes);
        return 1;
    }
    d->other = 0;
    if (was)
        trace_total_add(was - 1, atomic_load_explicit(&d->count, memory_order_relaxed),
                        atomic_load_explicit(&d->bytes, memory_order_relaxed));
    atomic_store_explicit(&d->count, 0, memory_order_relaxed);
    atomic_store_explicit(&d->bytes, 0, memory_order_relaxed);
    atomic_store_explicit(&d->id1, id + 1, memory_order_relaxed);
    return 0;
}

static inline void trace_delta_add(struct trace_shard *s, uint32_t id, uint64_t n,
                                   uint64_t bytes)
{
    struct trace_delta *d = &s->delta[id & (TRACE_DELTAS - 1)];
    if (HS_UNLIKELY(atomic_load_explicit(&d->id1, memory_order_relaxed) != id + 1) &&
        trace_delta_other(d, id, n, bytes))
        return;
    line_own_add(&d->count, n); /* s is this thread's own line */
    line_own_add(&d->bytes, bytes);
}

/* A block was born.  Inlined into its callers (hook_record with
 * LTO, as tbl_prefetch_where): hook_record already saves every register
 * this needs, so a call only added a second prologue and epilogue.  Not
 * trace_discharge: inlined into the free path it cost more than its call
 * (docs/performance-hotpath.md). */
static __attribute__((always_inline)) inline void trace_charge_in(uint32_t id, uint64_t size,
                                                                   int plain)
{
    uint64_t n = 1u << TRACE_UNIT_SHIFT, bytes = size;
    if (!plain)
        sample_weigh(size, &n, &bytes);
    struct trace_shard *s = trace_my_shard;
    /* One compare for "none yet" (NULL) and line 0: both at or below it;
     * plain: lines_mine, the thread's own. */
    if (plain || HS_LIKELY((uintptr_t)s > (uintptr_t)trace_shards) ||
        (s = trace_shard()) != trace_shards) {
        trace_delta_add(s, id, n, bytes);
        line_own_add(&s->allocs, 1);
        line_own_add(&s->bytes, bytes);
    } else {
        trace_total_add(id, n, bytes);
        trace_shard_add(s, &s->allocs, 1);
        trace_shard_add(s, &s->bytes, bytes);
    }
    peak_move_in(id, (int64_t)n, (int64_t)bytes, plain); /* PEAK: per-trace live sums (peak_live) */
    trace_pending += (int64_t)bytes;
    trace_track_peak(s);
}

__attribute__((always_inline)) inline void trace_charge(uint32_t id, uint64_t size)
{
    trace_charge_in(id, size, 0);
}

/* With hook_plain's word, so weight 1 (HS_RARE_ESTIMATES), the thread's
 * own shard and peak line, and not a child no fork handler reached:
 * hook_insert's plain path. */
__attribute__((always_inline)) inline void trace_charge_plain(uint32_t id, uint64_t size)
{
    trace_charge_in(id, size, 1);
}

/* A block died: the global sums move, and peak_move's per-thread live sums
 * per trace (snapshots still derive theirs from the table).  Any case but
 * the common one (trace_discharge's fast path) comes here. */
static HS_NOINLINE void trace_discharge_any(uint32_t id, uint64_t size)
{
    uint64_t n, bytes;
    sample_weigh(size, &n, &bytes);
    struct trace_shard *s = trace_shard();
    trace_shard_add(s, &s->frees, 1);
    trace_shard_add(s, &s->bytes, -bytes);
    peak_move(id, -(int64_t)n, -(int64_t)bytes); /* PEAK: per-trace live sums (peak_live) */
    trace_pending -= (int64_t)bytes;
    if (trace_pending <= -TRACE_FOLD)
        trace_fold();
}

/* trace_discharge_any's work in the common case - weight 1, the thread's
 * own shard and peak cell (peak_move's), not a fork's child - with no
 * call but tail calls, so that it needs no frame and saves no register:
 * the prologue and epilogue the rare cases' calls made every free pay
 * were a quarter of its cost. */
static __attribute__((always_inline)) inline void trace_discharge_in(uint32_t id, uint64_t size,
                                                                      int plain)
{
    struct trace_shard *s = trace_my_shard;
    struct peak_line *l = peak_mine;
    struct peak_cell *c;
    /* plain: lines_mine, s and l its own, and the fork mark tested (HS_FORK_MARK) */
    if ((!plain && HS_UNLIKELY(sample_estimates)) ||
        (!plain && HS_UNLIKELY((uintptr_t)s <= (uintptr_t)trace_shards)) || /* NULL, or line 0 */
        (!plain && HS_UNLIKELY(l == NULL)) || (!plain && base_unforked()) ||
        HS_UNLIKELY((c = atomic_load_explicit(&l->chunk[id >> PEAK_CHUNK_BITS],
                                              memory_order_relaxed)) == NULL)) {
        trace_discharge_any(id, size);
        return;
    }
    c += id & (PEAK_CHUNK - 1);
    line_own_add(&s->frees, 1);
    line_own_add(&s->bytes, -size);
    line_own_add(&c->count, -(uint64_t)(1 << TRACE_UNIT_SHIFT));
    line_own_add(&c->bytes, -size);
    if ((trace_pending -= (int64_t)size) <= -TRACE_FOLD)
        trace_fold();
}

void trace_discharge(uint32_t id, uint64_t size)
{
    trace_discharge_in(id, size, 0);
}

/* The same for pend_release_plain. */
void trace_discharge_plain(uint32_t id, uint64_t size)
{
    trace_discharge_in(id, size, 1);
}

/* Trace id's mapped ranges of from[0..nf) bytes become ranges of
 * to[0..nt): the sums follow the ranges, each weighed as a walk of them
 * (reg_foreach, trace_live_add) weighs it, so that the lines' count is the
 * ranges' and their bytes the pieces' (docs/design.md, "Memory mapped
 * outside malloc").  Ranges gone are frees; a range more is an allocation
 * in META's total (allocs - frees = live blocks), one less takes one
 * back; the trace's STATS count the calls made. */
static void trace_reshape(uint32_t id, const uint64_t *from, unsigned nf, const uint64_t *to,
                          unsigned nt)
{
    uint64_t c, b;
    int64_t dn = 0, db = 0;
    for (unsigned k = 0; k < nf; k++) {
        sample_weigh(from[k], &c, &b);
        dn -= (int64_t)c;
        db -= (int64_t)b;
    }
    for (unsigned k = 0; k < nt; k++) {
        sample_weigh(to[k], &c, &b);
        dn += (int64_t)c;
        db += (int64_t)b;
    }
    struct trace_shard *s = trace_shard();
    if (!nt)
        trace_shard_add(s, &s->frees, nf);
    else if (nt != nf)
        trace_shard_add(s, &s->allocs, (uint64_t)((int64_t)nt - (int64_t)nf));
    trace_shard_add(s, &s->bytes, (uint64_t)db);
    peak_move(id, dn, db); /* PEAK: per-trace live sums (peak_live) */
    trace_pending += db;
    trace_track_peak(s);
}

/* A mapped range of trace id, of was bytes, cut down to the n pieces
 * left[0..n) (reg_cut: none, the range gone; one, a front or back cut; two,
 * a hole). */
HS_NOINLINE void trace_recut(uint32_t id, uint64_t was, const uint64_t *left, unsigned n)
{
    trace_reshape(id, &was, 1, left, n);
}

/* trace_recut undone: n ranges of trace id, of parts[0..n) bytes, one
 * range again (an mremap the kernel refused puts back the piece reg_take
 * cut from its range: reg_restore), so that META's totals read as if the
 * range had never been cut. */
HS_NOINLINE void trace_rejoin(uint32_t id, const uint64_t *parts, unsigned n)
{
    uint64_t whole = 0;
    for (unsigned k = 0; k < n; k++)
        whole += parts[k];
    trace_reshape(id, parts, n, &whole, 1);
}

/* Allocations and frees of traced blocks so far (META). */
void trace_alloc_counts(uint64_t *allocs, uint64_t *frees)
{
    uint64_t a = 0, f = 0;
    unsigned top = atomic_load_explicit(&trace_shards_top, memory_order_acquire);
    for (unsigned k = 0; k < top; k++) {
        a += atomic_load_explicit(&trace_shards[k].allocs, memory_order_relaxed);
        f += atomic_load_explicit(&trace_shards[k].frees, memory_order_relaxed);
    }
    *allocs = a;
    *frees = f;
}

/* An attach after a detach: allocations, frees, foreign frees and the
 * peak count from the new session on (trace_clear emptied the rest). */
void trace_reset_counts(void)
{
    unsigned top = atomic_load_explicit(&trace_shards_top, memory_order_acquire);
    for (unsigned k = 0; k < top; k++) {
        atomic_store(&trace_shards[k].allocs, 0);
        atomic_store(&trace_shards[k].frees, 0);
    }
    atomic_store(&trace_counters.foreign_frees, 0);
    pend_forget_owed(); /* the last session's fresh blocks out of the sums first */
    trace_reset_peak();
    peak_clear();
    peak_reset();
}

uint32_t trace_count(void)
{
    return atomic_load_explicit(&traces.count, memory_order_acquire);
}

/* Trace id's frames, innermost first: the first max of them copied to ip
 * (a walk out from its innermost node); its depth, which may be more than
 * max.  No lock needed: records and nodes never move or change. */
unsigned trace_stack(uint32_t id, uintptr_t *ip, unsigned max, unsigned *flags)
{
    struct trace *t = id < atomic_load_explicit(&traces.count, memory_order_acquire)
                          ? trace_by_id(id) : NULL;
    *flags = t ? atomic_load_explicit(&t->flags, memory_order_relaxed) : 0;
    if (!t)
        return 0;
    ftree_copy(t->node, t->depth, ip, max);
    return t->depth;
}

/* Trace id's innermost node (ftree_frame), flags and depth.  No lock. */
unsigned trace_node(uint32_t id, uint32_t *node, unsigned *flags)
{
    unsigned depth = trace_stack(id, NULL, 0, flags);
    return *node = depth ? trace_by_id(id)->node : 0, depth;
}

/* Adds a live block of size bytes charged to trace id to live[id], with
 * the weight trace_charge gave it; ids at or past n are ignored (traces
 * born after the caller sized its array). */
void trace_live_add(struct trace_live *live, uint32_t n, uint32_t id, uint64_t size)
{
    uint64_t c, bytes;
    if (id >= n)
        return;
    sample_weigh(size, &c, &bytes);
    live[id].count += c;
    live[id].bytes += bytes;
}

/* Makes live's n sums resident at once where blocks live blocks are to be
 * added to them (trace_live_add) and would touch nearly every page: a sum
 * is read before it is written, so a fresh page touched so faults twice
 * (the zero page, then its own copy), where one madvise makes them all
 * resident at about half a touched page's cost (arena_populate).  A page
 * holds 256 sums: at a block for every 32 traces or more, few pages would
 * be left untouched were the blocks spread; a heap whose blocks crowd into
 * a few of many traces pays n * 16 bytes resident for the pass, so only a
 * scratch mapped away from the snapshots uses it (the site line's walk,
 * sl_walk), not a snapshot's own sums (snap_live_init). */
#define TRACE_LIVE_DENSE 32u /* traces a block, at most */
void trace_live_ready(struct trace_live *live, uint32_t n, uint64_t blocks)
{
    if (live && n && blocks >= n / TRACE_LIVE_DENSE)
        arena_populate(live, (size_t)n * sizeof *live);
}

/* The sums of trace id; live (NULL: none) as summed by trace_live_add. */
void trace_read_stat(uint32_t id, const struct trace_live *live, struct hsnap_stat *out)
{
    struct trace *t = trace_by_id(id);
    memset(out, 0, sizeof *out);
    if (!t)
        return;
    uint64_t half = 1u << (TRACE_UNIT_SHIFT - 1);
    if (live) {
        out->live_count = (live->count + half) >> TRACE_UNIT_SHIFT;
        out->live_bytes = live->bytes;
    }
    uint64_t count = atomic_load_explicit(&t->st.total_count, memory_order_relaxed);
    uint64_t bytes = atomic_load_explicit(&t->st.total_bytes, memory_order_relaxed);
    unsigned top = atomic_load_explicit(&trace_shards_top, memory_order_acquire);
    for (unsigned k = 1; k < top; k++) { /* the lines' deltas */
        const struct trace_delta *d = &trace_shards[k].delta[id & (TRACE_DELTAS - 1)];
        if (atomic_load_explicit(&d->id1, memory_order_relaxed) == id + 1) {
            count += atomic_load_explicit(&d->count, memory_order_relaxed);
            bytes += atomic_load_explicit(&d->bytes, memory_order_relaxed);
        }
    }
    out->total_count = (count + half) >> TRACE_UNIT_SHIFT;
    out->total_bytes = bytes;
}

void trace_lock(void)
{
    lock_take(&traces.lock);
}

int trace_lock_bounded(unsigned tries)
{
    return lock_take_bounded(&traces.lock, tries);
}

void trace_unlock(void)
{
    lock_drop(&traces.lock);
}

void trace_totals(uint64_t *current, uint64_t *peak)
{
    uint64_t cur = trace_current(), p = atomic_load(&traces.peak);
    unsigned top = atomic_load_explicit(&trace_shards_top, memory_order_acquire);
    for (unsigned k = 1; k < top; k++) {
        uint64_t q = atomic_load_explicit(&trace_shards[k].peak, memory_order_relaxed);
        p = q > p ? q : p;
    }
    if (current)
        *current = cur;
    if (peak)
        *peak = p > cur ? p : cur;
}

/* tracemalloc.reset_peak: the peak restarts from the current size. */
void trace_reset_peak(void)
{
    uint64_t cur = trace_current();
    trace_pending = 0;
    atomic_store(&traces.folded, cur);
    atomic_store(&traces.peak, cur);
    for (unsigned k = 1; k < atomic_load(&trace_shards_top); k++)
        atomic_store(&trace_shards[k].peak, 0);
}

/* trace_clear forgets a live block of size bytes (pend_forget_fresh: a fresh one). */
void trace_forget(uint64_t size)
{
    uint64_t n, bytes;
    sample_weigh(size, &n, &bytes);
    atomic_fetch_sub(&trace_shards[0].bytes, bytes);
}

static int trace_forget_block(const struct tbl_entry *e, void *arg)
{
    (void)arg;
    trace_forget(e->size);
    return 0;
}

/* tracemalloc.clear_traces: forget every live block and every sum.  Blocks
 * allocated before the clear are freed later as "foreign" frees.  Records
 * stay (ids must remain valid); their sums restart from zero. */
void trace_clear(void)
{
    lock_take(&traces.lock);
    /* other threads: a fresh block freed before its thread forgets it
     * moves the lines (peak_clear zeroes) below the table's sums, and a
     * block born before peak_clear stays in them */
    if (pend_forget_fresh())
        peak_doubt();
    tbl_clear(trace_forget_block, NULL);
    reg_clear(); /* the mapped ranges too */
    uint32_t n = atomic_load(&traces.count);
    for (uint32_t id = 0; id < n; id++) {
        struct trace *t = trace_by_id(id);
        if (!t) /* never, below count under the lock: -O3 cannot tell */
            continue;
        atomic_store(&t->st.total_count, 0);
        atomic_store(&t->st.total_bytes, 0);
    }
    trace_fail_clear();
    for (unsigned k = 1; k < atomic_load(&trace_shards_top); k++)
        for (unsigned j = 0; j < TRACE_DELTAS; j++) {
            atomic_store(&trace_shards[k].delta[j].count, 0);
            atomic_store(&trace_shards[k].delta[j].bytes, 0);
        }
    trace_reset_peak();
    lock_drop(&traces.lock);
}
