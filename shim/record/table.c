/*
 * table.c - the live-block table: pointer -> {size, trace id, birth epoch},
 * the hottest structure of the shim (every malloc inserts, every free
 * removes).  Open-addressed clusters of 16 control bytes (a 7-bit tag or
 * EMPTY, an overflow count) and 15 inline slots, probed with SSE2, as
 * Swiss tables and F14 do (docs/design.md, "The live-block table"):
 *
 *   w0:  ptr (bits 0-47) | birth epoch (bits 48-63, saturating at 65535)
 *   w1:  size (bits 0-39) | trace id (bits 40-63; traces.c has < 2^24 ids)
 *
 * A pointer at or above 2^48 or a block of 1 TiB or more is not recorded:
 * tbl_insert says out of memory.  Callers see struct tbl_entry; visitors a
 * copy.  A delete takes back its probe's overflows: no tombstones.
 *   Locks: TBL_STRIPES stripes, each with its lock and its own mapping; a
 * 64 MiB region of addresses picks a group of 16 (tbl_region), the hash a
 * stripe in it.  fork and the leak check take every stripe (tbl_lock_all),
 * ascending; a snapshot one at a time.  In sampled mode every fresh insert
 * and delete moves the presence filter (tblfilter.c).
 */
#include <string.h>
#ifdef __SSE2__
#include <emmintrin.h>
#endif

#include "record.h"

#define TBL_GROUP_BITS 4 /* stripes in a group: 16 */
#define TBL_GROUPS 8u
#define TBL_STRIPES (TBL_GROUPS << TBL_GROUP_BITS)
#define TBL_REGION_SHIFT 26 /* 64 MiB: glibc's HEAP_MAX_SIZE on 64-bit */
#define TBL_INITIAL 16u /* clusters in a stripe's first array: one page */
#define TBL_MAX_CLUSTERS (1u << 26) /* 16 GiB per stripe: never reached */
#define TBL_LOAD_NUM 7u /* grow past 7/8 full */
#define TBL_LOAD_DEN 8u
#define TBL_CLUSTER 15u /* slots in a cluster */
#define TBL_ALL 0x7fffu /* a cluster's slots, as a mask of its control bytes */
#define TBL_EMPTY 0x80u /* control bytes: a tag (0-127) marks a live slot */
#define TBL_OVER 15     /* ctrl[TBL_OVER]: entries whose probe passed the cluster */
#define TBL_OVER_MAX 255u /* ... saturated: stays until the array is rebuilt */

#define TBL_PTR_BITS 48
#define TBL_SIZE_BITS 40
#define TBL_LOW(bits) (((uint64_t)1 << (bits)) - 1)

struct tbl_slot {
    uint64_t w0; /* ptr | epoch << 48 */
    uint64_t w1; /* size | trace << 40 */
};

/* Four cache lines: the control bytes share the first with three slots. */
struct tbl_cluster {
    _Alignas(64) uint8_t ctrl[16]; /* 15 slots' bytes, then the overflow count */
    struct tbl_slot slot[TBL_CLUSTER];
};

