/*
 * model.c - the reference model (docs/design.md, "The reference model"):
 * refcounts, reachability, possibly lost, and the direct / indirect / cycle
 * split of the leaks, with one loss record per leak root.  Pure, tested on
 * synthetic heaps.  It works in place on the caller's sorted hsnap_block
 * array (cls is the mark, flags the reference bits), keeps no edges for
 * the live part of the heap, and never recurses:
 *
 *   1. mark      start references from roots and held blocks, a worklist;
 *                then from the runtime's data (MODEL_ROOT_RUNTIME)
 *   2. possible  interior references from roots or reachable blocks
 *   3. graph     the leaks read twice: refcounts, then a CSR among them
 *   4. scc       Pearce's iterative Tarjan (2016)
 *   5. records   (records.c) each source component claims, by BFS, what it
 *                reaches that no earlier root claimed
 *
 * Every block's words count in refcounts exactly once (phase 1, 2 or 3).
 * Scratch: 2n bytes of index, 4n of worklist, then 20u + 4E for u leaks.
 *   model_rerun answers again after the caller made more blocks held
 * (collect_mark_init's): phase 1's marking from the program's roots is
 * the same in both runs (the newly held were no block those roots
 * reach), and so are the counts, so it starts at the held blocks with
 * that marking kept as two bits a block (model_keep), which is cheap
 * when the roots reach most of the heap.
 */
#include "model.h"

#include <string.h>

#include "scan.h"

/* ---- block lookup ------------------------------------------------------ */

/*
 * Most words scanned are not pointers, and a binary search over a million
 * blocks costs ~20 cache misses: 1.3 s for test_model's 1M case, whose data words
 * mostly land in the heap but miss every block; with 256-byte pages, 0.23 s
 * (1 KiB pages: 0.5 s; 128 B: 0.37 s, the table itself misses the cache).  So
 * the blocks are split into clusters at gaps of >= 1 MiB (brk heap, thread
 * arenas, big mmapped chunks), and each cluster gets a page table: page[p]
 * is the first block that ends after page p starts.  The block holding w is
 * then among page[p] .. page[p+1].  The page size grows until the table
 * costs at most about 2 bytes per block; without a table (allocation failed)
 * lookup falls back to one binary search over all blocks.
 */
#define CLUSTER_GAP (1u << 20)
#define CLUSTER_MAX 1024u
#define PAGE_SHIFT_MIN 8u

/* The last block in [l, r) with addr <= w, or NONE. */
static inline uint32_t find_last_le(const struct hsnap_block *b, uint32_t l, uint32_t r,
                                    uintptr_t w)
{
    if (l >= r || b[l].addr > w)
        return NONE;
    while (r - l > 1) {
        uint32_t m = l + (r - l) / 2;
        if (b[m].addr <= w)
            l = m;
        else
            r = m;
    }
    return l;
}

/* Where the block w may point into is looked up, when the index is made:
 * its page table's entry (the block range it gives in pg[0..1]), or NULL
 * when no block can hold w (outside every cluster). */
static inline const uint32_t *scan_page(const struct scan *s, uintptr_t w)
{
    const struct cluster *c = s->cl;
    if (s->ncl > 1) {
        uint32_t l = 0, r = s->ncl;
        while (r - l > 1) {
            uint32_t m = l + (r - l) / 2;
            if (s->cl[m].lo <= w)
                l = m;
            else
                r = m;
        }
        c = &s->cl[l];
    }
    if (w - c->lo >= c->span)
        return NULL;
    return s->page + c->first_page + ((w - c->lo) >> s->shift);
}

/* The block of [l, r) (l not NONE) that w points into, or NONE. */
static inline uint32_t scan_in(const struct scan *s, uint32_t l, uint32_t r, uintptr_t w)
{
    uint32_t j = find_last_le(s->b, l, r, w);
    if (j == NONE)
        return NONE;
    const struct hsnap_block *b = &s->b[j];
    if (w - b->addr < b->size || w == b->addr)
        return j;
    return NONE;
}

/* The block that word w points into (start or interior), or NONE.  A word
 * equal to start+size is past the block; a zero-size block owns only its
 * start. */
static inline uint32_t scan_lookup(const struct scan *s, uintptr_t w)
{
    if (w - s->lo >= s->span)
        return NONE;
    if (!s->page)
        return scan_in(s, 0, s->n, w);
    const uint32_t *pg = scan_page(s, w);
    return pg ? scan_in(s, pg[0], pg[1] + 1, w) : NONE;
}

/* The blocks the k (at most SCAN_GROUP) words at p point into, js[g] for
 * word g (NONE: none), their values in ws[g].  With the index, the
 * group's lookups go in three passes: each word's page entry found and
 * its line asked for, then each entry read and its blocks' lines asked
 * for (the range's ends: a page holds a few blocks), then the blocks
 * searched, so that the cache misses of a group's lookups (a page table
 * and a block array of MiBs) overlap instead of following one another.
 * Only reads: the callers handle the words in order after it. */
