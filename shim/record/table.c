/*
 * table.c - the live-block table: pointer -> {size, trace id, birth epoch},
 * the hottest structure of the shim (every malloc inserts, every free
 * removes).  Open-addressed clusters of 16 control bytes (TBL_LIVE and a
 * 7-bit tag, or TBL_EMPTY: 0, a fresh page's byte; then an overflow count)
 * and 15 inline slots, probed with SSE2, as Swiss tables and F14 do
 * (docs/design.md, "The live-block table"); an array grows where it lies
 * (tbl_grow_in_place):
 *
 *   w0:  ptr (bits 0-47) | birth epoch (bits 48-63, saturating at 65535)
 *   w1:  size (bits 0-39) | trace id (bits 40-63; traces.c has < 2^24 ids)
 *
 * A pointer at or above 2^48 or a block of 1 TiB or more is not recorded:
 * tbl_insert says out of memory.  Callers see struct tbl_entry; visitors a
 * copy.  A delete takes back its probe's overflows: no tombstones.
 *   Locks: TBL_STRIPES stripes, each with its lock and its own mapping; a
 * 64 MiB region of addresses picks a group of 16 (tbl_region), the hash a
 * stripe in it.  fork and the leak check take every stripe handed out
 * (tbl_lock_all), ascending; a snapshot one at a time.  Sampled mode: every fresh insert
 * and delete moves the presence filter (tblfilter.c).  Where an entry lives
 * (hash, stripe, home cluster) and its prefetch: table_hint.c (recinner.h).
 */
#include <string.h>
#ifdef __SSE2__
#include <emmintrin.h>
#endif

#include "recinner.h"

struct tbl_table tbl __attribute__((aligned(4096))); /* a group's heads in one page */

/* The stripe lock, test-and-set first: an uncontended take is one
 * exchange, without the read that would first fetch the line shared. */
