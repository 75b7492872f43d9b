/*
 * retain.c - the retainer view: while the model marks live memory, every
 * reference it follows is aggregated per (target site, source), where the
 * source is the referring block's site or a kind of root.  The result is
 * the RETAINERS section (grammar in hsnap_format.h): "who keeps this
 * memory alive", per allocation site, which the CLI's `leaks --why` and
 * `top --retainers` print.  Valgrind answers this for one address at a
 * time (who_points_at); here it is per site and costs one hash probe per
 * reference found.
 *
 * The pairs live in an open-addressed table of hsnap_retainer items in
 * mapped memory (the world may be stopped, so no locks and no host
 * malloc), kept at most half full and doubled when needed.  A reference
 * whose pair is not the one before waits in a ring of RET_AHEAD while its
 * slot is fetched (the sums are order-free): at 100k sites the table is
 * megabytes and each such probe was a miss to memory.  Encoding sorts
 * them in place (heap sort: no recursion, no allocation).
 */
#include <string.h>

#include "leakinner.h"

#define RET_MIN_SLOTS 4096u
#define RET_EMPTY UINT32_MAX /* target_trace of an empty slot */
#define RET_AHEAD 8u          /* references waiting for their slot's line */

/* A reference on its way to the table. */
struct ret_wait {
    uint32_t t, k, s, first;
    uint64_t size;
};

static struct {
    const struct hsnap_block *b; /* the run's blocks (for traces and sizes) */
    struct hsnap_retainer *slot; /* nslot items, target_trace RET_EMPTY = free */
    size_t nslot, used;
    struct hsnap_retainer *last; /* the previous hit: runs of equal pairs */
    struct ret_wait wait[RET_AHEAD]; /* a ring: the oldest at head */
    unsigned head, nwait;
    int failed;                  /* out of memory: no section */
} ret;

static size_t ret_bytes(size_t nslot)
{
    return nslot * sizeof(struct hsnap_retainer);
}

static struct hsnap_retainer *ret_map(size_t nslot)
{
    struct hsnap_retainer *s = collect_host->map(ret_bytes(nslot));
    if (s)
        for (size_t i = 0; i < nslot; i++)
            s[i].target_trace = RET_EMPTY;
    return s;
}

/* Every bit of the pair reaches the slot (murmur3's finalizer): a product
 * alone left t's bits above bit 31, so the pairs of one source (every site
 * a block array points to, or the root references of import torch's
 * blocks) shared their low bits and piled into runs whose probes, quadratic
 * in the sites, were most of the check's time (scripts/bench/pyimports.py
 * --leaks; kept with 100k stacks under run --leaks). */
static inline size_t ret_hash(uint32_t t, uint32_t k, uint32_t s, size_t mask)
{
    uint64_t h = ((uint64_t)t << 32 | s) ^ (uint64_t)k * 0x9e3779b97f4a7c15ull;
    h = (h ^ h >> 33) * 0xff51afd7ed558ccdull;
    h = (h ^ h >> 33) * 0xc4ceb9fe1a85ec53ull;
    return (size_t)(h ^ h >> 33) & mask;
}

static struct hsnap_retainer *ret_slot(struct hsnap_retainer *tab, size_t nslot,
                                       uint32_t t, uint32_t k, uint32_t s)
{
    size_t i = ret_hash(t, k, s, nslot - 1);
    while (tab[i].target_trace != RET_EMPTY &&
           (tab[i].target_trace != t || tab[i].source_kind != k || tab[i].source_trace != s))
        i = (i + 1) & (nslot - 1);
    return &tab[i];
}

static int ret_grow(void)
{
    size_t n = ret.nslot * 2;
    struct hsnap_retainer *tab = ret_map(n);
    if (!tab)
        return -1;
    for (size_t i = 0; i < ret.nslot; i++) {
        const struct hsnap_retainer *o = &ret.slot[i];
        if (o->target_trace != RET_EMPTY)
            *ret_slot(tab, n, o->target_trace, o->source_kind, o->source_trace) = *o;
    }
    collect_host->unmap(ret.slot, ret_bytes(ret.nslot));
    ret.slot = tab;
    ret.nslot = n;
    ret.last = NULL;
    return 0;
}

/* Starts a run over blocks b; 0 or -1. */
int ret_begin(const struct hsnap_block *b)
{
    ret.b = b;
    ret.used = 0;
    ret.failed = 0;
    ret.last = NULL;
    ret.head = ret.nwait = 0;
    ret.nslot = RET_MIN_SLOTS;
    ret.slot = ret_map(ret.nslot);
    return ret.slot ? 0 : -1;
}

/* One reference of pair (t, k, s) counted in the table (the last hit
 * kept for the run of equal pairs that may follow). */
static void ret_add(uint32_t t, uint32_t k, uint32_t s, int first, uint64_t size)
{
    struct hsnap_retainer *e = ret.last;
    if (!e || e->target_trace != t || e->source_kind != k || e->source_trace != s) {
        if (ret.failed)
            return;
        if (2 * (ret.used + 1) > ret.nslot && ret_grow() != 0) {
            ret.failed = 1;
            return;
        }
        e = ret_slot(ret.slot, ret.nslot, t, k, s);
        if (e->target_trace == RET_EMPTY) {
            *e = (struct hsnap_retainer){.target_trace = t, .source_kind = k, .source_trace = s};
            ret.used++;
        }
        ret.last = e;
    }
    e->refs++;
    if (first) {
        e->blocks++;
        e->bytes += size;
    }
}