#define SCAN_GROUP 16
static inline void scan_group(const struct scan *s, const uintptr_t *p, unsigned k,
                              uintptr_t *ws, uint32_t *js)
{
    const uint32_t *pg[SCAN_GROUP];
    if (!s->page) {
        for (unsigned g = 0; g < k; g++)
            js[g] = scan_lookup(s, ws[g] = p[g]);
        return;
    }
    for (unsigned g = 0; g < k; g++) {
        uintptr_t w = ws[g] = p[g];
        pg[g] = w - s->lo < s->span ? scan_page(s, w) : NULL;
        if (pg[g])
            __builtin_prefetch(pg[g]);
    }
    for (unsigned g = 0; g < k; g++)
        if (pg[g]) {
            __builtin_prefetch(&s->b[pg[g][0]]);
            __builtin_prefetch(&s->b[pg[g][1]]);
        }
    for (unsigned g = 0; g < k; g++)
        js[g] = pg[g] ? scan_in(s, pg[g][0], pg[g][1] + 1, ws[g]) : NONE;
}

static inline uintptr_t block_end(const struct hsnap_block *b)
{
    return b->addr + (b->size ? b->size : 1);
}

/* Walk the clusters (split at gaps of >= gap bytes) at the current page
 * size: count clusters and table entries, and fill them if allocated. */
static size_t index_walk(struct scan *s, uintptr_t gap, uint32_t *ncl)
{
    size_t pos = 0;
    *ncl = 0;
    for (uint32_t i = 0, first = 0; i < s->n; i++) {
        if (i + 1 < s->n && s->b[i + 1].addr - block_end(&s->b[i]) < gap)
            continue;
        uintptr_t lo = s->b[first].addr, span = block_end(&s->b[i]) - lo;
        size_t np = ((span - 1) >> s->shift) + 1;
        if (s->page) { /* blocks first..i */
            s->cl[*ncl] = (struct cluster){lo, span, (uint32_t)pos};
            for (size_t p = 0, j = first; p < np; p++) {
                while (j < i && block_end(&s->b[j]) <= lo + ((uintptr_t)p << s->shift))
                    j++;
                s->page[pos + p] = (uint32_t)j;
            }
            s->page[pos + np] = i; /* the last page's upper bound */
        }
        pos += np + 1;
        (*ncl)++;
        first = i + 1;
    }
    return pos;
}

/* Build the index; on failure leave none (lookup still works). */
static void index_build(struct scan *s)
{
    uintptr_t gap = CLUSTER_GAP;
    size_t budget = s->n / 2 + 4096;
    s->shift = PAGE_SHIFT_MIN;
    for (index_walk(s, gap, &s->ncl); s->ncl > CLUSTER_MAX; index_walk(s, gap, &s->ncl))
        gap <<= 1;
    while ((s->npage = index_walk(s, gap, &s->ncl)) > budget &&
           s->shift < 8 * sizeof(uintptr_t) - 1)
        s->shift++;
    s->cl = scratch_alloc(s, s->ncl * sizeof(*s->cl));
    s->page = scratch_alloc(s, s->npage * sizeof(uint32_t));
    if (s->cl && s->page) {
        index_walk(s, gap, &s->ncl);
        return;
    }
    scratch_free(s, s->cl, s->ncl * sizeof(*s->cl));
    scratch_free(s, s->page, s->npage * sizeof(uint32_t));
    s->cl = NULL;
    s->page = NULL;
}

/* Whether w is a start reference to b: its first byte, or where the
 * Python object it holds starts (reserved, after the object's PyGC_Head:
 * collect.c's object_starts) or that address with its low bit set (PyTorch
 * keeps the Python object of a tensor its C++ side owns as `pointer | 1`,
 * c10::impl::PyObjectSlot; pyl_scan counts the same word), or
 * anywhere in a block whose pointers aim past a header by design (reserved
 * MODEL_START_ANY: gobj_mark). */
static inline int scan_is_start(const struct hsnap_block *b, uintptr_t w)
{
    uintptr_t o = b->addr + b->reserved; /* odd already: 3.12's values - 1 */
    return w == b->addr ||
           (b->reserved && (w == o || w == (o | 1) || b->reserved == MODEL_START_ANY));
}

/* Count one reference to block j and remember its kind (model_rerun:
 * both are the first run's; an interior one is noted for phase 2). */
static inline void scan_count(struct scan *s, uint32_t j, uintptr_t w, uint8_t from)
{
    struct hsnap_block *b = &s->b[j];
    if (s->again) {
        if (!scan_is_start(b, w))
            keep_set(s->keep, j, KEEP_INTERIOR);
        return;
    }
    if (b->refcount != UINT32_MAX)
        b->refcount++;
    b->flags |= (scan_is_start(b, w) ? MODEL_BF_START : MODEL_BF_INTERIOR) | from;
}

static void scan_push(struct scan *s, uint32_t j, uint8_t cls)
{
    s->b[j].cls = cls;
    s->work[s->nwork++] = j; /* each block is pushed at most once: n slots */
}

