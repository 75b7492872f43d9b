/*
 * traces.c - interned allocation stacks and their running sums.
 *
 * Identical stacks are stored once and numbered from 0 in order of first
 * sight; the id is what the live-block table and the snapshot refer to.  The
 * intern table is uthash (keyed by the ip array, with our own hash value),
 * with uthash pointed at the arena.  Trace records are never freed while the
 * process lives - ids stay valid for every reader without reference counts;
 * clear_traces zeroes sums instead of dropping records.
 *
 * The common case takes no lock: each thread keeps a small direct-mapped
 * cache (stack hash -> trace).  A miss takes the intern lock, which is also
 * what the snapshot writer holds while it copies the traces.
 *
 * id -> record goes through a two-level array whose chunks never move, so
 * trace_charge/discharge (called on every malloc/free) read it without a
 * lock.  Sums are relaxed atomics: exact once the threads are quiet.
 * Records are bump-allocated from TRACE_SLAB-byte mappings (they are never
 * freed, so power-of-two arena classes would only waste: a 64-frame record
 * of 632 bytes took a 1 KiB block).
 * Counts are kept in 1/65536 units (TRACE_UNIT) so that sampled mode can add
 * fractional weights (sample.c); readers get them rounded to whole blocks.
 */
#include <string.h>

#include "shim.h"

#define uthash_malloc(sz) arena_alloc(sz)
#define uthash_free(ptr, sz) arena_free((ptr), (sz))
#define HASH_NONFATAL_OOM 1
#define uthash_nonfatal_oom(obj) trace_oom()
#include <uthash.h>

#define TRACE_CHUNK_BITS 12
#define TRACE_CHUNK (1u << TRACE_CHUNK_BITS)      /* ids per chunk */
#define TRACE_CHUNKS 4096u                        /* so at most 16M traces */
#define TRACE_CACHE 256u                          /* per-thread cache slots */
#define TRACE_SLAB (256u * 1024u)                 /* records are carved from these */
#define TRACE_UNIT_SHIFT 16                       /* counts in 1/65536 units */
#define TRACE_UNSAMPLED_SALT 0x5a5a5a5a5a5a5a5aULL /* its hash: no real stack's */

struct trace {
    UT_hash_handle hh;       /* intern table; key = ip[0..depth) */
    uint64_t hash;           /* trace_hash of the stack */
    uint32_t id;             /* index, 0-based */
    uint16_t depth;          /* frames in ip[] */
    _Atomic uint16_t flags;  /* HSNAP_TRACE_* */
    struct trace_stat st;    /* running sums */
    uintptr_t ip[];          /* innermost first */
};

struct trace_cache_slot {
    uint64_t hash;
    struct trace *t;
};

static struct {
    lock_t lock;                         /* head, count, chunk creation */
    struct trace *head;                  /* uthash intern table */
    _Atomic uint32_t count;              /* ids handed out */
    struct trace **chunk[TRACE_CHUNKS];  /* id -> record */
    _Atomic uint64_t current, peak;      /* traced bytes live now / highest */
    char *slab, *slab_end;               /* unused tail of the record slab */
    int oom;                             /* uthash could not grow */
} traces;

struct trace_counters trace_counters;

static __thread struct trace_cache_slot trace_cache[TRACE_CACHE];

static void trace_oom(void)
{
    traces.oom = 1;
}

/* Two independent xor-multiply chains (even and odd frames) halve the
 * loop's dependency chain, which on deep stacks was most of trace_intern;
 * each step is a bijection of the lane, and the final mix (murmur3's
 * finalizer) carries every bit to the low ones the caches index with. */
static uint64_t trace_hash(const uintptr_t *ip, unsigned depth)
{
    uint64_t a = 0x9e3779b97f4a7c15ULL ^ depth, b = 0x6a09e667f3bcc909ULL;
    unsigned i = 0;
    for (; i + 1 < depth; i += 2) {
        a = (a ^ ip[i]) * 0xff51afd7ed558ccdULL;
        b = (b ^ ip[i + 1]) * 0xc4ceb9fe1a85ec53ULL;
    }
    if (i < depth)
        a = (a ^ ip[i]) * 0xff51afd7ed558ccdULL;
    uint64_t h = (a ^ (a >> 32)) * 0xbf58476d1ce4e5b9ULL + b;
    h ^= h >> 33;
    h *= 0xff51afd7ed558ccdULL;
    h ^= h >> 33;
    h *= 0xc4ceb9fe1a85ec53ULL;
    return h ^ (h >> 33);
}