static inline void tbl_lock(struct tbl_stripe *s)
{
    if (HS_LIKELY(atomic_exchange_explicit(&s->lock.v, 1, memory_order_acquire) == 0))
        return;
    lock_take(&s->lock);
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

/* 0, or -1 when the entry does not fit the packing.  traced: trace is a
 * trace id of trace_intern's, below 2^24 (the plain insert's), not tested. */
static inline int tbl_pack_in(struct tbl_slot *x, uintptr_t ptr, uint64_t size, uint32_t trace,
                              uint32_t epoch, int traced)
{
    if ((ptr >> TBL_PTR_BITS) | (size >> TBL_SIZE_BITS) |
        (traced ? 0 : (uint64_t)trace >> (64 - TBL_SIZE_BITS)))
        return -1; /* one test of the three */
    if (epoch > 0xffff)
        epoch = 0xffff;
    x->w0 = (uint64_t)ptr | (uint64_t)epoch << TBL_PTR_BITS;
    x->w1 = size | (uint64_t)trace << TBL_SIZE_BITS;
    return 0;
}

static inline int tbl_pack(struct tbl_slot *x, uintptr_t ptr, uint64_t size, uint32_t trace,
                           uint32_t epoch)
{
    return tbl_pack_in(x, ptr, size, trace, epoch, 0);
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

static inline unsigned tbl_tag(uint64_t h)
{
    return TBL_LIVE | ((unsigned)(h >> 21) & 0x7f);
}

/* Bit j set when control byte g[j] is b, for the cluster's 15 slots: one
 * compare of 16 bytes. */
static inline unsigned tbl_match(const uint8_t *g, unsigned b)
{
#ifdef __SSE2__
    __m128i v = _mm_load_si128((const __m128i *)(const void *)g);
    /* b in each byte: a multiply and one shuffle of dwords, where
     * _mm_set1_epi8 takes three shuffles (SSE2 has no byte broadcast) */
    __m128i t = _mm_set1_epi32((int)(b * 0x01010101u));
    return (unsigned)_mm_movemask_epi8(_mm_cmpeq_epi8(v, t)) & TBL_ALL;
#else
    unsigned m = 0;
    for (unsigned j = 0; j < TBL_CLUSTER; j++)
        m |= (unsigned)(g[j] == b) << j;
    return m;
#endif
}

/* Bit j set when g[j] holds a live slot (TBL_LIVE: the high bit). */
static inline unsigned tbl_live_mask(const uint8_t *g)
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

/* Bit j set when g[j] is free (TBL_EMPTY). */
static inline unsigned tbl_free_mask(const uint8_t *g)
{
    return ~tbl_live_mask(g) & TBL_ALL;
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

/* Takes back the overflows tbl_vacancy_in counted on a probe of `steps`
 * clusters from g that found no free slot (a saturated count stays, as
 * tbl_erase leaves it). */
static HS_NOINLINE void tbl_uncount(struct tbl_cluster *cl, uint32_t c, uint32_t g,
                                    uint32_t steps)
{
    for (uint32_t step = 0; step < steps; step++, g = g + 1 == c ? 0 : g + 1)
        if (cl[g].ctrl[TBL_OVER] < TBL_OVER_MAX)
            cl[g].ctrl[TBL_OVER]--;
}

/* The first free slot within `steps` clusters of array cl (c clusters)
 * from cluster g on, round the end if need be, or TBL_NONE.  Each full
 * cluster it passes counts one more overflow (tbl_erase takes it back);
 * none stays counted when there is no such slot. */
static inline uint32_t tbl_vacancy_in(struct tbl_cluster *cl, uint32_t c, uint32_t g,
                                      uint32_t steps)
{
    for (uint32_t step = 0, at = g; step < steps; step++) {
        struct tbl_cluster *k = &cl[at];
        unsigned m = tbl_free_mask(k->ctrl);
        if (HS_LIKELY(m))
            return at << 4 | (unsigned)__builtin_ctz(m);
        if (k->ctrl[TBL_OVER] < TBL_OVER_MAX)
            k->ctrl[TBL_OVER]++;
        if (++at == c)
            at = 0;
    }
    tbl_uncount(cl, c, g, steps);
    return TBL_NONE;
}

/* The first free slot on the probe path of hash h, or TBL_NONE: where an
 * entry known to be absent goes (tbl_vacancy_in). */
static inline uint32_t tbl_vacancy(struct tbl_stripe *s, uint64_t h)
{
    uint32_t c = s->clusters;
    return tbl_vacancy_in(s->cl, c, tbl_home(h, c), c);
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

/* Moves a stripe's entries into a new array of c clusters (more room than
 * its live entries), with its lock held: a stripe's first array and a
 * shrink (tbl_grow_in_place grows); saturated overflow counts start again
 * from the truth.  0, or -1 (no memory: the array stays). */
static int tbl_rebuild(struct tbl_stripe *s, uint32_t c)
{
    uint32_t old_c = s->clusters;
    if (c > TBL_MAX_CLUSTERS)
        return -1;
    struct tbl_cluster *cl = arena_map_full((size_t)c * sizeof *cl); /* zero: every slot EMPTY */
    if (!cl)
        return -1;
    struct tbl_cluster *old = s->cl;
    s->cl = cl;
    s->clusters = c;
    s->limit = (uint32_t)((uint64_t)c * TBL_CLUSTER * TBL_LOAD_NUM / TBL_LOAD_DEN);
    s->count = 0;
    uint32_t moved = 0;
    for (uint32_t g = 0; g < old_c; g++) { /* each live slot */
        for (unsigned m = tbl_live_mask(old[g].ctrl); m; m &= m - 1) {
            const unsigned i = (unsigned)__builtin_ctz(m);
            const struct tbl_slot *x = &old[g].slot[i];
            uint64_t h = tbl_hash(tbl_ptr(x));
            struct tbl_cluster *k = &cl[tbl_home(h, c)];
            unsigned f = tbl_free_mask(k->ctrl);
            if (HS_LIKELY(f)) { /* its home has room: tbl_vacancy's first answer */
                unsigned j = (unsigned)__builtin_ctz(f);
                k->ctrl[j] = old[g].ctrl[i]; /* its tag: the same hash's */
                k->slot[j] = *x;
                moved++;
            } else { /* more room than live entries: always a vacancy */
                tbl_place(s, tbl_vacancy(s, h), h, x);
            }
        }
    }
    s->count += moved;
    arena_unmap(old, (size_t)old_c * sizeof *old);
    return 0;
}

/* tbl_grow_in_place's entries that cannot go home yet: a probe that would
 * pass clusters not yet moved (below the one being moved, or past the
 * end and round).  Few (entries past their homes), in arena memory mapped
 * when the first comes, then doubled as needed. */
#define TBL_SPILL_FIRST 256u
struct tbl_spill {
    struct tbl_slot *x;
    uint32_t n, cap;
};

/* The spill's first page, or twice its room; 0 or -1. */
static HS_NOINLINE int tbl_spill_grow(struct tbl_spill *sp)
{
    uint32_t cap = sp->cap ? 2 * sp->cap : TBL_SPILL_FIRST;
    struct tbl_slot *x = sp->cap ? arena_remap(sp->x, (size_t)sp->cap * sizeof *x,
                                               (size_t)cap * sizeof *x)
                                 : arena_map((size_t)cap * sizeof *x);
    if (!x)
        return -1;
    sp->x = x;
    sp->cap = cap;
    return 0;
}

/* Places x at the first free slot from cluster `from` to the array's end
 * (tbl_vacancy_in, not round it), counting it; 0, or -1 when there is
 * none.  Its hash is worked out again: out of the mover's loop, so that
 * the loop keeps its registers. */
static HS_NOINLINE int tbl_place_before_end(struct tbl_stripe *s, uint32_t from,
                                            const struct tbl_slot *x)
{
    uint32_t at = tbl_vacancy_in(s->cl, s->clusters, from, s->clusters - from);
    if (at == TBL_NONE)
        return -1;
    tbl_place(s, at, tbl_hash(tbl_ptr(x)), x);
    return 0;
}

/* Grows a stripe's array to c clusters where it lies (arena_remap: the
 * kernel moves its pages, and only the new tail is fresh memory) and
 * moves each entry to its home there, from the last cluster down: a
 * home rises with the array (tbl_home keeps the hash's order), so the
 * clusters an entry's probe passes have already been moved and emptied.
 * A rebuild into a new array wrote every page of it for the first time
 * at each growth, three times the table over its life at 4/3 steps: on a
 * virtual machine such a first touch costs microseconds a page even when
 * populated, and old and new were resident at once.  Entries whose probe
 * would pass clusters not yet moved wait in a spill (arena memory) and
 * are placed last (a spill out of memory loses its entries: recording
 * has stopped).  0, or -1 with nothing changed (no memory). */
static int tbl_grow_in_place(struct tbl_stripe *s, uint32_t c)
{
    uint32_t old_c = s->clusters;
    struct tbl_spill sp = {NULL, 0, 0}; /* mapped when first needed */
    struct tbl_cluster *cl =
        arena_remap(s->cl, (size_t)old_c * sizeof *cl, (size_t)c * sizeof *cl);
    if (!cl)
        return -1;
    arena_populate(&cl[old_c], (size_t)(c - old_c) * sizeof *cl); /* zero: EMPTY */
    s->cl = cl;
    s->clusters = c;
    s->limit = (uint32_t)((uint64_t)c * TBL_CLUSTER * TBL_LOAD_NUM / TBL_LOAD_DEN);
    s->count = 0;
    uint32_t moved = 0;
    for (uint32_t g = old_c; g-- > 0;) {
        struct tbl_cluster *k = &cl[g];
        unsigned m = tbl_live_mask(k->ctrl);
        k->ctrl[TBL_OVER] = 0; /* counted again by the probes that pass it now */
        for (; m; m &= m - 1) {
            /* past the home-cluster move, x is read where it lies (slot i:
             * only that move may write over it), so that no copy of it
             * waits on this stack across a call (the hooks clear the stack
             * below them only so deep) */
            const unsigned i = (unsigned)__builtin_ctz(m);
            const struct tbl_slot *xp = &k->slot[i], x = *xp;
            const uint8_t tag = k->ctrl[i];
            k->ctrl[i] = TBL_EMPTY;
            uint64_t h = tbl_hash(tbl_ptr(&x));
            uint32_t home = tbl_home(h, c);
            struct tbl_cluster *t = &cl[home];
            unsigned f = tbl_free_mask(t->ctrl);
            if (HS_LIKELY(f && home >= g)) { /* its home has room: most entries */
                unsigned j = (unsigned)__builtin_ctz(f);
                t->ctrl[j] = tag;
                t->slot[j] = x;
                moved++;
                continue;
            }
            /* its home (above g: g has slot i free) is full, or below g;
             * a probe from above g that stops at the end passes only
             * clusters already moved */
            if (home >= g && tbl_place_before_end(s, home, xp) == 0)
                continue;
            if (HS_UNLIKELY(sp.n == sp.cap) && tbl_spill_grow(&sp) != 0)
                continue; /* out of memory: recording has stopped (degrade_now) */
            sp.x[sp.n++] = *xp;
        }
    }
    s->count += moved;
    for (uint32_t j = 0; j < sp.n; j++) { /* every cluster moved: anywhere on its path */
        uint64_t h = tbl_hash(tbl_ptr(&sp.x[j]));
        tbl_place(s, tbl_vacancy(s, h), h, &sp.x[j]);
    }
    if (sp.cap)
        arena_unmap(sp.x, (size_t)sp.cap * sizeof *sp.x);
    return 0;
}

/* Grows (or creates) a stripe's array (tbl_next_size), with its lock held. */
static HS_NOINLINE int tbl_grow(struct tbl_stripe *s)
{
    uint32_t c = tbl_next_size(s, s->clusters);
    if (c > TBL_MAX_CLUSTERS)
        return -1;
    return s->clusters ? tbl_grow_in_place(s, c) : tbl_rebuild(s, c);
}

/* The smallest size on s's ladder (tbl_next_size) whose limit holds want
 * entries. */
static uint32_t tbl_fit_size(const struct tbl_stripe *s, uint64_t want)
{
    uint32_t c = tbl_next_size(s, 0);
    while ((uint64_t)c * TBL_CLUSTER * TBL_LOAD_NUM / TBL_LOAD_DEN < want && c < TBL_MAX_CLUSTERS)
        c = tbl_next_size(s, c);
    return c;
}

/* After a peak: each stripe whose array is at least TBL_SHRINK_BY times
 * the size that holds twice its live entries (room to double before it
 * grows again) moves into that size, one stripe locked at a time, so
 * that what the snapshot then maps (its sections, the compressor) lands
 * in the pages the table gave back rather than on top of them: a
 * program's peak resident set is often its exit, with its heap still at
 * its high-water mark and the table sized for it (tbl_shrink).
 * The bytes given back; a stripe without the memory for its smaller array
 * keeps its own. */
#define TBL_SHRINK_BY 4u
size_t tbl_shrink(void)
{
    size_t freed = 0;
    unsigned used = tbl_stripes_used();
    for (unsigned k = 0; k < used; k++) {
        struct tbl_stripe *s = &tbl.stripe[k];
        if (!__atomic_load_n(&s->clusters, __ATOMIC_RELAXED))
            continue;
        lock_take(&s->lock);
        uint32_t old_c = s->clusters, c = old_c ? tbl_fit_size(s, 2 * (uint64_t)s->count) : 0;
        if (c && (uint64_t)c * TBL_SHRINK_BY <= old_c && tbl_rebuild(s, c) == 0)
            freed += (size_t)(old_c - c) * sizeof(struct tbl_cluster);
        lock_drop(&s->lock);
    }
    return freed;
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
                                       uint64_t w0, uint64_t w1, struct tbl_entry *replaced)
{
    const struct tbl_slot x = {w0, w1}, *packed = &x;
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

/* tbl_insert into the hash alone (tbl_pool_take's hand-over too).  The fast
 * path is one look at the home cluster: when no entry passed it (its
 * overflow count is 0) ptr is there or nowhere, and the first free slot is
 * where tbl_vacancy would put it. */
static inline __attribute__((always_inline)) int
tbl_hash_insert_in(uintptr_t ptr, uint64_t size, uint32_t trace, uint32_t epoch,
                   struct tbl_entry *replaced, uint64_t h, struct tbl_stripe *s, int plain)
{
    struct tbl_slot packed;
    if (tbl_pack_in(&packed, ptr, size, trace, epoch, plain) != 0)
        return -1;
    tbl_lock(s);
    if (HS_LIKELY(s->count < s->limit)) { /* so an array: limit is 0 without one */
        struct tbl_cluster *k = &s->cl[tbl_home(h, s->clusters)];
        unsigned tag = tbl_tag(h), m = tbl_free_mask(k->ctrl);
        if (HS_LIKELY(m && !k->ctrl[TBL_OVER] && !tbl_holds(k, tag, ptr))) {
            unsigned j = (unsigned)__builtin_ctz(m);
            k->ctrl[j] = (uint8_t)tag;
            k->slot[j].w0 = packed.w0; /* two stores: a struct copy went through */
            k->slot[j].w1 = packed.w1; /* the stack and a 16-byte load */
            s->count++;
            if (!plain && tbl_filter.on)
                tbl_filter_add(ptr, 1);
            lock_drop(&s->lock);
            return 0;
        }
    }
    return tbl_insert_slow(s, ptr, h, packed.w0, packed.w1, replaced);
}

static inline __attribute__((always_inline)) int
tbl_hash_insert_at(uintptr_t ptr, uint64_t size, uint32_t trace, uint32_t epoch,
                   struct tbl_entry *replaced, uint64_t h, struct tbl_stripe *s)
{
    return tbl_hash_insert_in(ptr, size, trace, epoch, replaced, h, s, 0);
}

int tbl_hash_insert(uintptr_t ptr, uint64_t size, uint32_t trace, uint32_t epoch,
                    struct tbl_entry *replaced)
{
    uint64_t h = tbl_hash(ptr);
    return tbl_hash_insert_at(ptr, size, trace, epoch, replaced, h, tbl_stripe_of(ptr, h));
}

/* Inserts ptr: a pool's block by place (tbl_pool_insert), any other in the hash.
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

/* The same with hs_rare 0: no pool registered, no filter on (the bits
 * are set before either is: tbl_pool_add, tbl_filter_add).   The slow path
 * tests the filter all the same.  trace: an id of trace_intern's (the plain
 * recording's, named by the unwinder's memo or interned). */
__attribute__((always_inline)) inline int tbl_insert_plain(uintptr_t ptr, uint64_t size,
                                                           uint32_t trace, uint32_t epoch,
                     struct tbl_entry *replaced, const struct tbl_where *w)
{
    return tbl_hash_insert_in(ptr, size, trace, epoch, replaced, w->h,
                              (struct tbl_stripe *)w->stripe, 1);
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

/* Removes ptr; 1 and *out filled if it was there, else 0.  Most entries
 * are in their home cluster: found there, nothing passed it to take back. */
static inline __attribute__((always_inline)) int tbl_remove_in(uintptr_t ptr,
                                                               struct tbl_entry *out, uint64_t h,
                                                               struct tbl_stripe *s, int plain)
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
                if (!plain && tbl_filter.on)
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

static inline __attribute__((always_inline)) int tbl_remove_at(uintptr_t ptr,
                                                               struct tbl_entry *out, uint64_t h,
                                                               struct tbl_stripe *s)
{
    return tbl_remove_in(ptr, out, h, s, 0);
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

/* The same with hs_rare 0 (tbl_insert_plain says why no pool, no filter;
 * tbl_erase, past the home cluster, tests the filter all the same). */
int tbl_remove_plain(uintptr_t ptr, struct tbl_entry *out, const struct tbl_where *w)
{
    return tbl_remove_in(ptr, out, w->h, (struct tbl_stripe *)w->stripe, 1);
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
        for (unsigned m = tbl_live_mask(s->cl[g].ctrl); m; m &= m - 1) {
            tbl_unpack(&s->cl[g].slot[__builtin_ctz(m)], &e);
            int r = fn(&e, arg);
            if (r)
                return r;
        }
    return 0;
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

/* tbl_foreach for a walk that must not hold the program up (the site
 * line's, on the helper thread: sl_walk): a stripe's live slots are
 * copied under its lock, and fn sees the copies once it is dropped.  In
 * place, fn's reads of a trace's sums, a cache miss a block, held a
 * stripe of 20,000 blocks for a millisecond while the program's inserts
 * into it waited (torchtrain.py: pend_fresh_evict's insert was the hooks'
 * most frequent wait).  The copy's room is mapped with no lock held, for
 * the stripe's count and a quarter; a stripe that outgrew it meanwhile is
 * taken again.  0, fn's nonzero return, or -1 (no room). */
int tbl_foreach_copied(tbl_visit_fn fn, void *arg)
{
    struct tbl_slot *buf = NULL;
    uint32_t cap = 0; /* buf's slots */
    unsigned used = tbl_stripes_used();
    int r = 0;
    for (unsigned k = 0; k < used && r == 0; k++) {
        struct tbl_stripe *s = &tbl.stripe[k];
        uint32_t n = 0;
        for (lock_take(&s->lock); s->count > cap; lock_take(&s->lock)) {
            uint32_t want = s->count + s->count / 4 + 64;
            lock_drop(&s->lock);
            arena_unmap(buf, (size_t)cap * sizeof *buf);
            cap = 0;
            if (!(buf = arena_map((size_t)want * sizeof *buf)))
                return -1;
            cap = want;
        }
        for (uint32_t g = 0; g < s->clusters; g++)
            for (unsigned m = tbl_live_mask(s->cl[g].ctrl); m && n < cap; m &= m - 1)
                buf[n++] = s->cl[g].slot[__builtin_ctz(m)];
        lock_drop(&s->lock);
        for (uint32_t i = 0; i < n && r == 0; i++) {
            struct tbl_entry e;
            tbl_unpack(&buf[i], &e);
            r = fn(&e, arg);
        }
    }
    arena_unmap(buf, (size_t)cap * sizeof *buf);
    return r ? r : tbl_pool_foreach(fn, arg, 0);
}

/* The stripes tbl_lock_all took: those of the groups handed out then (a
 * fork's child writes no page of the others' heads). */
static unsigned tbl_locked;

void tbl_lock_all(void)
{
    tbl_pool_lock_all(); /* a pool's region before the stripes (tbl_pool_lock_all) */
    tbl_claims_hold();   /* no group handed out until tbl_unlock_all */
    tbl_locked = tbl_stripes_used();
    for (unsigned k = 0; k < tbl_locked; k++)
        lock_take(&tbl.stripe[k].lock);
}

void tbl_unlock_all(void)
{
    for (unsigned k = tbl_locked; k-- > 0;)
        lock_drop(&tbl.stripe[k].lock);
    tbl_claims_release();
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
            if (!(k->ctrl[j] & TBL_LIVE))
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
