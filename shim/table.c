/*
 * table.c - the live-block table: pointer -> {size, trace id, birth epoch}.
 * This is the hottest structure in the shim: every malloc inserts, every
 * free removes.
 *
 * Why not uthash here: its UT_hash_handle alone is 56 bytes per item, over
 * the 40 bytes per live block budget before the payload.  Instead each entry
 * is packed into 16 bytes stored inline in an open-addressed array with
 * linear probing.  Deletion uses backward shifting, so there are no
 * tombstones and probe runs never rot.
 *
 * Load: an array grows by 1.5x when it would pass 5/8 full, so it is between
 * 5/12 and 5/8 full (26-38 bytes per live block, about 32 on average).  Probe
 * runs grow as 1/(1-load)^2: at the 40-80% of a doubling table a fresh insert
 * or the shift after a delete walked ~9 slots near the top, here ~2-3.  The
 * 1.5x sizes are not powers of two, so the home slot is "fastrange",
 * (32 hash bits) * slots >> 32, and probes wrap at the size instead of a
 * mask.  Sizes are whole pages (multiples of 256 slots).
 *
 *   w0:  ptr (bits 0-47) | birth epoch (bits 48-63, saturating at 65535)
 *   w1:  size (bits 0-39) | trace id (bits 40-63; traces.c has < 2^24 ids)
 *
 * A pointer at or above 2^48 (no x86-64 or arm64 malloc returns one) or a
 * block of 1 TiB or more is not recorded: tbl_insert says out of memory.
 * Callers see the unpacked struct tbl_entry; visitors get a copy.
 *
 * Striping: the table is TBL_STRIPES independent tables, each with its own
 * lock and array (each array is a mapping of its own, so the old one goes
 * back to the system instead of idling in an arena free list).  No lock is
 * shared by all threads, and a snapshot stops other threads for one stripe
 * at a time.  fork and the reference model take every stripe
 * (tbl_lock_all), in ascending order.  The stripes come in TBL_GROUPS
 * groups of 16.  Each 64 MiB region of the address space is given a group
 * the first time a block is seen in it, round robin (tbl_region), and
 * within the group the high bits of a hash of the pointer pick the stripe.
 * glibc gives each thread an arena of its own, in heaps aligned to 64 MiB,
 * so two threads' blocks land in different groups: each core keeps its own
 * stripes' locks and slots in its cache, where with stripes picked by hash
 * alone every lock and slot line went back and forth between the cores.
 * Within a stripe the home slot comes from a second,
 * cheaper hash (tbl_home).
 *
 * Invariant: ptr == 0 marks an empty slot (NULL is never inserted).
 *
 * The presence filter (sampled mode only, shim.h): tbl_filter.n[b] counts
 * the entries whose tbl_filter_index is b, and tbl_filter.g[b >> 7] those
 * of its group of 128 buckets, maintained on every fresh insert and delete;
 * a saturated counter (0xff) stays so for good (it then only costs
 * lookups).  With few (sampled) blocks in the table almost every free
 * of an unsampled block is answered by one load, without a lock.  One byte
 * per bucket keeps the array at 64 KiB, small enough to stay cached.
 */
#include <string.h>

#include "shim.h"

#define TBL_GROUP_BITS 4 /* stripes in a group: 16 */
#define TBL_GROUPS 8u
#define TBL_STRIPES (TBL_GROUPS << TBL_GROUP_BITS)
#define TBL_REGION_SHIFT 26 /* 64 MiB: glibc's HEAP_MAX_SIZE on 64-bit */
#define TBL_INITIAL 256u /* slots in a stripe's first array: one page */
#define TBL_MAX_SLOTS (1u << 31) /* 32 GiB per stripe: never reached */
#define TBL_LOAD_NUM 5u /* grow past 5/8 full */
#define TBL_LOAD_DEN 8u

#define TBL_PTR_BITS 48
#define TBL_SIZE_BITS 40
#define TBL_LOW(bits) (((uint64_t)1 << (bits)) - 1)