/* The aligned words wholly inside [lo, hi). */
static inline const uintptr_t *words_begin(uintptr_t lo)
{
    return (const uintptr_t *)((lo + sizeof(uintptr_t) - 1) & ~(uintptr_t)(sizeof(uintptr_t) - 1));
}

static inline const uintptr_t *words_end(uintptr_t hi)
{
    return (const uintptr_t *)(hi & ~(uintptr_t)(sizeof(uintptr_t) - 1));
}

/* fn(s, j, w, p, arg) for each word w at p of [lo, hi) that points into
 * a block j, in the words' order, looked up a group at a time
 * (scan_group).  Always inlined: fn is a constant, inlined in turn. */
typedef void scan_ref_fn(struct scan *s, uint32_t j, uintptr_t w, const uintptr_t *p, void *arg);
static inline __attribute__((always_inline)) void scan_words(struct scan *s, uintptr_t lo,
                                                             uintptr_t hi, scan_ref_fn *fn,
                                                             void *arg)
{
    const uintptr_t *p = words_begin(lo), *end = words_end(hi);
    uintptr_t ws[SCAN_GROUP];
    uint32_t js[SCAN_GROUP];
    while (p < end) {
        unsigned k = end - p < SCAN_GROUP ? (unsigned)(end - p) : SCAN_GROUP;
        scan_group(s, p, k, ws, js);
        for (unsigned g = 0; g < k; g++, p++)
            if (js[g] != NONE)
                fn(s, js[g], ws[g], p, arg);
    }
}

/* ---- holes: memory the scan must not read -------------------------------- */

/* The first hole that ends after lo (nholes: none). */
static size_t hole_after(const struct scan *s, uintptr_t lo)
{
    const struct model_range *h = s->ops->holes;
    size_t l = 0, r = s->ops->nholes;
    while (l < r) {
        size_t m = l + (r - l) / 2;
        if (h[m].hi <= lo)
            l = m + 1;
        else
            r = m;
    }
    return l;
}

static int overlaps_hole(const struct scan *s, uintptr_t lo, uintptr_t hi)
{
    size_t k = hole_after(s, lo);
    return k < s->ops->nholes && s->ops->holes[k].lo < hi;
}

/* The next readable piece of [*lo, hi): 1 with it in [*lo, *phi), or 0
 * when none is left. */
static int readable_piece(const struct scan *s, uintptr_t *lo, uintptr_t hi, uintptr_t *phi)
{
    const struct model_range *h = s->ops->holes;
    for (size_t k = hole_after(s, *lo); *lo < hi; k++) {
        if (k == s->ops->nholes || h[k].lo >= hi) {
            *phi = hi;
            return 1;
        }
        if (h[k].lo > *lo) {
            *phi = h[k].lo;
            return 1;
        }
        *lo = h[k].hi;
    }
    return 0;
}

/* Flags the blocks that overlap a hole (blocks and holes both sorted). */
static void holes_mark(struct scan *s)
{
    const struct model_range *h = s->ops->holes;
    size_t k = 0;
    for (uint32_t i = 0; i < s->n && k < s->ops->nholes; i++) {
        struct hsnap_block *b = &s->b[i];
        while (k < s->ops->nholes && h[k].hi <= b->addr)
            k++;
        if (k < s->ops->nholes && h[k].lo < b->addr + b->size)
            b->flags |= MODEL_BF_PARTIAL;
    }
}

/* ---- phase 0: check and reset ------------------------------------------ */

/* Phase 0's check of block i: in order, not over the one before, not
 * past the address space (0, or MODEL_EINVAL); *end moves past it. */
static inline int scan_check(const struct hsnap_block *b, uint32_t i, uintptr_t *end)
{
    if (b->addr + b->size < b->addr || (i && b->addr < *end))
        return MODEL_EINVAL;
    *end = block_end(b);
    return MODEL_OK;
}

/* Phase 0's end: the blocks' span, end past the last. */
static void scan_span(struct scan *s, uintptr_t end)
{
    s->lo = s->n ? s->b[0].addr : 0;
    s->span = s->n ? end - s->lo : 0;
}

static int scan_reset(struct scan *s)
{
    uintptr_t end = 0;
    for (uint32_t i = 0; i < s->n; i++) {
        struct hsnap_block *b = &s->b[i];
        if (scan_check(b, i, &end))
            return MODEL_EINVAL;
        if (!MODEL_HELD(b->cls))
            b->cls = HSNAP_CLASS_UNKNOWN;
        b->refcount = 0;
        b->flags = 0;
    }
    holes_mark(s);
    scan_span(s, end);
    return MODEL_OK;
}

/* ---- phases 1 and 2: reachable and possibly lost ------------------------ */

/* A root range's reference w (at p) to block j: counted, j pushed when it
 * is a start reference to a block not reached yet (an allocator's own
 * word, meta, is none). */