/* uthash keeps a 32-bit `unsigned hashv` but compares it with the value we
 * pass, so that value must already be 32 bits: a 64-bit one never matches,
 * every lookup misses, duplicates pile up in one chain and uthash doubles its
 * buckets without end (seen: 134M buckets for 23k traces). */
static inline unsigned trace_hashv(uint64_t h)
{
    return (unsigned)(h ^ (h >> 32));
}

static inline struct trace *trace_by_id(uint32_t id)
{
    struct trace **c = traces.chunk[id >> TRACE_CHUNK_BITS];
    return c ? c[id & (TRACE_CHUNK - 1)] : NULL;
}

static int trace_same(const struct trace *t, const uintptr_t *ip, unsigned depth)
{
    return t->depth == depth && memcmp(t->ip, ip, depth * sizeof *ip) == 0;
}

/* n bytes (8-aligned, zeroed) for a record; lock held.  The tail of a slab
 * too short for a record is abandoned. */
static void *trace_carve(size_t n)
{
    n = (n + 7) & ~(size_t)7;
    if ((size_t)(traces.slab_end - traces.slab) < n) {
        size_t len = n > TRACE_SLAB ? n : TRACE_SLAB;
        char *m = arena_map(len);
        if (!m)
            return NULL;
        traces.slab = m;
        traces.slab_end = m + len;
    }
    void *p = traces.slab;
    traces.slab += n;
    return p;
}

/* Creates the record for a stack not seen before; lock held. */
static struct trace *trace_new(const uintptr_t *ip, unsigned depth, uint64_t h)
{
    uint32_t id = atomic_load(&traces.count);
    unsigned ci = id >> TRACE_CHUNK_BITS;
    if (ci >= TRACE_CHUNKS) {
        life_degrade("too many distinct stacks");
        return NULL;
    }
    if (!traces.chunk[ci] && !(traces.chunk[ci] = arena_alloc(TRACE_CHUNK * sizeof(void *))))
        return NULL;
    struct trace *t = trace_carve(sizeof *t + depth * sizeof *ip);
    if (!t)
        return NULL;
    t->hash = h;
    t->id = id;
    t->depth = (uint16_t)depth;
    memcpy(t->ip, ip, depth * sizeof *ip);
    traces.oom = 0;
    HASH_ADD_KEYPTR_BYHASHVALUE(hh, traces.head, t->ip, depth * sizeof *ip, trace_hashv(h), t);
    if (traces.oom) /* uthash could not even make its table: t is lost */
        return NULL;
    traces.chunk[ci][id & (TRACE_CHUNK - 1)] = t;
    atomic_store_explicit(&traces.count, id + 1, memory_order_release);
    return t;
}

static HS_NOINLINE struct trace *trace_lookup_slow(const uintptr_t *ip, unsigned depth,
                                                   uint64_t h)
{
    struct trace *t;
    lock_take(&traces.lock);
    HASH_FIND_BYHASHVALUE(hh, traces.head, ip, depth * sizeof *ip, trace_hashv(h), t);
    if (!t)
        t = trace_new(ip, depth, h);
    lock_drop(&traces.lock);
    return t;
}

/* The id of this stack, interning it if new.  0 on success, -1 when out of
 * memory (the caller does not record the block). */
int trace_intern(const uintptr_t *ip, unsigned depth, unsigned flags, uint32_t *id)
{
    uint64_t h = trace_hash(ip, depth);
    struct trace_cache_slot *c = &trace_cache[h & (TRACE_CACHE - 1)];
    struct trace *t = c->t;
    if (!t || c->hash != h || !trace_same(t, ip, depth)) {
        t = trace_lookup_slow(ip, depth, h);
        if (!t)
            return -1;
        c->hash = h;
        c->t = t;
    }
    if (HS_UNLIKELY(flags & ~atomic_load_explicit(&t->flags, memory_order_relaxed)))
        atomic_fetch_or(&t->flags, (uint16_t)flags);
    *id = t->id;
    return 0;
}

/* The <unsampled> pseudo-trace (HEAPSNAP_SAMPLE with HEAPSNAP_LEAKS): depth
 * 0 like an empty stack, but a hash of its own so the two never merge. */
int trace_intern_unsampled(uint32_t *id)
{
    static const uintptr_t none[1];
    uint64_t h = trace_hash(none, 0) ^ TRACE_UNSAMPLED_SALT;
    struct trace *t = trace_lookup_slow(none, 0, h);
    if (!t)
        return -1;
    atomic_fetch_or(&t->flags, (uint16_t)HSNAP_TRACE_UNSAMPLED);
    *id = t->id;
    return 0;
}