struct tbl_slot {
    uint64_t w0; /* ptr | epoch << 48; 0 = empty */
    uint64_t w1; /* size | trace << 40 */
};

struct tbl_stripe {
    lock_t lock;
    uint32_t count;            /* live entries */
    /* The fields below change only when the array grows, and every free
     * and allocation reads them before it takes the lock (tbl_prefetch):
     * on a line of their own they stay shared between cores, where on the
     * lock's line each read would fetch the line another core just wrote. */
    char apart[64 - sizeof(lock_t) - sizeof(uint32_t)];
    uint32_t n;                /* slots in the array; 0 while slots == NULL */
    uint32_t limit;            /* most entries before it grows: n * 5/8 */
    struct tbl_slot *slots;    /* a mapping of n slots */
} __attribute__((aligned(64)));

static struct {
    struct tbl_stripe stripe[TBL_STRIPES];
} tbl;

/* The stripe lock, test-and-set first: an uncontended take is one
 * exchange, without the read that would first fetch the line shared. */
static inline void tbl_lock(struct tbl_stripe *s)
{
    if (HS_LIKELY(atomic_exchange_explicit(&s->lock.v, 1, memory_order_acquire) == 0))
        return;
    lock_take(&s->lock);
}

/* One multiply (Fibonacci hashing): its high bits depend on every bit of
 * the pointer below them, which is all a stripe (bits 60-63) and a home
 * slot (bits 28-59) need, at the cost of one instruction on each of a
 * block's three lookups (prefetch, insert, remove). */
static inline uint64_t tbl_hash(uintptr_t ptr)
{
    return (uint64_t)ptr * 0x9e3779b97f4a7c15ULL;
}

/* Which stripes serve an address region: one byte per TBL_REGION_SHIFT
 * region, indexed by the region number's low 12 bits (regions 256 GiB
 * apart share a byte, and so a group: only locality is at stake).  A byte
 * for every region of the 48-bit space was 4 MiB of bss, and bss counts
 * against a program's RLIMIT_AS.  0: not yet claimed; else 1 + the
 * region's group. */
#define TBL_REGIONS (1u << 12)
static _Atomic uint8_t tbl_region[TBL_REGIONS];
static _Atomic unsigned tbl_region_next; /* round robin over the groups */

/* First block seen in ptr's region: give the region the next group.  Two
 * threads may race here; the first to store wins and both use its group. */
static HS_NOINLINE unsigned tbl_region_claim(_Atomic uint8_t *r)
{
    uint8_t want = (uint8_t)(1 + atomic_fetch_add_explicit(&tbl_region_next, 1,
                                                           memory_order_relaxed) % TBL_GROUPS);
    uint8_t had = 0;
    if (atomic_compare_exchange_strong_explicit(r, &had, want, memory_order_relaxed,
                                                memory_order_relaxed))
        return want;
    return had;
}

/* ptr's stripe: its region's group, and within the group the top bits of
 * ptr's hash. */
static inline struct tbl_stripe *tbl_stripe_of(uintptr_t ptr, uint64_t h)
{
    _Atomic uint8_t *r = &tbl_region[(ptr >> TBL_REGION_SHIFT) & (TBL_REGIONS - 1)];
    unsigned g = atomic_load_explicit(r, memory_order_relaxed);
    if (HS_UNLIKELY(!g))
        g = tbl_region_claim(r);
    return &tbl.stripe[(g - 1) << TBL_GROUP_BITS | (unsigned)(h >> (64 - TBL_GROUP_BITS))];
}

struct tbl_filter tbl_filter;

void tbl_filter_enable(void)
{
    tbl_filter.on = 1;
}

void tbl_filter_pin(const void *p)
{
    unsigned b = tbl_filter_index((uintptr_t)p);
    atomic_store_explicit(&tbl_filter.n[b], 0xff, memory_order_relaxed);
    atomic_store_explicit(&tbl_filter.g[b >> TBL_FILTER_GROUP_BITS], 0xff, memory_order_relaxed);
}