struct scan_root_at {
    const struct model_root *r;
    int meta;
    uint8_t cls;
};
static inline __attribute__((always_inline)) void scan_root_ref(struct scan *s, uint32_t j,
                                                                uintptr_t w, const uintptr_t *p,
                                                                void *arg)
{
    const struct scan_root_at *a = arg;
    if (a->meta && s->ops->is_alloc_meta(w, &s->b[j], s->ops->ctx))
        return;
    scan_count(s, j, w, MODEL_BF_ROOTREF);
    int first = scan_is_start(&s->b[j], w) && s->b[j].cls == HSNAP_CLASS_UNKNOWN;
    if (first)
        scan_push(s, j, a->cls);
    if (s->ops->on_ref)
        s->ops->on_ref(j, MODEL_FROM_ROOT, a->r->kind, first, (uintptr_t)p, s->ops->ctx);
}

static void scan_root_words(struct scan *s, const struct model_root *r, uintptr_t lo,
                            uintptr_t hi, uint8_t cls)
{
    struct scan_root_at a = {r, (r->flags & MODEL_ROOT_ALLOC_META) && s->ops->is_alloc_meta, cls};
    scan_words(s, lo, hi, scan_root_ref, &a);
}

/* [lo, hi) of root range r, its holes left out. */
static void scan_root_span(struct scan *s, const struct model_root *r, uintptr_t lo,
                           uintptr_t hi, uint8_t cls)
{
    uintptr_t phi;
    if (!overlaps_hole(s, lo, hi)) {
        scan_root_words(s, r, lo, hi, cls);
        return;
    }
    for (; readable_piece(s, &lo, hi, &phi); lo = phi)
        scan_root_words(s, r, lo, phi, cls);
}

/*
 * A root range may hold live blocks: pymalloc's arenas, registered as
 * roots (domain.c: what any Python object points to is alive), hold the
 * Python objects, each a block.  A word of the range that lies in such a
 * block is the block's: read when the block is reached and drained, as
 * its reference; the blocks that the roots and all they reach leave
 * unreached are read as the range's after that (scan_root_blocks), so
 * every word is still read once and what it points to is alive as
 * before.  Reading the ranges whole read each object's words twice (the
 * range's, then the block's), counted each reference twice, and made the
 * registered roots the holder of what objects hold (`leaks --why`).
 * Without memory for s->rootread the ranges are read whole.
 */

/* The first block that ends after a (s->n: none); blocks are sorted and
 * apart (phase 0), so their ends ascend too. */
static uint32_t block_after(const struct scan *s, uintptr_t a)
{
    uint32_t l = 0, r = s->n;
    while (l < r) {
        uint32_t m = l + (r - l) / 2;
        if (block_end(&s->b[m]) <= a)
            l = m + 1;
        else
            r = m;
    }
    return l;
}

/* The words drain_words reads of block b: [*wlo, *whi), empty or not. */
static inline void block_words(const struct hsnap_block *b, uintptr_t *wlo, uintptr_t *whi)
{
    *wlo = (uintptr_t)words_begin(b->addr);
    *whi = (uintptr_t)words_end(b->addr + b->size);
}

static inline int rootread_get(const struct scan *s, uint32_t i)
{
    return s->rootread && (s->rootread[i / 64] >> (i % 64) & 1);
}

/* The first block from i on that lies wholly in root range r and has a
 * word, its words in [*wlo, *whi); s->n: none (one over the range's start,
 * or with no word, is the range's). */
static uint32_t range_block(const struct scan *s, const struct model_root *r, uint32_t i,
                            uintptr_t *wlo, uintptr_t *whi)
{
    for (; i < s->n && block_end(&s->b[i]) <= r->hi; i++) {
        block_words(&s->b[i], wlo, whi);
        if (s->b[i].addr >= r->lo && *wlo < *whi)
            return i;
    }
    return s->n;
}

/* Root range r's words, those of the live blocks wholly inside it left
 * to the blocks (with s->rootread; the runtime's ranges, read after the
 * program's blocks, hold none and are read whole). */
static void scan_root(struct scan *s, const struct model_root *r, uint8_t cls)
{
    uintptr_t lo = r->lo, wlo, whi;
    int skip = s->rootread && !(r->flags & MODEL_ROOT_RUNTIME);
    for (uint32_t i = skip ? range_block(s, r, block_after(s, r->lo), &wlo, &whi) : s->n;
         i < s->n; i = range_block(s, r, i + 1, &wlo, &whi)) {
        if (wlo > lo)
            scan_root_span(s, r, lo, wlo, cls);
        lo = whi;
    }
    if (lo < r->hi)
        scan_root_span(s, r, lo, r->hi, cls);
}

/* The words scan_root left to the blocks of the program's root ranges
 * that are still unreached, read as the ranges' now, each block's bit set
 * so that no drain reads them again.  Held blocks too, whose drain comes
 * after on_marked: a block collect_mark_init makes held after the first
 * run is read here by that run and by a whole run alike, and model_rerun
 * (the first run's bits) drains it no more, as a whole run does not. */
