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
 * The pairs are items of a dense array in mapped memory (the world may be
 * stopped, so no locks and no host malloc), found through an open-
 * addressed index of 4-byte item numbers kept at most half full; both
 * double when needed (whole 40-byte items at most half full would take
 * 80 MB for the ~600k pairs of a million linked nodes from 190k stacks,
 * most of run --leaks' peak RSS).  A reference whose pair is not
 * the one before waits in a ring of RET_AHEAD while its index slot is
 * fetched (the sums are order-free; at 100k sites the index is megabytes
 * and each such probe a miss to memory); halfway along the ring its slot
 * is read and the item it names fetched too (the item is the probe's
 * second miss, a line of megabytes of items).  Encoding sorts the items by a
 * counting pass on the target into the section's own mapping, then heap
 * sorts each target's run there (no recursion, no allocation past it), and
 * hands that mapping over whole (ret_take): the items of import torch's
 * check are 40 MiB, and a scratch copied back, then copied into the
 * answer, was two copies and a fresh mapping's pages more.
 */
#include <string.h>

#include "leakinner.h"

#define RET_MIN_SLOTS 4096u /* the index's first size; the items' is half */
#define RET_AHEAD 8u          /* references waiting for their slot's line */
#define RET_ITEM_AT 4u        /* waiting ones: the item of the one this far back fetched */
#define RET_AHEAD_ITEMS 1638u /* items made resident at a time: 64 KiB of 40 bytes */

/* A reference on its way to the table; at its pair's first index slot
 * (only a hint: the index may grow before it is counted). */
struct ret_wait {
    uint32_t t, k, s, first;
    uint64_t size;
    size_t h;
};

static struct {
    const struct hsnap_block *b; /* the run's blocks (for traces and sizes) */
    struct hsnap_retainer *item; /* used items, dense, nslot / 2 mapped */
    char *pay;                   /* or, sorted: the RETAINERS payload (ret_sort_by_target) */
    size_t pay_cap;              /* ... its mapping's bytes */
    uint32_t *slot;              /* nslot: item number + 1, 0 = free */
    size_t nslot, used;
    size_t resident;             /* items made resident up to here (ret_populate_ahead) */
    struct hsnap_retainer *last; /* the previous hit: runs of equal pairs */
    struct ret_wait wait[RET_AHEAD]; /* a ring: the oldest at head */
    unsigned head, nwait;
    int failed;                  /* out of memory: no section */
} ret;

static size_t ret_item_bytes(size_t nslot)
{
    return nslot / 2 * sizeof(struct hsnap_retainer);
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

/* The index slot of pair (t, k, s): its item's, or the free one it
 * would take. */
static uint32_t *ret_slot(uint32_t *tab, size_t nslot, uint32_t t, uint32_t k, uint32_t s)
{
    size_t i = ret_hash(t, k, s, nslot - 1);
    for (; tab[i]; i = (i + 1) & (nslot - 1)) {
        const struct hsnap_retainer *e = &ret.item[tab[i] - 1];
        if (e->target_trace == t && e->source_kind == k && e->source_trace == s)
            break;
    }
    return &tab[i];
}

/* Twice the index (made again from the items) and room for twice the
 * items, whose pages move (a copy would touch every page once more: 19,000
 * page faults in import torch's check, on the program's way out); 0, or
 * -1 with the old ones kept. */
static int ret_grow(void)
{
    size_t n = ret.nslot * 2;
    uint32_t *tab = collect_host->map(n * sizeof(*tab));
    struct hsnap_retainer *item =
        tab ? collect_host->remap(ret.item, ret_item_bytes(ret.nslot), ret_item_bytes(n)) : NULL;
    if (!item) {
        if (tab)
            collect_host->unmap(tab, n * sizeof(*tab));
        return -1;
    }
    collect_host->unmap(ret.slot, ret.nslot * sizeof(*ret.slot));
    collect_host->populate(tab, n * sizeof(*tab)); /* rehashed below: every page written */
    ret.item = item;
    for (size_t i = 0; i < ret.used; i++)
        *ret_slot(tab, n, item[i].target_trace, item[i].source_kind, item[i].source_trace) =
            (uint32_t)i + 1;
    ret.slot = tab;
    ret.nslot = n;
    ret.last = NULL;
    return 0;
}

/* The next RET_AHEAD_ITEMS items from ret.used made resident at once,
 * within the items mapped (ret.resident: where the next call comes): they
 * are filled in order, a page fault each otherwise (the items of import
 * torch's check are tens of MiB). */
static HS_NOINLINE void ret_populate_ahead(void)
{
    size_t end = ret.used + RET_AHEAD_ITEMS, room = ret.nslot / 2;
    ret.resident = end < room ? end : room;
    if (ret.resident > ret.used)
        collect_host->populate(&ret.item[ret.used], (ret.resident - ret.used) * sizeof *ret.item);
}

/* Starts a run over blocks b; 0 or -1. */
int ret_begin(const struct hsnap_block *b)
{
    ret.b = b;
    ret.used = ret.resident = 0;
    ret.failed = 0;
    ret.last = NULL;
    ret.head = ret.nwait = 0;
    ret.nslot = RET_MIN_SLOTS;
    ret.slot = collect_host->map(ret.nslot * sizeof(*ret.slot));
    ret.item = ret.slot ? collect_host->map(ret_item_bytes(ret.nslot)) : NULL;
    if (!ret.item && ret.slot) {
        collect_host->unmap(ret.slot, ret.nslot * sizeof(*ret.slot));
        ret.slot = NULL;
    }
    return ret.item ? 0 : -1;
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
        uint32_t *at = ret_slot(ret.slot, ret.nslot, t, k, s);
        if (!*at) {
            if (ret.used == ret.resident) /* filled in order */
                ret_populate_ahead();
            ret.item[ret.used] =
                (struct hsnap_retainer){.target_trace = t, .source_kind = k, .source_trace = s};
            *at = (uint32_t)++ret.used;
        }
        e = ret.last = &ret.item[*at - 1];
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
    size_t h = ret_hash(t, k, s, ret.nslot - 1);
    __builtin_prefetch(&ret.slot[h], 1);
    if (ret.nwait >= RET_ITEM_AT) { /* its slot's line here by now: the item's asked */
        const struct ret_wait *w = &ret.wait[(ret.head + ret.nwait - RET_ITEM_AT) % RET_AHEAD];
        uint32_t i = ret.slot[w->h];
        if (i) {
            __builtin_prefetch(&ret.item[i - 1], 1);
            __builtin_prefetch((const char *)&ret.item[i] - 1, 1);
        }
    }
    if (ret.nwait == RET_AHEAD) { /* the oldest, its lines fetched by now */
        const struct ret_wait *w = &ret.wait[ret.head];
        ret_add(w->t, w->k, w->s, (int)w->first, w->size);
        ret.head = (ret.head + 1) % RET_AHEAD;
        ret.nwait--;
    }
    ret.wait[(ret.head + ret.nwait++) % RET_AHEAD] =
        (struct ret_wait){t, k, s, (uint32_t)first, tb->size, h};
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

/* The RETAINERS payload's bytes for n pairs: the head, then the pairs. */
static size_t ret_pay_bytes(size_t n)
{
    return HSNAP_RETAINERS_HEAD + n * sizeof(struct hsnap_retainer);
}

/* The n pairs at a sorted into the payload (ret.pay) by a counting pass
 * on the target's trace, each target's run then heap-sorted there; 0, or
 * -1 (no room for the payload or the counts: the caller heap-sorts a in
 * place).  A heap sort of all the pairs of import torch was a large share
 * of run --leaks' time (docs/performance-python.md, "Big Python
 * programs"). */
static int ret_sort_by_target(const struct hsnap_retainer *a, size_t n)
{
    uint32_t top = 0;
    for (size_t i = 0; i < n; i++)
        if (a[i].target_trace > top)
            top = a[i].target_trace;
    size_t nc = (size_t)top + 2, cbytes = nc * sizeof(uint32_t), pbytes = ret_pay_bytes(n);
    uint32_t *at = n && n < UINT32_MAX ? collect_host->map(cbytes) : NULL;
    char *pay = at ? collect_host->map(pbytes) : NULL;
    if (!pay) {
        if (at)
            collect_host->unmap(at, cbytes);
        return -1;
    }
    collect_host->populate(at, cbytes); /* both written whole below */
    collect_host->populate(pay, pbytes);
    uint32_t head[2] = {(uint32_t)n, 0};
    _Static_assert(sizeof head == HSNAP_RETAINERS_HEAD, "RETAINERS' head");
    memcpy(pay, head, sizeof head);
    struct hsnap_retainer *out = (struct hsnap_retainer *)(pay + sizeof head);
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
    collect_host->unmap(at, cbytes);
    ret.pay = pay;
    ret.pay_cap = pbytes;
    return 0;
}

/* Sorts the pairs (once, after the run) and lets the index go, and the
 * items too once the payload holds them sorted.  The blocks array may go
 * away afterwards. */
void ret_finish(void)
{
    ret_drain();
    ret.b = NULL;
    ret.last = NULL;
    if (ret.slot)
        collect_host->unmap(ret.slot, ret.nslot * sizeof(*ret.slot));
    ret.slot = NULL;
    if (!ret.item || ret.failed)
        return;
    if (ret_sort_by_target(ret.item, ret.used) != 0) {
        ret_sort(ret.item, ret.used);
        return;
    }
    collect_host->unmap(ret.item, ret_item_bytes(ret.nslot));
    ret.item = NULL;
}

/* The RETAINERS payload; its size (writes only when cap is enough: from
 * the items, where ret_take had no payload to hand over).  0 when the run
 * failed: no section. */
size_t ret_encode(void *buf, size_t cap)
{
    if (ret.failed || (!ret.item && !ret.pay))
        return 0;
    size_t need = ret_pay_bytes(ret.used);
    if (buf && cap >= need && ret.item) {
        uint32_t head[2] = {(uint32_t)ret.used, 0};
        memcpy(buf, head, sizeof head);
        memcpy((char *)buf + sizeof head, ret.item, need - sizeof head);
    }
    return need;
}

void *ret_take(size_t *cap, size_t *len)
{
    void *p = ret.failed ? NULL : ret.pay;
    if (p) {
        *len = ret_pay_bytes(ret.used);
        *cap = ret.pay_cap;
        ret.pay = NULL;
        ret.pay_cap = 0;
    }
    return p;
}

void ret_free(void)
{
    if (ret.slot)
        collect_host->unmap(ret.slot, ret.nslot * sizeof(*ret.slot));
    if (ret.item)
        collect_host->unmap(ret.item, ret_item_bytes(ret.nslot));
    if (ret.pay)
        collect_host->unmap(ret.pay, ret.pay_cap);
    memset(&ret, 0, sizeof ret);
}