/* The references still waiting, counted. */
static void ret_drain(void)
{
    for (; ret.nwait; ret.nwait--, ret.head = (ret.head + 1) % RET_AHEAD) {
        const struct ret_wait *w = &ret.wait[ret.head];
        ret_add(w->t, w->k, w->s, (int)w->first, w->size);
    }
}

/* model_ops.on_ref: one reference to block `to`. */
void ret_on_ref(uint32_t to, uint32_t from, uint32_t kind, int first, uintptr_t at, void *ctx)
{
    (void)at;
    const struct hsnap_block *tb = &ret.b[to];
    uint32_t t = tb->trace, k = from == MODEL_FROM_ROOT ? kind : HSNAP_RET_BLOCK;
    uint32_t s = from == MODEL_FROM_ROOT ? 0 : ret.b[from].trace;
    const struct hsnap_retainer *e = ret.last;
    if ((e && e->target_trace == t && e->source_kind == k && e->source_trace == s) ||
        ret.failed) {
        ret_add(t, k, s, first, tb->size);
        return;
    }
    __builtin_prefetch(&ret.slot[ret_hash(t, k, s, ret.nslot - 1)], 1);
    if (ret.nwait == RET_AHEAD) { /* the oldest, its line fetched by now */
        const struct ret_wait *w = &ret.wait[ret.head];
        ret_add(w->t, w->k, w->s, (int)w->first, w->size);
        ret.head = (ret.head + 1) % RET_AHEAD;
        ret.nwait--;
    }
    ret.wait[(ret.head + ret.nwait++) % RET_AHEAD] =
        (struct ret_wait){t, k, s, (uint32_t)first, tb->size};
}

/* ---------------- encoding ---------------- */

static int ret_less(const struct hsnap_retainer *a, const struct hsnap_retainer *b)
{
    if (a->target_trace != b->target_trace)
        return a->target_trace < b->target_trace;
    if (a->source_kind != b->source_kind)
        return a->source_kind < b->source_kind;
    return a->source_trace < b->source_trace;
}

static void ret_sift(struct hsnap_retainer *a, size_t i, size_t n)
{
    for (size_t c; (c = 2 * i + 1) < n; i = c) {
        if (c + 1 < n && ret_less(&a[c], &a[c + 1]))
            c++;
        if (!ret_less(&a[i], &a[c]))
            return;
        struct hsnap_retainer t = a[i];
        a[i] = a[c];
        a[c] = t;
    }
}

static void ret_sort(struct hsnap_retainer *a, size_t n)
{
    for (size_t i = n / 2; i-- > 0;)
        ret_sift(a, i, n);
    for (size_t end = n; end-- > 1;) {
        struct hsnap_retainer t = a[0];
        a[0] = a[end];
        a[end] = t;
        ret_sift(a, 0, end);
    }
}

/* The n pairs at a (the table's first half) sorted by a counting pass on
 * the target's trace into the table's second half (at least n free slots:
 * it is kept at most half full), each target's run then heap-sorted, and
 * moved back; 0, or -1 (no room for the counts: the caller heap-sorts all).
 * A heap sort of all the pairs of import torch was a large share of run
 * --leaks' time (docs/performance-python.md, "Big Python programs"). */
static int ret_sort_by_target(struct hsnap_retainer *a, size_t n, size_t nslot)
{
    uint32_t top = 0;
    for (size_t i = 0; i < n; i++)
        if (a[i].target_trace > top)
            top = a[i].target_trace;
    size_t nc = (size_t)top + 2, cbytes = nc * sizeof(size_t);
    size_t *at = nslot >= 2 * n ? collect_host->map(cbytes) : NULL;
    if (!at)
        return -1;
    struct hsnap_retainer *out = a + n;
    for (size_t i = 0; i < n; i++)
        at[a[i].target_trace + 1]++;
    for (size_t t = 1; t < nc; t++)
        at[t] += at[t - 1];
    for (size_t i = 0; i < n; i++)
        out[at[a[i].target_trace]++] = a[i];
    for (size_t lo = 0, hi; lo < n; lo = hi) {
        for (hi = lo + 1; hi < n && out[hi].target_trace == out[lo].target_trace; hi++)
            ;
        if (hi - lo > 1)
            ret_sort(out + lo, hi - lo);
    }
    memcpy(a, out, n * sizeof *a);
    for (size_t i = n; i < 2 * n; i++)
        a[i].target_trace = RET_EMPTY;
    collect_host->unmap(at, cbytes);
    return 0;
}

/* Compacts and sorts the pairs (once, after the run).  The blocks array
 * may go away afterwards. */
void ret_finish(void)
{
    size_t n = 0;
    ret_drain();
    ret.b = NULL;
    ret.last = NULL;
    if (!ret.slot)
        return;
    for (size_t i = 0; i < ret.nslot; i++)
        if (ret.slot[i].target_trace != RET_EMPTY)
            ret.slot[n++] = ret.slot[i];
    ret.used = n;
    if (ret_sort_by_target(ret.slot, n, ret.nslot) != 0)
        ret_sort(ret.slot, n);
}

/* The RETAINERS payload; its size (writes only when cap is enough). 0 when
 * the run failed: no section. */
size_t ret_encode(void *buf, size_t cap)
{
    if (!ret.slot || ret.failed)
        return 0;
    uint32_t head[2] = {(uint32_t)ret.used, 0};
    size_t need = sizeof head + ret.used * sizeof(struct hsnap_retainer);
    if (buf && cap >= need) {
        memcpy(buf, head, sizeof head);
        memcpy((char *)buf + sizeof head, ret.slot, need - sizeof head);
    }
    return need;
}

void ret_free(void)
{
    collect_host->unmap(ret.slot, ret_bytes(ret.nslot));
    memset(&ret, 0, sizeof ret);
}