struct tbl_stripe {
    lock_t lock;
    uint32_t count;            /* live entries */
    /* The fields below change only when the array is rebuilt, and every
     * free and allocation reads them before it takes the lock
     * (tbl_prefetch): on a line of their own they stay shared between
     * cores, where on the lock's line each read would fetch the line
     * another core just wrote. */
    char apart[64 - sizeof(lock_t) - sizeof(uint32_t)];
    uint32_t clusters;         /* in the array; 0 while cl == NULL */
    uint32_t limit;            /* most entries before it grows: 7/8 of the slots */
    struct tbl_cluster *cl;    /* a mapping of its own */
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
 * the pointer below them, which is all a stripe (bits 60-63), a home
 * cluster (bits 28-59) and a tag (bits 21-27, which depend on the
 * pointer's bits 4-27: what tells apart blocks near each other) need, at
 * the cost of one instruction on each of a block's three lookups
 * (prefetch, insert, remove). */
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

/* A slot's place: its cluster << 4 | its index in the cluster. */
static inline struct tbl_slot *tbl_at(const struct tbl_stripe *s, uint32_t at)
{
    return &s->cl[at >> 4].slot[at & 15];
}

static inline uint8_t *tbl_ctrl_at(const struct tbl_stripe *s, uint32_t at)
{
    return &s->cl[at >> 4].ctrl[at & 15];
}

/* The home cluster of hash h among c clusters: fastrange over bits 28-59
 * (the top four pick the stripe in its group), and the tag, bits 21-27. */
static inline uint32_t tbl_home(uint64_t h, uint32_t c)
{
    return (uint32_t)((uint64_t)(uint32_t)(h >> 28) * c >> 32);
}

static inline unsigned tbl_tag(uint64_t h)
{
    return (unsigned)(h >> 21) & 0x7f;
}

/* Bit j set when control byte g[j] is b, for the cluster's 15 slots: one
 * compare of 16 bytes. */
static inline unsigned tbl_match(const uint8_t *g, unsigned b)
{
#ifdef __SSE2__
    __m128i v = _mm_load_si128((const __m128i *)(const void *)g);
    return (unsigned)_mm_movemask_epi8(_mm_cmpeq_epi8(v, _mm_set1_epi8((char)b))) & TBL_ALL;
#else
    unsigned m = 0;
    for (unsigned j = 0; j < TBL_CLUSTER; j++)
        m |= (unsigned)(g[j] == b) << j;
    return m;
#endif
}

/* Bit j set when g[j] is free (EMPTY: the one value with the high bit). */
static inline unsigned tbl_free_mask(const uint8_t *g)
{
#ifdef __SSE2__
    return (unsigned)_mm_movemask_epi8(_mm_load_si128((const __m128i *)(const void *)g)) & TBL_ALL;
#else
    unsigned m = 0;
    for (unsigned j = 0; j < TBL_CLUSTER; j++)
        m |= (unsigned)(g[j] >> 7) << j;
    return m;
#endif
}

/* The place of the slot holding ptr (hash h), or TBL_NONE.  A probe reads
 * clusters from the home one on and stops at the first whose overflow
 * count is 0: no entry stored further on passed it. */
static inline uint32_t tbl_lookup(const struct tbl_stripe *s, uintptr_t ptr, uint64_t h)
{
    uint32_t c = s->clusters, g = tbl_home(h, c);
    unsigned tag = tbl_tag(h);
    for (uint32_t step = 0; step < c; step++) { /* bounded: a guest never spins */
        const struct tbl_cluster *k = &s->cl[g];
        for (unsigned m = tbl_match(k->ctrl, tag); m; m &= m - 1) {
            unsigned j = (unsigned)__builtin_ctz(m);
            if (HS_LIKELY(tbl_ptr(&k->slot[j]) == ptr))
                return g << 4 | j;
        }
        if (HS_LIKELY(!k->ctrl[TBL_OVER]))
            return TBL_NONE;
        if (HS_UNLIKELY(++g == c))
            g = 0;
    }
    return TBL_NONE;
}

/* The first free slot on the probe path of hash h, or TBL_NONE: where an
 * entry known to be absent goes.  Each full cluster it passes counts one
 * more overflow (tbl_erase takes it back). */
static inline uint32_t tbl_vacancy(struct tbl_stripe *s, uint64_t h)
{
    uint32_t c = s->clusters, g = tbl_home(h, c);
    for (uint32_t step = 0; step < c; step++) {
        struct tbl_cluster *k = &s->cl[g];
        unsigned m = tbl_free_mask(k->ctrl);
        if (HS_LIKELY(m))
            return g << 4 | (unsigned)__builtin_ctz(m);
        if (k->ctrl[TBL_OVER] < TBL_OVER_MAX)
            k->ctrl[TBL_OVER]++;
        if (++g == c)
            g = 0;
    }
    return TBL_NONE;
}

/* Fills the free slot at `at` with x (tag from h), counting it. */
static inline void tbl_place(struct tbl_stripe *s, uint32_t at, uint64_t h,
                             const struct tbl_slot *x)
{
    *tbl_ctrl_at(s, at) = (uint8_t)tbl_tag(h);
    *tbl_at(s, at) = *x;
    s->count++;
}

/* (4/3)^(k/16) in 1/65536 units, k = 0..15: the phases of tbl_next_size. */
static const uint32_t tbl_phase[16] = {65536, 66725, 67936, 69168, 70423, 71701, 73002, 74326,
                                       75674, 77047, 78445, 79868, 81317, 82793, 84295, 85824};

/* The size a stripe's array grows to from old_c clusters (0: none yet).
 * Sizes go up by 4/3, in whole pages, but each stripe of a group on a
 * ladder of its own, TBL_INITIAL x (4/3)^(g + k/16) for its place k in the
 * group: the blocks of a region spread evenly over its group's 16 stripes,
 * and on one ladder all 16 grew at the same count, so that a program's
 * peak could find the whole table just grown, 21/32 full (26 bytes a block,
 * 29 at 1.5x steps: python3's and churn1_25k's peak RSS, issue 21).  Out
 * of step, the group is at the average load whatever the count
 * (test_table's worst case). */
static uint32_t tbl_next_size(const struct tbl_stripe *s, uint32_t old_c)
{
    if (!old_c)
        return TBL_INITIAL;
    uint64_t x = (uint64_t)TBL_INITIAL * tbl_phase[(s - tbl.stripe) & 15];
    uint32_t c;
    while ((c = (uint32_t)(((x >> 16) + TBL_INITIAL - 1) / TBL_INITIAL * TBL_INITIAL)) <= old_c)
        x = x * 4 / 3;
    return c;
}

/* Grows (or creates) a stripe's array (tbl_next_size), with its lock held;
 * saturated overflow counts start again from the truth. */
static HS_NOINLINE int tbl_grow(struct tbl_stripe *s)
{
    uint32_t old_c = s->clusters;
    uint32_t c = tbl_next_size(s, old_c);
    if (c > TBL_MAX_CLUSTERS)
        return -1;
    struct tbl_cluster *cl = arena_map_full((size_t)c * sizeof *cl); /* every page written below */
    if (!cl)
        return -1;
    struct tbl_cluster *old = s->cl;
    for (uint32_t g = 0; g < c; g++)
        memset(cl[g].ctrl, TBL_EMPTY, TBL_CLUSTER); /* the overflow count stays 0 */
    s->cl = cl;
    s->clusters = c;
    s->limit = (uint32_t)((uint64_t)c * TBL_CLUSTER * TBL_LOAD_NUM / TBL_LOAD_DEN);
    s->count = 0;
    for (uint32_t g = 0; g < old_c; g++)
        for (unsigned j = 0; j < TBL_CLUSTER; j++)
            if (old[g].ctrl[j] < TBL_EMPTY) { /* more room than live entries: always a vacancy */
                uint64_t h = tbl_hash(tbl_ptr(&old[g].slot[j]));
                tbl_place(s, tbl_vacancy(s, h), h, &old[g].slot[j]);
            }
    arena_unmap(old, (size_t)old_c * sizeof *old);
    return 0;
}

/* Whether home cluster k holds ptr (tag: its hash's). */
static inline int tbl_holds(const struct tbl_cluster *k, unsigned tag, uintptr_t ptr)
{
    for (unsigned m = tbl_match(k->ctrl, tag); m; m &= m - 1)
        if (tbl_ptr(&k->slot[__builtin_ctz(m)]) == ptr)
            return 1;
    return 0;
}

/* tbl_insert past its fast path, with s's lock held (dropped here): the
 * whole probe path looked at, room made first (the array grows past the
 * load limit; a failed growth is fine while a slot is still free). */
static HS_NOINLINE int tbl_insert_slow(struct tbl_stripe *s, uintptr_t ptr, uint64_t h,
                                       const struct tbl_slot *packed, struct tbl_entry *replaced)
{
    uint32_t at;
    int r = -1;
    if (s->count < s->limit || tbl_grow(s) == 0 || s->count + 1 < s->clusters * TBL_CLUSTER) {
        if (HS_UNLIKELY((at = tbl_lookup(s, ptr, h)) != TBL_NONE)) {
            if (replaced)
                tbl_unpack(tbl_at(s, at), replaced);
            *tbl_at(s, at) = *packed;
            r = 1;
        } else if ((at = tbl_vacancy(s, h)) != TBL_NONE) {
            tbl_place(s, at, h, packed);
            if (tbl_filter.on)
                tbl_filter_add(ptr, 1);
            r = 0;
        }
    }
    lock_drop(&s->lock);
    return r;
}

/* tbl_insert into the hash alone (tblpool.c's hand-over too).  The fast
 * path is one look at the home cluster: when no entry passed it (its
 * overflow count is 0) ptr is there or nowhere, and the first free slot is
 * where tbl_vacancy would put it. */
static inline __attribute__((always_inline)) int
tbl_hash_insert_at(uintptr_t ptr, uint64_t size, uint32_t trace, uint32_t epoch,
                   struct tbl_entry *replaced, uint64_t h, struct tbl_stripe *s)
{
    struct tbl_slot packed;
    if (tbl_pack(&packed, ptr, size, trace, epoch) != 0)
        return -1;
    tbl_lock(s);
    if (HS_LIKELY(s->count < s->limit)) { /* so an array: limit is 0 without one */
        struct tbl_cluster *k = &s->cl[tbl_home(h, s->clusters)];
        unsigned tag = tbl_tag(h), m = tbl_free_mask(k->ctrl);
        if (HS_LIKELY(m && !k->ctrl[TBL_OVER] && !tbl_holds(k, tag, ptr))) {
            unsigned j = (unsigned)__builtin_ctz(m);
            k->ctrl[j] = (uint8_t)tag;
            k->slot[j] = packed;
            s->count++;
            if (tbl_filter.on)
                tbl_filter_add(ptr, 1);
            lock_drop(&s->lock);
            return 0;
        }
    }
    return tbl_insert_slow(s, ptr, h, &packed, replaced);
}

int tbl_hash_insert(uintptr_t ptr, uint64_t size, uint32_t trace, uint32_t epoch,
                    struct tbl_entry *replaced)
{
    uint64_t h = tbl_hash(ptr);
    return tbl_hash_insert_at(ptr, size, trace, epoch, replaced, h, tbl_stripe_of(ptr, h));
}

/* Inserts ptr: a pool's block by place (tblpool.c), any other in the hash.
 * If ptr was already there (a stale entry whose free we did not see), the
 * old entry is overwritten and copied to *replaced, and 1 is returned; 0
 * for a fresh insert; -1 when out of memory (nothing stored). */
int tbl_insert(uintptr_t ptr, uint64_t size, uint32_t trace, uint32_t epoch,
               struct tbl_entry *replaced)
{
    int r = tbl_pool_on ? tbl_pool_insert(ptr, size, trace, epoch, replaced) : TBL_POOL_NOT_MINE;
    return r != TBL_POOL_NOT_MINE ? r : tbl_hash_insert(ptr, size, trace, epoch, replaced);
}

/* tbl_insert with ptr's where (tbl_prefetch_where) already worked out. */
int tbl_insert_where(uintptr_t ptr, uint64_t size, uint32_t trace, uint32_t epoch,
                     struct tbl_entry *replaced, const struct tbl_where *w)
{
    int r = tbl_pool_on ? tbl_pool_insert(ptr, size, trace, epoch, replaced) : TBL_POOL_NOT_MINE;
    return r != TBL_POOL_NOT_MINE ? r
                                  : tbl_hash_insert_at(ptr, size, trace, epoch, replaced, w->h,
                                                       (struct tbl_stripe *)w->stripe);
}

/* Frees the slot at `at`, which holds the entry of hash h, and takes
 * back the overflows its insert counted in the clusters between its home
 * and its own (usually none). */
static inline void tbl_erase(struct tbl_stripe *s, uint32_t at, uint64_t h)
{
    if (tbl_filter.on)
        tbl_filter_add(tbl_ptr(tbl_at(s, at)), -1);
    *tbl_ctrl_at(s, at) = TBL_EMPTY;
    s->count--;
    uint32_t c = s->clusters, g = tbl_home(h, c);
    while (HS_UNLIKELY(g != at >> 4)) {
        uint8_t *over = &s->cl[g].ctrl[TBL_OVER];
        if (*over < TBL_OVER_MAX)
            (*over)--;
        if (++g == c)
            g = 0;
    }
}

/* Starts loading ptr's home cluster - the line of its control bytes and
 * first three slots, and the next with four more, where a slot is
 * usually found (an insert takes the cluster's first free one) - before
 * the stripe lock is taken, so the likely cache misses overlap the lock's.
 * The unlocked reads may see an array being replaced: a prefetch never
 * faults, so that only wastes it. */
static inline void tbl_prefetch(const struct tbl_stripe *s, uint64_t h)
{
    struct tbl_cluster *cl = __atomic_load_n(&s->cl, __ATOMIC_RELAXED);
    uint32_t c = __atomic_load_n(&s->clusters, __ATOMIC_RELAXED);
    if (!cl)
        return;
    const char *x = (const char *)&cl[tbl_home(h, c)];
    __builtin_prefetch(x, 1);
    __builtin_prefetch(x + 64, 1);
}

/* The same for a caller that will insert or remove ptr a little later:
 * the hooks call it as soon as they know a new block's address, so that
 * the miss on its home cluster overlaps the stack walk. */
__attribute__((always_inline)) inline void tbl_prefetch_ptr(uintptr_t ptr)
{
    uint64_t h = tbl_hash(ptr);
    tbl_prefetch(tbl_stripe_of(ptr, h), h);
}

/* The same, keeping what it worked out for the insert or remove. */
__attribute__((always_inline)) inline void tbl_prefetch_where(uintptr_t ptr, struct tbl_where *w)
{
    uint64_t h = tbl_hash(ptr);
    struct tbl_stripe *s = tbl_stripe_of(ptr, h);
    w->h = h;
    w->stripe = s;
    tbl_prefetch(s, h);
}

/* Removes ptr; 1 and *out filled if it was there, else 0.  Most entries
 * are in their home cluster: found there, nothing passed it to take back. */
static inline __attribute__((always_inline)) int tbl_remove_at(uintptr_t ptr,
                                                               struct tbl_entry *out, uint64_t h,
                                                               struct tbl_stripe *s)
{
    int found = 0;
    tbl_lock(s); /* no prefetch here: a held free's slot was loaded at pend_hold */
    if (HS_LIKELY(s->cl != NULL)) {
        struct tbl_cluster *k = &s->cl[tbl_home(h, s->clusters)];
        for (unsigned m = tbl_match(k->ctrl, tbl_tag(h)); m; m &= m - 1) {
            unsigned j = (unsigned)__builtin_ctz(m);
            if (HS_LIKELY(tbl_ptr(&k->slot[j]) == ptr)) {
                if (out)
                    tbl_unpack(&k->slot[j], out);
                if (tbl_filter.on)
                    tbl_filter_add(ptr, -1);
                k->ctrl[j] = TBL_EMPTY;
                s->count--;
                lock_drop(&s->lock);
                return 1;
            }
        }
        uint32_t at;
        if (k->ctrl[TBL_OVER] && (at = tbl_lookup(s, ptr, h)) != TBL_NONE) { /* further on */
            if (out)
                tbl_unpack(tbl_at(s, at), out);
            tbl_erase(s, at, h);
            found = 1;
        }
    }
    lock_drop(&s->lock);
    return found;
}

int tbl_remove(uintptr_t ptr, struct tbl_entry *out)
{
    if (tbl_pool_on && tbl_pool_take(ptr, out, 1))
        return 1;
    uint64_t h = tbl_hash(ptr);
    return tbl_remove_at(ptr, out, h, tbl_stripe_of(ptr, h));
}

/* tbl_remove with ptr's where (tbl_prefetch_where) already worked out. */
int tbl_remove_where(uintptr_t ptr, struct tbl_entry *out, const struct tbl_where *w)
{
    if (tbl_pool_on && tbl_pool_take(ptr, out, 1))
        return 1;
    return tbl_remove_at(ptr, out, w->h, (struct tbl_stripe *)w->stripe);
}

int tbl_find(uintptr_t ptr, struct tbl_entry *out)
{
    if (tbl_pool_on && tbl_pool_take(ptr, out, 0))
        return 1;
    uint64_t h = tbl_hash(ptr);
    struct tbl_stripe *s = tbl_stripe_of(ptr, h);
    int found = 0;
    tbl_lock(s);
    if (s->cl) {
        uint32_t at = tbl_lookup(s, ptr, h);
        if (at != TBL_NONE) {
            if (out)
                tbl_unpack(tbl_at(s, at), out);
            found = 1;
        }
    }
    lock_drop(&s->lock);
    return found;
}

static int tbl_visit_stripe(struct tbl_stripe *s, tbl_visit_fn fn, void *arg)
{
    struct tbl_entry e;
    for (uint32_t g = 0; g < s->clusters; g++)
        for (unsigned j = 0; j < TBL_CLUSTER; j++)
            if (s->cl[g].ctrl[j] < TBL_EMPTY) {
                tbl_unpack(&s->cl[g].slot[j], &e);
                int r = fn(&e, arg);
                if (r)
                    return r;
            }
    return 0;
}

/* The stripes of the groups handed out so far: [0, return).  Readers go
 * no further, so a program whose blocks are in one group reads 2 KiB of
 * stripe heads, not 16 (each page read is a page of its memory:
 * docs/performance.md, issue 21).  A group handed out while a walk runs
 * holds blocks born during the walk, which may be counted or not.  fork's
 * tbl_lock_all still takes every stripe: a group claimed meanwhile would
 * otherwise be unlocked in the child. */
static unsigned tbl_stripes_used(void)
{
    unsigned g = atomic_load_explicit(&tbl_region_next, memory_order_acquire);
    return (g < TBL_GROUPS ? g : TBL_GROUPS) << TBL_GROUP_BITS;
}

/* Calls fn on every entry, stripe by stripe with that stripe locked (fn
 * must not call into the table).  A nonzero return from fn stops the walk
 * and is returned.  tries > 0: gives up (-1) if a stripe stays locked
 * (the fatal-signal path, where the crashed thread may hold a stripe forever). */
int tbl_foreach_bounded(tbl_visit_fn fn, void *arg, unsigned tries)
{
    unsigned used = tbl_stripes_used();
    for (unsigned k = 0; k < used; k++) {
        struct tbl_stripe *s = &tbl.stripe[k];
        if (!tries)
            lock_take(&s->lock);
        else if (!lock_take_bounded(&s->lock, tries))
            return -1;
        int r = tbl_visit_stripe(s, fn, arg);
        lock_drop(&s->lock);
        if (r)
            return r;
    }
    return tbl_pool_foreach(fn, arg, tries);
}

int tbl_foreach(tbl_visit_fn fn, void *arg)
{
    return tbl_foreach_bounded(fn, arg, 0);
}

void tbl_lock_all(void)
{
    tbl_pool_lock_all(); /* a pool's region before the stripes (tblpool.c) */
    for (unsigned k = 0; k < TBL_STRIPES; k++)
        lock_take(&tbl.stripe[k].lock);
}

void tbl_unlock_all(void)
{
    for (unsigned k = TBL_STRIPES; k-- > 0;)
        lock_drop(&tbl.stripe[k].lock);
    tbl_pool_unlock_all();
}

/* Empties the table; fn (may be NULL) sees each entry first.  Every stripe
 * is held for the whole operation so the clear is atomic to other threads.
 * The arrays go back to the system (a stripe regrows from one page), as
 * tracemalloc.clear_traces frees its traces. */
void tbl_clear(tbl_visit_fn fn, void *arg)
{
    tbl_lock_all();
    unsigned used = tbl_stripes_used(); /* a stripe past it waits for its lock, empty */
    for (unsigned k = 0; k < used; k++) {
        struct tbl_stripe *s = &tbl.stripe[k];
        if (fn)
            tbl_visit_stripe(s, fn, arg);
        arena_unmap(s->cl, (size_t)s->clusters * sizeof *s->cl);
        s->cl = NULL;
        s->clusters = s->limit = s->count = 0;
    }
    tbl_pool_foreach(fn, arg, TBL_POOL_CLEAR);
    if (tbl_filter.on)
        tbl_filter_clear();
    tbl_unlock_all();
}

/* tbl_foreach for a copy of the process that will not read the table
 * again (the leak check's fork, as it copies the blocks): each stripe's
 * array is unmapped once visited, the copy's own mapping (the parent's
 * pages stay as they are), so the copy's resident set does not hold the
 * table beside the blocks' copy.  Its table is empty after; an entry fn
 * stops at is lost with its stripe.  No lock: one thread. */
int tbl_drain(tbl_visit_fn fn, void *arg)
{
    unsigned used = tbl_stripes_used();
    int r = 0;
    for (unsigned k = 0; k < used; k++) {
        struct tbl_stripe *s = &tbl.stripe[k];
        if (r == 0)
            r = tbl_visit_stripe(s, fn, arg);
        arena_unmap(s->cl, (size_t)s->clusters * sizeof *s->cl);
        s->cl = NULL;
        s->clusters = s->limit = s->count = 0;
    }
    int p = tbl_pool_foreach(r == 0 ? fn : NULL, arg, TBL_POOL_DRAIN);
    return r ? r : p;
}

/* Live entries; a relaxed sum, exact only when nothing runs concurrently. */
uint64_t tbl_count(void)
{
    uint64_t n = 0;
    unsigned used = tbl_stripes_used();
    for (unsigned k = 0; k < used; k++)
        n += __atomic_load_n(&tbl.stripe[k].count, __ATOMIC_RELAXED);
    return n + tbl_pool_count();
}

/* Adds one stripe's probe costs to *st (its lock held), in clusters read.
 * Going backwards from a cluster with an EMPTY byte, a probe for an
 * absent key starting at cluster g reads 1 cluster if g has an EMPTY
 * byte, else one more than a probe starting at g + 1. */
static void tbl_stats_stripe(const struct tbl_stripe *s, struct tbl_probe_stats *st)
{
    uint32_t c = s->clusters, e = 0, reads = 0;
    while (e < c && s->cl[e].ctrl[TBL_OVER])
        e++;
    if (e == c) /* every cluster overflowed (or no array): nothing sound to count */
        return;
    st->slots += (uint64_t)c * TBL_CLUSTER;
    st->clusters += c;
    for (uint32_t step = 0; step < c; step++) {
        uint32_t g = e >= step ? e - step : e + c - step;
        const struct tbl_cluster *k = &s->cl[g];
        reads = k->ctrl[TBL_OVER] ? reads + 1 : 1;
        st->miss_reads += reads;
        for (unsigned j = 0; j < TBL_CLUSTER; j++) {
            if (k->ctrl[j] >= TBL_EMPTY)
                continue;
            uint32_t home = tbl_home(tbl_hash(tbl_ptr(&k->slot[j])), c);
            uint32_t dist = g >= home ? g - home : g + c - home;
            st->entries++;
            st->hit_reads += dist + 1;
            st->wrapped += g < home;
            if (dist > st->max_dist)
                st->max_dist = dist;
        }
    }
}

/* The stripe ptr belongs to (claiming its region's group if need be). */
unsigned tbl_stripe_index(uintptr_t ptr)
{
    return (unsigned)(tbl_stripe_of(ptr, tbl_hash(ptr)) - tbl.stripe);
}

/* Probe costs over the whole table, for tests and tuning (struct in record.h);
 * each stripe is locked in turn. */
void tbl_probe_stats(struct tbl_probe_stats *st)
{
    memset(st, 0, sizeof *st);
    unsigned used = tbl_stripes_used();
    for (unsigned k = 0; k < used; k++) {
        struct tbl_stripe *s = &tbl.stripe[k];
        lock_take(&s->lock);
        tbl_stats_stripe(s, st);
        lock_drop(&s->lock);
    }
}

/* Bytes of slot arrays and their control bytes, for the bytes-per-live-block measurement. */
size_t tbl_bytes(void)
{
    size_t n = 0;
    unsigned used = tbl_stripes_used();
    for (unsigned k = 0; k < used; k++)
        n += (size_t)tbl.stripe[k].clusters * sizeof(struct tbl_cluster);
    return n + tbl_pool_bytes();
}