static void scan_root_blocks(struct scan *s, const struct model_root *roots, size_t nroots)
{
    uintptr_t wlo, whi;
    for (size_t k = 0; s->rootread && k < nroots; k++) {
        const struct model_root *r = &roots[k];
        if (r->flags & MODEL_ROOT_RUNTIME)
            continue;
        for (uint32_t i = range_block(s, r, block_after(s, r->lo), &wlo, &whi); i < s->n;
             i = range_block(s, r, i + 1, &wlo, &whi)) {
            if (s->b[i].cls == HSNAP_CLASS_REACHABLE || rootread_get(s, i))
                continue;
            s->rootread[i / 64] |= 1ull << (i % 64);
            scan_root_span(s, r, wlo, whi, HSNAP_CLASS_REACHABLE);
        }
    }
}

/* Block i's reference w (at p) to block j: counted, j pushed when not
 * reached yet (REACHABLE by a start reference only, POSSIBLE by any). */
struct scan_drain_at {
    uint32_t i;
    uint8_t cls;
};
static inline __attribute__((always_inline)) void scan_drain_ref(struct scan *s, uint32_t j,
                                                                 uintptr_t w, const uintptr_t *p,
                                                                 void *arg)
{
    const struct scan_drain_at *a = arg;
    uint8_t cls = a->cls;
    scan_count(s, j, w, j == a->i ? MODEL_BF_SELF : 0);
    int push = s->b[j].cls == HSNAP_CLASS_UNKNOWN &&
               (cls == HSNAP_CLASS_POSSIBLE || scan_is_start(&s->b[j], w));
    if (push)
        scan_push(s, j, cls);
    if (s->ops->on_ref)
        s->ops->on_ref(j, a->i, 0, push && cls != HSNAP_CLASS_POSSIBLE, (uintptr_t)p,
                       s->ops->ctx);
}

/* The words of [lo, hi) of block i, in order (scan_drain_ref). */
static void drain_words(struct scan *s, uint32_t i, uint8_t cls, uintptr_t lo, uintptr_t hi)
{
    struct scan_drain_at a = {i, cls};
    scan_words(s, lo, hi, scan_drain_ref, &a);
}

/* Block i's words (drain_words), its readable pieces where it overlaps a
 * hole; none where they were read as a root range's (scan_root_blocks). */
static void drain_one(struct scan *s, uint32_t i, uint8_t cls)
{
    const struct hsnap_block *bi = &s->b[i];
    if (rootread_get(s, i))
        return;
    uintptr_t lo = bi->addr, hi = bi->addr + bi->size, phi;
    if (!(bi->flags & MODEL_BF_PARTIAL)) {
        drain_words(s, i, cls, lo, hi);
        return;
    }
    for (; readable_piece(s, &lo, hi, &phi); lo = phi)
        drain_words(s, i, cls, lo, phi);
}

/*
 * The worklist is a queue: blocks are read in the order they were reached,
 * breadth first, so the reference a block rests on (its first retainer,
 * the holder view's chain) is on one of the shortest ways from a root.  A
 * stack read depth first made chains of thousands of blocks where a few
 * lead from a root (a pandas column's strings: "2186 blocks below" an
 * arena).  Blocks SCAN_AHEAD and twice that further on are fetched ahead:
 * the next ones' words, the record that says where they are.
 */
#define SCAN_AHEAD 4u
static void scan_drain(struct scan *s, uint8_t cls)
{
    while (s->head < s->nwork) {
        uint32_t i = s->work[s->head++];
        if (s->head + 2 * SCAN_AHEAD < s->nwork)
            __builtin_prefetch(&s->b[s->work[s->head + 2 * SCAN_AHEAD]]);
        if (s->head + SCAN_AHEAD < s->nwork)
            __builtin_prefetch((const void *)s->b[s->work[s->head + SCAN_AHEAD]].addr);
        drain_one(s, i, cls);
    }
}

/* on_marked's moment: what model_rerun starts from kept, then told. */
static void scan_marked(struct scan *s)
{
    for (uint32_t i = 0; s->keep && i < s->n; i++) {
        if (s->b[i].cls == HSNAP_CLASS_REACHABLE)
            keep_set(s->keep, i, KEEP_ROOTED);
        if (s->b[i].flags & MODEL_BF_INTERIOR)
            keep_set(s->keep, i, KEEP_INTERIOR);
    }
    if (s->ops->on_marked)
        s->ops->on_marked(s->ops->ctx);
}