/* Moves counter c by delta (+1 or -1); 0xff stays for good, and 0 does not
 * go below.  1 if c changed. */
static int tbl_filter_step(_Atomic uint8_t *c, int delta)
{
    uint8_t v = atomic_load_explicit(c, memory_order_relaxed);
    do {
        if (v == 0xff || (delta < 0 && v == 0))
            return 0;
    } while (!atomic_compare_exchange_weak_explicit(c, &v, (uint8_t)(v + delta),
                                                    memory_order_relaxed, memory_order_relaxed));
    return 1;
}

/* Every counter back to zero but the saturated ones: a pinned bucket (a
 * boot block, which the real free must never see) stays pinned, and so
 * does its group. */
static void tbl_filter_clear(void)
{
    for (unsigned b = 0; b < (1u << TBL_FILTER_BITS); b++)
        if (atomic_load_explicit(&tbl_filter.n[b], memory_order_relaxed) != 0xff)
            atomic_store_explicit(&tbl_filter.n[b], 0, memory_order_relaxed);
    for (unsigned k = 0; k < TBL_FILTER_GROUPS; k++)
        if (atomic_load_explicit(&tbl_filter.g[k], memory_order_relaxed) != 0xff)
            atomic_store_explicit(&tbl_filter.g[k], 0, memory_order_relaxed);
}

/* The bucket moves, and its group with it: only when the bucket did, so
 * that the group is always the sum of its buckets (or saturated).  An
 * insert moves them before the block reaches the program, so no free of
 * it can find its group at zero. */
static void tbl_filter_add(uintptr_t ptr, int delta)
{
    unsigned b = tbl_filter_index(ptr);
    if (tbl_filter_step(&tbl_filter.n[b], delta))
        tbl_filter_step(&tbl_filter.g[b >> TBL_FILTER_GROUP_BITS], delta);
}

static inline uintptr_t tbl_ptr(const struct tbl_slot *x)
{
    return (uintptr_t)(x->w0 & TBL_LOW(TBL_PTR_BITS));
}

static inline void tbl_unpack(const struct tbl_slot *x, struct tbl_entry *e)
{
    e->ptr = tbl_ptr(x);
    e->epoch = (uint32_t)(x->w0 >> TBL_PTR_BITS);
    e->size = x->w1 & TBL_LOW(TBL_SIZE_BITS);
    e->trace = (uint32_t)(x->w1 >> TBL_SIZE_BITS);
}

/* 0, or -1 when the entry does not fit the packing. */
static inline int tbl_pack(struct tbl_slot *x, uintptr_t ptr, uint64_t size, uint32_t trace,
                           uint32_t epoch)
{
    if ((ptr >> TBL_PTR_BITS) || (size >> TBL_SIZE_BITS) || (trace >> (64 - TBL_SIZE_BITS)))
        return -1;
    if (epoch > 0xffff)
        epoch = 0xffff;
    x->w0 = (uint64_t)ptr | (uint64_t)epoch << TBL_PTR_BITS;
    x->w1 = size | (uint64_t)trace << TBL_SIZE_BITS;
    return 0;
}

#define TBL_NONE UINT32_MAX

/* The home slot of ptr in an array of n slots: fastrange over bits 28-59
 * of tbl_hash (the top four pick the stripe in its group).  The backward
 * shift recomputes it for every entry it passes; its quality for
 * malloc-like addresses is pinned by test_table's table_probes_stay_short. */
static inline uint32_t tbl_home(uintptr_t ptr, uint32_t n)
{
    return (uint32_t)((uint64_t)(uint32_t)(tbl_hash(ptr) >> 28) * n >> 32);
}

/* Slot holding ptr, or the empty slot ending its probe run; TBL_NONE if
 * there is neither (a full array: impossible while the load factor holds,
 * but a guest must not spin forever on a broken invariant). */
