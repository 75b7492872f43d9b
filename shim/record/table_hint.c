/*
 * table_hint.c - where a block's entry lives in the live-block table, and
 * the hint that keeps it: ptr's hash (one multiply), its 64 MiB region's
 * group of stripes (tbl_region, claimed round robin on the region's first
 * block) and the stripe in it, its home cluster, and the prefetch that
 * starts loading that cluster ahead of the insert or remove
 * (tbl_prefetch_ptr; tbl_prefetch_where keeps the hash and stripe in a
 * struct tbl_where for tbl_insert_where and tbl_remove_where).  A region
 * keeps its group for good, so a hint never goes stale: at worst it
 * misses.  The probes themselves are table.c's.
 */
#include "recinner.h"

_Atomic uint8_t tbl_region[TBL_REGIONS];
_Atomic unsigned tbl_region_next; /* round robin over the groups */
static lock_t tbl_claim_lock;     /* a claim; tbl_lock_all holds it */

/* First block seen in ptr's region: give the region the next group.  Two
 * threads may race here; the first to store wins and both use its group.
 * Under tbl_claim_lock (no stripe is held here): fork's tbl_lock_all takes
 * only the stripes of the groups handed out, and holds it so that none is
 * handed out, and one of its stripes taken, while the child is made. */
HS_NOINLINE unsigned tbl_region_claim(_Atomic uint8_t *r)
{
    lock_take(&tbl_claim_lock);
    uint8_t want = (uint8_t)(1 + atomic_fetch_add_explicit(&tbl_region_next, 1,
                                                           memory_order_relaxed) % TBL_GROUPS);
    uint8_t had = 0;
    if (!atomic_compare_exchange_strong_explicit(r, &had, want, memory_order_relaxed,
                                                 memory_order_relaxed))
        want = had;
    lock_drop(&tbl_claim_lock);
    return want;
}

/* No group is handed out until tbl_claims_release: tbl_lock_all's. */
void tbl_claims_hold(void)
{
    lock_take(&tbl_claim_lock);
}

void tbl_claims_release(void)
{
    lock_drop(&tbl_claim_lock);
}

/* Starts loading ptr's home cluster - the line of its control bytes and
 * first three slots, and the next with four more, where an insert
 * usually finds room (it takes the cluster's first free slot); for a
 * remove (whole), all four lines: its entry may be any of the 15 slots,
 * and the slot's miss, which waited for the control bytes' to find
 * which, was half a remove's time - before the stripe lock is taken, so
 * the likely cache misses overlap the lock's.  The unlocked reads may
 * see an array being replaced: a prefetch never faults, so that only
 * wastes it. */
static inline void tbl_prefetch(const struct tbl_stripe *s, uint64_t h, int whole)
{
    _Static_assert(sizeof(struct tbl_cluster) == 256, "a cluster is four lines");
    struct tbl_cluster *cl = __atomic_load_n(&s->cl, __ATOMIC_RELAXED);
    uint32_t c = __atomic_load_n(&s->clusters, __ATOMIC_RELAXED);
    if (!cl)
        return;
    const char *x = (const char *)&cl[tbl_home(h, c)];
    __builtin_prefetch(x, 1);
    __builtin_prefetch(x + 64, 1);
    if (whole) {
        __builtin_prefetch(x + 128, 1);
        __builtin_prefetch(x + 192, 1);
    }
}

/* The same for a caller that will insert or remove ptr a little later:
 * the hooks call it as soon as they know a new block's address, so that
 * the miss on its home cluster overlaps the stack walk. */
__attribute__((always_inline)) inline void tbl_prefetch_ptr(uintptr_t ptr)
{
    uint64_t h = tbl_hash(ptr);
    tbl_prefetch(tbl_stripe_of(ptr, h), h, 0);
}

/* The same, keeping what it worked out for the insert or remove (whole:
 * tbl_prefetch's). */
static inline __attribute__((always_inline)) void tbl_prefetch_kept(uintptr_t ptr,
                                                                   struct tbl_where *w,
                                                                   int whole)
{
    uint64_t h = tbl_hash(ptr);
    struct tbl_stripe *s = tbl_stripe_of(ptr, h);
    w->h = h;
    w->stripe = s;
    tbl_prefetch(s, h, whole);
}

__attribute__((always_inline)) inline void tbl_prefetch_where(uintptr_t ptr, struct tbl_where *w)
{
    tbl_prefetch_kept(ptr, w, 0);
}

/* tbl_prefetch_where for a remove: the whole cluster. */
__attribute__((always_inline)) inline void tbl_prefetch_gone(uintptr_t ptr, struct tbl_where *w)
{
    tbl_prefetch_kept(ptr, w, 1);
}

/* The stripes of the groups handed out so far: [0, return).  Readers go
 * no further, so a program whose blocks are in one group reads 2 KiB of
 * stripe heads, not 16 (each page read is a page of its memory:
 * docs/performance.md, issue 21).  A group handed out while a walk runs
 * holds blocks born during the walk, which may be counted or not.  fork's
 * tbl_lock_all takes these, and holds off claims meanwhile (a stripe of a
 * group handed out then could be held in the child). */
unsigned tbl_stripes_used(void)
{
    unsigned g = atomic_load_explicit(&tbl_region_next, memory_order_acquire);
    return (g < TBL_GROUPS ? g : TBL_GROUPS) << TBL_GROUP_BITS;
}

/* The stripe ptr belongs to (claiming its region's group if need be). */
unsigned tbl_stripe_index(uintptr_t ptr)
{
    return (unsigned)(tbl_stripe_of(ptr, tbl_hash(ptr)) - tbl.stripe);
}