void trace_charge(uint32_t id, uint64_t size)
{
    uint64_t n, bytes;
    sample_weigh(size, &n, &bytes);
    struct trace *t = trace_by_id(id);
    if (t) {
        atomic_fetch_add_explicit(&t->st.live_count, n, memory_order_relaxed);
        atomic_fetch_add_explicit(&t->st.live_bytes, bytes, memory_order_relaxed);
        atomic_fetch_add_explicit(&t->st.total_count, n, memory_order_relaxed);
        atomic_fetch_add_explicit(&t->st.total_bytes, bytes, memory_order_relaxed);
    }
    atomic_fetch_add_explicit(&trace_counters.total_allocs, 1, memory_order_relaxed);
    uint64_t cur = atomic_fetch_add_explicit(&traces.current, bytes, memory_order_relaxed) + bytes;
    uint64_t peak = atomic_load_explicit(&traces.peak, memory_order_relaxed);
    while (cur > peak && !atomic_compare_exchange_weak(&traces.peak, &peak, cur))
        ;
}

void trace_discharge(uint32_t id, uint64_t size)
{
    uint64_t n, bytes;
    sample_weigh(size, &n, &bytes);
    struct trace *t = trace_by_id(id);
    if (t) {
        atomic_fetch_sub_explicit(&t->st.live_count, n, memory_order_relaxed);
        atomic_fetch_sub_explicit(&t->st.live_bytes, bytes, memory_order_relaxed);
    }
    atomic_fetch_add_explicit(&trace_counters.total_frees, 1, memory_order_relaxed);
    atomic_fetch_sub_explicit(&traces.current, bytes, memory_order_relaxed);
}

uint32_t trace_count(void)
{
    return atomic_load_explicit(&traces.count, memory_order_acquire);
}

const uintptr_t *trace_stack(uint32_t id, unsigned *depth, unsigned *flags)
{
    struct trace *t = trace_by_id(id);
    if (!t) {
        *depth = 0;
        *flags = 0;
        return NULL;
    }
    *depth = t->depth;
    *flags = atomic_load_explicit(&t->flags, memory_order_relaxed);
    return t->ip;
}

void trace_read_stat(uint32_t id, struct hsnap_stat *out)
{
    struct trace *t = trace_by_id(id);
    memset(out, 0, sizeof *out);
    if (!t)
        return;
    uint64_t half = 1u << (TRACE_UNIT_SHIFT - 1);
    out->live_count = (atomic_load_explicit(&t->st.live_count, memory_order_relaxed) + half) >>
                      TRACE_UNIT_SHIFT;
    out->live_bytes = atomic_load_explicit(&t->st.live_bytes, memory_order_relaxed);
    out->total_count = (atomic_load_explicit(&t->st.total_count, memory_order_relaxed) + half) >>
                       TRACE_UNIT_SHIFT;
    out->total_bytes = atomic_load_explicit(&t->st.total_bytes, memory_order_relaxed);
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
    if (current)
        *current = atomic_load(&traces.current);
    if (peak)
        *peak = atomic_load(&traces.peak);
}

/* tracemalloc.reset_peak: the peak restarts from the current size. */
void trace_reset_peak(void)
{
    atomic_store(&traces.peak, atomic_load(&traces.current));
}

static int trace_forget_block(const struct tbl_entry *e, void *arg)
{
    uint64_t n, bytes;
    sample_weigh(e->size, &n, &bytes);
    struct trace *t = trace_by_id(e->trace);
    if (t) {
        atomic_fetch_sub(&t->st.live_count, n);
        atomic_fetch_sub(&t->st.live_bytes, bytes);
    }
    atomic_fetch_sub(&traces.current, bytes);
    return 0;
}

/* tracemalloc.clear_traces: forget every live block and every sum.  Blocks
 * allocated before the clear are freed later as "foreign" frees.  Records
 * stay (ids must remain valid); their sums restart from zero. */
void trace_clear(void)
{
    lock_take(&traces.lock);
    tbl_clear(trace_forget_block, NULL);
    uint32_t n = atomic_load(&traces.count);
    for (uint32_t id = 0; id < n; id++) {
        struct trace *t = trace_by_id(id);
        atomic_store(&t->st.total_count, 0);
        atomic_store(&t->st.total_bytes, 0);
    }
    atomic_store(&traces.peak, atomic_load(&traces.current));
    lock_drop(&traces.lock);
}