static inline uint32_t tbl_probe(const struct tbl_stripe *s, uintptr_t ptr)
{
    uint32_t n = s->n, i = tbl_home(ptr, n);
    for (uint32_t step = 0; step < n; step++) {
        uint64_t w = s->slots[i].w0;
        if (!w || (w & TBL_LOW(TBL_PTR_BITS)) == ptr)
            return i;
        if (HS_UNLIKELY(++i == n))
            i = 0;
    }
    return TBL_NONE;
}

/* Grows (or creates) a stripe's array by 1.5x, in whole pages, with its
 * lock held. */
static HS_NOINLINE int tbl_grow(struct tbl_stripe *s)
{
    uint32_t old_n = s->n;
    if (old_n >= TBL_MAX_SLOTS)
        return -1;
    uint32_t n = old_n ? (old_n + old_n / 2 + TBL_INITIAL - 1) / TBL_INITIAL * TBL_INITIAL
                       : TBL_INITIAL;
    struct tbl_slot *slots = arena_map((size_t)n * sizeof *slots);
    if (!slots)
        return -1;
    struct tbl_slot *old = s->slots;
    s->slots = slots;
    s->n = n;
    s->limit = (uint32_t)((uint64_t)n * TBL_LOAD_NUM / TBL_LOAD_DEN);
    for (uint32_t i = 0; i < old_n; i++)
        if (old[i].w0) /* n > old_n entries: a free slot always exists */
            s->slots[tbl_probe(s, tbl_ptr(&old[i]))] = old[i];
    arena_unmap(old, (size_t)old_n * sizeof *old);
    return 0;
}

/* Room for one more entry?  Grows past the load limit; a failed growth is
 * fine while a slot is still free (the table just gets slower). */
static inline int tbl_make_room(struct tbl_stripe *s)
{
    if (HS_LIKELY(s->count < s->limit))
        return 0;
    if (tbl_grow(s) == 0)
        return 0;
    return s->count + 1 < s->n ? 0 : -1;
}

/* Inserts ptr.  If ptr was already there (a stale entry whose free we did
 * not see), the old entry is overwritten and copied to *replaced, and 1 is
 * returned; 0 for a fresh insert; -1 when out of memory (nothing stored). */
int tbl_insert(uintptr_t ptr, uint64_t size, uint32_t trace, uint32_t epoch,
               struct tbl_entry *replaced)
{
    uint64_t h = tbl_hash(ptr);
    struct tbl_stripe *s = tbl_stripe_of(ptr, h);
    struct tbl_slot packed;
    int ret = 0;
    if (tbl_pack(&packed, ptr, size, trace, epoch) != 0)
        return -1;
    tbl_lock(s);
    if (tbl_make_room(s) != 0) {
        lock_drop(&s->lock);
        return -1;
    }
    uint32_t i = tbl_probe(s, ptr);
    if (i == TBL_NONE) {
        lock_drop(&s->lock);
        return -1;
    }
    struct tbl_slot *e = &s->slots[i];
    if (e->w0) {
        if (replaced)
            tbl_unpack(e, replaced);
        ret = 1;
    } else {
        s->count++;
        if (tbl_filter.on)
            tbl_filter_add(ptr, 1);
    }
    *e = packed;
    lock_drop(&s->lock);
    return ret;
}

/* Backward-shift deletion of slot i: pulls later members of the probe run
 * into the hole when their home slot allows it, i.e. when the entry at j
 * sits at least as far from its home as j is from the hole. */
static void tbl_delete_slot(struct tbl_stripe *s, uint32_t i)
{
    struct tbl_slot *t = s->slots;
    uint32_t n = s->n, j = i, gap = 0;
    if (tbl_filter.on)
        tbl_filter_add(tbl_ptr(&s->slots[i]), -1);
    for (uint32_t step = 1; step < n; step++) { /* bounded, as tbl_probe */
        if (HS_UNLIKELY(++j == n))
            j = 0;
        if (!t[j].w0)
            break;
        gap++;
        uint32_t k = tbl_home(tbl_ptr(&t[j]), n);
        uint32_t dist = j >= k ? j - k : j + n - k;
        if (dist >= gap) {
            t[i] = t[j];
            i = j;
            gap = 0;
        }
    }
    t[i].w0 = 0;
    s->count--;
}