static int scan_live(struct scan *s, const struct model_root *roots, size_t nroots)
{
    s->work = scratch_alloc(s, (size_t)s->n * sizeof(uint32_t));
    if (!s->work)
        return MODEL_ENOMEM;
    if (s->rootread) { /* model_keep's: counted as the scratch it stands for */
        s->held += bits_bytes(s->n);
        s->peak = s->held > s->peak ? s->held : s->peak;
    } else if (!s->again && (s->rootread = scratch_alloc(s, bits_bytes(s->n))) != NULL) {
        memset(s->rootread, 0, bits_bytes(s->n));
        s->rootread_own = 1;
    }
    /* The program's roots first, then the held blocks (a runtime's block
     * may hold the program's: the loader's dynamic TLS does), pushed
     * first so that they are read after what the roots reach; what the
     * runtime's data reaches after that is the runtime's.  model_rerun
     * starts at the held blocks, the roots' part kept. */
    for (uint32_t i = 0; i < s->n; i++)
        if (MODEL_HELD(s->b[i].cls))
            s->work[s->nwork++] = i;
    uint32_t nheld = s->nwork; /* work[0, nheld): read after the roots' (model_rerun: first) */
    if (!s->again) {
        s->head = nheld;
        for (size_t r = 0; r < nroots; r++)
            if (!(roots[r].flags & MODEL_ROOT_RUNTIME))
                scan_root(s, &roots[r], HSNAP_CLASS_REACHABLE);
        scan_drain(s, HSNAP_CLASS_REACHABLE);
        scan_root_blocks(s, roots, nroots);
        scan_drain(s, HSNAP_CLASS_REACHABLE);
        scan_marked(s);
        for (uint32_t k = 0; k < nheld; k++)
            drain_one(s, s->work[k], HSNAP_CLASS_REACHABLE);
    }
    scan_drain(s, HSNAP_CLASS_REACHABLE);
    for (size_t r = 0; r < nroots; r++)
        if (roots[r].flags & MODEL_ROOT_RUNTIME)
            scan_root(s, &roots[r], HSNAP_CLASS_RUNTIME);
    scan_drain(s, HSNAP_CLASS_RUNTIME);
    /* Interior flags so far all come from roots or reachable blocks
     * (model_rerun: its own notes and the first run's up to on_marked). */
    for (uint32_t i = 0; i < s->n; i++)
        if (s->b[i].cls == HSNAP_CLASS_UNKNOWN &&
            (s->again ? keep_get(s->keep, i, KEEP_INTERIOR)
                      : (s->b[i].flags & MODEL_BF_INTERIOR) != 0))
            scan_push(s, i, HSNAP_CLASS_POSSIBLE);
    scan_drain(s, HSNAP_CLASS_POSSIBLE);
    scratch_free(s, s->work, (size_t)s->n * sizeof(uint32_t));
    s->work = NULL;
    return MODEL_OK;
}

/* ---- phase 3: the leak graph -------------------------------------------- */

/* Read leak v's words: the counting pass (fill == NULL) bumps refcounts and
 * returns the out-degree; the filling pass writes at most `cap` node ids. */
static uint32_t graph_words(struct scan *s, uint32_t i, uint32_t *fill, uint32_t cap,
                            uint32_t deg, uintptr_t lo, uintptr_t hi)
{
    const uintptr_t *end = words_end(hi);
    for (const uintptr_t *p = words_begin(lo); p < end; p++) {
        uintptr_t w = *p;
        uint32_t j = scan_lookup(s, w);
        if (j == NONE)
            continue;
        if (!fill)
            scan_count(s, j, w, j == i ? MODEL_BF_SELF : 0);
        if (s->b[j].cls != HSNAP_CLASS_UNKNOWN)
            continue;
        if (fill && deg < cap)
            fill[deg] = graph_node(s, j);
        deg++;
    }
    return deg;
}

/* Leak v's words: its out-degree, counted (fill NULL) or filled.  A block
 * read as a root range's (scan_root_blocks) has none: what its words point
 * to was reached from them, and they were counted then. */
static uint32_t graph_read(struct scan *s, uint32_t v, uint32_t *fill, uint32_t cap)
{
    uint32_t i = s->ub[v], deg = 0;
    const struct hsnap_block *bi = &s->b[i];
    uintptr_t lo = bi->addr, hi = bi->addr + bi->size, phi;
    if (rootread_get(s, i))
        return 0;
    if (!(bi->flags & MODEL_BF_PARTIAL))
        return graph_words(s, i, fill, cap, 0, lo, hi);
    for (; readable_piece(s, &lo, hi, &phi); lo = phi)
        deg = graph_words(s, i, fill, cap, deg, lo, phi);
    return deg;
}

static int graph_build(struct scan *s)
{
    for (uint32_t i = 0; i < s->n; i++)
        s->u += s->b[i].cls == HSNAP_CLASS_UNKNOWN;
    if (!s->u)
        return MODEL_OK;
    s->ub = scratch_alloc(s, (size_t)s->u * sizeof(uint32_t));
    s->off = scratch_alloc(s, (size_t)s->u * sizeof(uint32_t));
    if (!s->ub || !s->off)
        return MODEL_ENOMEM;
    for (uint32_t i = 0, v = 0; i < s->n; i++)
        if (s->b[i].cls == HSNAP_CLASS_UNKNOWN)
            s->ub[v++] = i;
    size_t total = 0;
    for (uint32_t v = 0; v < s->u; v++) {
        s->off[v] = (uint32_t)total;
        total += graph_read(s, v, NULL, 0) + 1;
        if (total >= UINT32_MAX)
            return MODEL_ENOMEM;
    }
    s->nedge = total;
    s->edge = scratch_alloc(s, total * sizeof(uint32_t));
    if (!s->edge)
        return MODEL_ENOMEM;
    for (uint32_t v = 0; v < s->u; v++) {
        uint32_t cap = (v + 1 < s->u ? s->off[v + 1] : (uint32_t)total) - s->off[v] - 1;
        uint32_t got = graph_read(s, v, s->edge + s->off[v], cap);
        for (uint32_t k = got < cap ? got : cap; k <= cap; k++)
            s->edge[s->off[v] + k] = SENT; /* memory changed: pad, stay in bounds */
    }
    return MODEL_OK;
}