/* Starts loading ptr's home slot before the stripe lock is taken, so the
 * likely cache miss overlaps the lock's.  The unlocked reads may see an
 * array being replaced: a prefetch never faults, so that only wastes it. */
static inline void tbl_prefetch(const struct tbl_stripe *s, uintptr_t ptr)
{
    struct tbl_slot *slots = __atomic_load_n(&s->slots, __ATOMIC_RELAXED);
    uint32_t n = __atomic_load_n(&s->n, __ATOMIC_RELAXED);
    if (slots)
        __builtin_prefetch(&slots[tbl_home(ptr, n)], 1);
}

/* The same for a caller that will insert or remove ptr a little later:
 * the hooks call it as soon as they know a new block's address, so that
 * the miss on its home slot overlaps the stack walk. */
void tbl_prefetch_ptr(uintptr_t ptr)
{
    tbl_prefetch(tbl_stripe_of(ptr, tbl_hash(ptr)), ptr);
}

/* Removes ptr; 1 and *out filled if it was there, else 0. */
int tbl_remove(uintptr_t ptr, struct tbl_entry *out)
{
    uint64_t h = tbl_hash(ptr);
    struct tbl_stripe *s = tbl_stripe_of(ptr, h);
    int found = 0;
    tbl_lock(s); /* no prefetch here: a held free's slot was loaded at pend_hold */
    if (s->slots) {
        uint32_t i = tbl_probe(s, ptr);
        if (i != TBL_NONE && s->slots[i].w0) {
            if (out)
                tbl_unpack(&s->slots[i], out);
            tbl_delete_slot(s, i);
            found = 1;
        }
    }
    lock_drop(&s->lock);
    return found;
}

int tbl_find(uintptr_t ptr, struct tbl_entry *out)
{
    uint64_t h = tbl_hash(ptr);
    struct tbl_stripe *s = tbl_stripe_of(ptr, h);
    int found = 0;
    tbl_lock(s);
    if (s->slots) {
        uint32_t i = tbl_probe(s, ptr);
        if (i != TBL_NONE && s->slots[i].w0) {
            if (out)
                tbl_unpack(&s->slots[i], out);
            found = 1;
        }
    }
    lock_drop(&s->lock);
    return found;
}

static int tbl_visit_stripe(struct tbl_stripe *s, tbl_visit_fn fn, void *arg)
{
    if (!s->slots)
        return 0;
    struct tbl_entry e;
    for (uint32_t i = 0; i < s->n; i++)
        if (s->slots[i].w0) {
            tbl_unpack(&s->slots[i], &e);
            int r = fn(&e, arg);
            if (r)
                return r;
        }
    return 0;
}

/* Calls fn on every entry, stripe by stripe with that stripe locked (fn
 * must not call into the table).  A nonzero return from fn stops the walk
 * and is returned. */
int tbl_foreach(tbl_visit_fn fn, void *arg)
{
    for (unsigned k = 0; k < TBL_STRIPES; k++) {
        struct tbl_stripe *s = &tbl.stripe[k];
        lock_take(&s->lock);
        int r = tbl_visit_stripe(s, fn, arg);
        lock_drop(&s->lock);
        if (r)
            return r;
    }
    return 0;
}

/* The same, giving up (-1) if a stripe stays locked: the fatal-signal path,
 * where the crashed thread may hold a stripe forever. */
int tbl_foreach_bounded(tbl_visit_fn fn, void *arg, unsigned tries)
{
    for (unsigned k = 0; k < TBL_STRIPES; k++) {
        struct tbl_stripe *s = &tbl.stripe[k];
        if (!lock_take_bounded(&s->lock, tries))
            return -1;
        int r = tbl_visit_stripe(s, fn, arg);
        lock_drop(&s->lock);
        if (r)
            return r;
    }
    return 0;
}

void tbl_lock_all(void)
{
    for (unsigned k = 0; k < TBL_STRIPES; k++)
        lock_take(&tbl.stripe[k].lock);
}

void tbl_unlock_all(void)
{
    for (unsigned k = TBL_STRIPES; k-- > 0;)
        lock_drop(&tbl.stripe[k].lock);
}

/* Empties the table; fn (may be NULL) sees each entry first.  Every stripe
 * is held for the whole operation so the clear is atomic to other threads.
 * The arrays go back to the system (a stripe regrows from one page), as
 * tracemalloc.clear_traces frees its traces. */
void tbl_clear(tbl_visit_fn fn, void *arg)
{
    tbl_lock_all();
    for (unsigned k = 0; k < TBL_STRIPES; k++) {
        struct tbl_stripe *s = &tbl.stripe[k];
        if (fn)
            tbl_visit_stripe(s, fn, arg);
        arena_unmap(s->slots, (size_t)s->n * sizeof *s->slots);
        s->slots = NULL;
        s->n = s->limit = s->count = 0;
    }
    if (tbl_filter.on)
        tbl_filter_clear();
    tbl_unlock_all();
}

/* Live entries; a relaxed sum, exact only when nothing runs concurrently. */
uint64_t tbl_count(void)
{
    uint64_t n = 0;
    for (unsigned k = 0; k < TBL_STRIPES; k++)
        n += __atomic_load_n(&tbl.stripe[k].count, __ATOMIC_RELAXED);
    return n;
}

/* Adds one stripe's probe costs to *st (its lock held).  Going backwards
 * from an empty slot, a probe starting at slot i reads 1 slot if i is
 * empty, else one more than a probe starting at i + 1. */
static void tbl_stats_stripe(const struct tbl_stripe *s, struct tbl_probe_stats *st)
{
    uint32_t n = s->n, e = 0, reads = 0;
    while (e < n && s->slots[e].w0)
        e++;
    if (e == n) /* no empty slot (or no array): nothing sound to count */
        return;
    st->slots += n;
    for (uint32_t step = 0; step < n; step++) {
        uint32_t i = e >= step ? e - step : e + n - step;
        const struct tbl_slot *x = &s->slots[i];
        reads = x->w0 ? reads + 1 : 1;
        st->miss_reads += reads;
        if (!x->w0)
            continue;
        uint32_t k = tbl_home(tbl_ptr(x), n);
        uint32_t dist = i >= k ? i - k : i + n - k;
        st->entries++;
        st->hit_reads += dist + 1;
        st->wrapped += i < k;
        if (dist > st->max_dist)
            st->max_dist = dist;
    }
}

/* The stripe ptr belongs to (claiming its region's group if need be). */
unsigned tbl_stripe_index(uintptr_t ptr)
{
    return (unsigned)(tbl_stripe_of(ptr, tbl_hash(ptr)) - tbl.stripe);
}

/* Probe costs over the whole table, for tests and tuning (struct in shim.h);
 * each stripe is locked in turn. */
void tbl_probe_stats(struct tbl_probe_stats *st)
{
    memset(st, 0, sizeof *st);
    for (unsigned k = 0; k < TBL_STRIPES; k++) {
        struct tbl_stripe *s = &tbl.stripe[k];
        lock_take(&s->lock);
        tbl_stats_stripe(s, st);
        lock_drop(&s->lock);
    }
}

/* Bytes of slot arrays, for the bytes-per-live-block measurement. */
size_t tbl_bytes(void)
{
    size_t n = 0;
    for (unsigned k = 0; k < TBL_STRIPES; k++)
        if (tbl.stripe[k].slots)
            n += (size_t)tbl.stripe[k].n * sizeof(struct tbl_slot);
    return n;
}