/* ---- phase 4: strongly connected components ------------------------------ */

/* Close the component rooted at v: its members are v and the nodes above
 * it on the component stack (which grows down from stk[u-1]). */
static void scc_close(struct scan *s, uint32_t v, uint32_t *top, uint32_t *index)
{
    uint32_t comp = DONE_BIT | s->ncomp++, size = 1, rv = s->rindex[v];
    uint32_t first = *top;
    while (*top < s->u && s->rindex[s->stk[*top]] >= rv) {
        s->rindex[s->stk[*top]] = comp;
        (*top)++;
        size++;
    }
    s->rindex[v] = comp;
    *index -= size;
    /* A cycle has two blocks or more: a block that points only into itself
     * (a struct holding a short std::string) stays direct or indirect, as
     * memcheck and LeakSanitizer say (test_self_reference_is_not_a_cycle). */
    if (size < 2)
        return;
    s->b[s->ub[v]].cls = HSNAP_CLASS_CYCLE;
    for (uint32_t k = first; k < *top; k++)
        s->b[s->ub[s->stk[k]]].cls = HSNAP_CLASS_CYCLE;
}

/* Pearce's PEA_FIND_SCC2, iterative.  The call stack grows up from stk[0],
 * the component stack down from stk[u-1]; a node is on at most one of them,
 * so they never meet.  off[v] is v's edge cursor (restored afterwards). */
static void scc_visit(struct scan *s, uint32_t root, uint32_t *top, uint32_t *index)
{
    uint32_t depth = 0;
    s->stk[depth++] = root;
    s->rindex[root] = (*index)++;
    while (depth) {
        uint32_t v = s->stk[depth - 1];
        uint32_t w = s->edge[s->off[v]];
        if (w != SENT) {
            if (s->rindex[w] == 0) { /* descend; revisit this edge after */
                s->stk[depth++] = w;
                s->rindex[w] = (*index)++;
                continue;
            }
            if (s->rindex[w] < s->rindex[v]) {
                s->rindex[v] = s->rindex[w];
                s->b[s->ub[v]].flags |= F_NOTROOT;
            }
            s->off[v]++;
            continue;
        }
        depth--;
        if (s->b[s->ub[v]].flags & F_NOTROOT)
            s->stk[--(*top)] = v;
        else
            scc_close(s, v, top, index);
    }
}

static void graph_rewind(struct scan *s)
{
    size_t pos = 0;
    for (uint32_t v = 0; v < s->u; v++) {
        s->off[v] = (uint32_t)pos;
        while (s->edge[pos] != SENT)
            pos++;
        pos++;
    }
}

static int scc_find(struct scan *s)
{
    s->rindex = scratch_alloc(s, (size_t)s->u * sizeof(uint32_t));
    s->stk = scratch_alloc(s, (size_t)s->u * sizeof(uint32_t));
    if (!s->rindex || !s->stk)
        return MODEL_ENOMEM;
    memset(s->rindex, 0, (size_t)s->u * sizeof(uint32_t));
    uint32_t top = s->u, index = 1;
    for (uint32_t v = 0; v < s->u; v++)
        if (s->rindex[v] == 0)
            scc_visit(s, v, &top, &index);
    graph_rewind(s);
    /* Indirect by the graph's edges, not by the refcount: a thread that
     * could not be stopped may change a word between the counting read
     * and the filling one, and a refcounted block with no edge left in
     * would be a source of the graph (a loss record) of class indirect. */
    for (uint32_t v = 0; v < s->u; v++)
        for (uint32_t e = s->off[v]; s->edge[e] != SENT; e++)
            if (s->edge[e] != v)
                s->b[s->ub[s->edge[e]]].flags |= F_HASIN;
    for (uint32_t v = 0; v < s->u; v++) {
        struct hsnap_block *b = &s->b[s->ub[v]];
        if (b->cls == HSNAP_CLASS_UNKNOWN)
            b->cls = (b->flags & F_HASIN) ? HSNAP_CLASS_INDIRECT : HSNAP_CLASS_DIRECT;
        b->flags &= ~F_HASIN;
    }
    return MODEL_OK;
}

/* ---- entry points -------------------------------------------------------- */

static void scan_fini(struct scan *s)
{
    scratch_free(s, s->cl, s->ncl * sizeof(*s->cl));
    scratch_free(s, s->page, s->npage * sizeof(uint32_t));
    scratch_free(s, s->work, (size_t)s->n * sizeof(uint32_t));
    if (s->rootread_own) /* (model_keep's: the caller's) */
        scratch_free(s, s->rootread, bits_bytes(s->n));
    scratch_free(s, s->ub, (size_t)s->u * sizeof(uint32_t));
    scratch_free(s, s->off, (size_t)s->u * sizeof(uint32_t));
    scratch_free(s, s->edge, s->nedge * sizeof(uint32_t));
    scratch_free(s, s->rindex, (size_t)s->u * sizeof(uint32_t));
    scratch_free(s, s->stk, (size_t)s->u * sizeof(uint32_t));
    scratch_free(s, s->inmap, s->inmap ? inmap_bytes(s) : 0);
}

static void model_totals(const struct scan *s, struct model_result *out)
{
    for (uint32_t i = 0; i < s->n; i++) {
        struct hsnap_block *b = &s->b[i];
        b->flags &= MODEL_BF_KEEP;
        out->total[b->cls].bytes += b->size;
        out->total[b->cls].blocks++;
    }
}

/* model_rerun's phase 0: the blocks as on_marked found them, and those
 * made held since held. */
static int scan_again_reset(struct scan *s)
{
    uintptr_t end = 0;
    for (uint32_t i = 0; i < s->n; i++) {
        struct hsnap_block *b = &s->b[i];
        if (scan_check(b, i, &end))
            return MODEL_EINVAL;
        if (keep_get(s->keep, i, KEEP_ROOTED)) {
            if (b->cls != HSNAP_CLASS_REACHABLE)
                return MODEL_ESTALE; /* made held: the roots' marking changes */
        } else if (!MODEL_HELD(b->cls)) {
            b->cls = HSNAP_CLASS_UNKNOWN;
        }
    }
    scan_span(s, end);
    return MODEL_OK;
}

/* Phases 1-5 and the totals, phase 0 done (rc its result). */
static int model_phases(struct scan *s, int rc, const struct model_root *roots, size_t nroots,
                        struct model_result *out)
{
    if (!rc && s->n)
        index_build(s);
    if (!rc)
        rc = scan_live(s, roots, nroots);
    if (!rc)
        rc = graph_build(s);
    if (!rc && s->u)
        rc = scc_find(s);
    if (!rc && s->u)
        rc = rec_build(s, out);
    scan_fini(s);
    if (rc) {
        model_result_free(out, s->ops);
        return rc;
    }
    model_totals(s, out);
    out->scratch_peak = s->peak;
    return MODEL_OK;
}

int model_run_keep(struct hsnap_block *blocks, size_t n, const struct model_root *roots,
                   size_t nroots, const struct model_ops *ops, struct model_result *out,
                   struct model_keep *keep)
{
    memset(out, 0, sizeof(*out));
    if (keep) {
        memset(keep, 0, sizeof *keep);
        keep->n = n;
        keep->bits = n < DONE_BIT ? ops->alloc(keep_bytes(n), ops->ctx) : NULL;
        keep->read = keep->bits ? ops->alloc(bits_bytes(n), ops->ctx) : NULL;
        if (keep->read) {
            memset(keep->bits, 0, keep_bytes(n));
            memset(keep->read, 0, bits_bytes(n));
        } else if (keep->bits) { /* no rerun without both */
            ops->free(keep->bits, keep_bytes(n), ops->ctx);
            keep->bits = NULL;
        }
    }
    if (n >= DONE_BIT)
        return MODEL_EINVAL;
    struct scan s = {.b = blocks, .n = (uint32_t)n, .ops = ops,
                     .keep = keep ? keep->bits : NULL, .rootread = keep ? keep->read : NULL};
    return model_phases(&s, scan_reset(&s), roots, nroots, out);
}

int model_rerun(struct hsnap_block *blocks, size_t n, const struct model_root *roots,
                size_t nroots, const struct model_ops *ops, struct model_keep *keep,
                struct model_result *out)
{
    memset(out, 0, sizeof(*out));
    if (!keep->bits || keep->n != n || keep->spent || n >= DONE_BIT)
        return MODEL_ESTALE;
    keep->spent = 1; /* its interior bits gain this run's */
    struct scan s = {.b = blocks, .n = (uint32_t)n, .ops = ops, .keep = keep->bits, .again = 1,
                     .rootread = keep->read};
    return model_phases(&s, scan_again_reset(&s), roots, nroots, out);
}

void model_keep_free(struct model_keep *keep, const struct model_ops *ops)
{
    if (keep->bits)
        ops->free(keep->bits, keep_bytes(keep->n), ops->ctx);
    if (keep->read)
        ops->free(keep->read, bits_bytes(keep->n), ops->ctx);
    memset(keep, 0, sizeof *keep);
}

int model_run(struct hsnap_block *blocks, size_t n, const struct model_root *roots,
              size_t nroots, const struct model_ops *ops, struct model_result *out)
{
    return model_run_keep(blocks, n, roots, nroots, ops, out, NULL);
}
