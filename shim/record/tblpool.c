/*
 * tblpool.c - the live-block table's second store: the blocks of a pool
 * allocator's regions (pymalloc's arenas, which py_arena_alloc registers (tbl_pool_add) with
 * their pools' geometry), kept by place, not hashed.  A region is cut into
 * pages (pools) of one block size, which each page's header says; a page
 * with recorded blocks has 4-byte entries indexed by a block's place,
 *
 *   entry: trace (bits 0-23) | block size - size (24-30) | live (31)
 *
 * and one epoch for all, or 2-byte epochs once its blocks' differ.  Both
 * go when the page's last recorded block dies.  What does not fit (a
 * header that does not read as the geometry says, an address not a block's
 * place, a size over 127 below its block's, a trace id of 2^24 or more)
 * goes to the hash, where table.c looks on every miss here; so do the live
 * entries of a page remade for another size or of a region dropped.
 *   Locks: the registry, then a region's, then the stripes (a hand-over).
 * A lookup finds its region through a radix of 256 KiB chunks, no lock;
 * a region's record is never freed (a dropped one is reused), and its
 * bounds are checked again under its lock.
 */
#include <string.h>

#include "record.h"

#define TP_CHUNK_BITS 18 /* the radix's unit; a region is at least this big */
#define TP_LEAF_BITS 15
#define TP_ROOT_BITS (TBL_POOL_ADDR_BITS - TP_CHUNK_BITS - TP_LEAF_BITS)
#define TP_PAGE_MIN 12 /* page sizes tried: 64 KiB down to 4 KiB */
#define TP_PAGE_MAX 16

#define TP_LIVE (1u << 31)
#define TP_DELTA_MAX 127u /* a block's size at most this below its block size */
#define TP_LOW(bits) (((uint64_t)1 << (bits)) - 1)

struct tp_page {      /* one page of a region */
    uint32_t *e;      /* its entries, NULL when none is live */
    uint16_t *ep;     /* its entries' epochs, when they differ; else all are `epoch` */
    uint32_t inv;     /* 2^32 / bsize, rounded up: a place's index by multiplication */
    uint16_t bsize;   /* block size when e was made */
    uint16_t live;    /* live entries */
    uint16_t epoch;   /* every live entry's, while ep is NULL */
};

struct tp_region {
    lock_t lock;
    uint32_t count;         /* live entries */
    uintptr_t lo, hi;       /* the region, [lo, hi); 0, 0 when unused */
    uintptr_t base;         /* its first page: lo rounded up to the page size */
    uint32_t npages;        /* pages in page[] */
    struct tp_page *page;   /* npages of them, made at the first insert */
    struct tp_region *next; /* the unused list */
};

struct tp_chunk { /* the regions that overlap one chunk: at most two */
    struct tp_region *_Atomic r[2];
};

int tbl_pool_on;
static struct {
    lock_t lock;                    /* the registry: regions, the radix's writes */
    struct tbl_pool_geom g;
    _Atomic unsigned page_bits;     /* learnt at the first block: 0 until then */
    struct tp_chunk *_Atomic *root; /* 1 << TP_ROOT_BITS leaves */
    /* Every record made, in use or not, read with no lock: an array
     * outgrown is left as it was, never freed. */
    struct tp_region **_Atomic all;
    _Atomic unsigned nall;
    unsigned capall;
    struct tp_region *unused;
} tp;

/* ---------------- finding a region ---------------- */

static inline struct tp_chunk *tp_chunk_of(uintptr_t a)
{
    struct tp_chunk *_Atomic *root = atomic_load_explicit(&tp.root, memory_order_acquire);
    if (!root || (a >> TBL_POOL_ADDR_BITS))
        return NULL;
    struct tp_chunk *leaf = atomic_load_explicit(&root[a >> (TP_CHUNK_BITS + TP_LEAF_BITS)],
                                                 memory_order_acquire);
    return leaf ? &leaf[(a >> TP_CHUNK_BITS) & TP_LOW(TP_LEAF_BITS)] : NULL;
}

static inline int tp_in(const struct tp_region *r, uintptr_t a)
{
    return a - r->lo < r->hi - r->lo;
}

/* The region holding a, locked, or NULL. */
static inline struct tp_region *tp_lock_region(uintptr_t a)
{
    struct tp_chunk *c = tp_chunk_of(a);
    if (!c)
        return NULL;
    for (int k = 0; k < 2; k++) {
        struct tp_region *r = atomic_load_explicit(&c->r[k], memory_order_acquire);
        if (r && tp_in(r, a)) {
            lock_take(&r->lock);
            if (HS_LIKELY(tp_in(r, a)))
                return r;
            lock_drop(&r->lock); /* dropped and reused meanwhile */
            return NULL;
        }
    }
    return NULL;
}

/* ---------------- pages ---------------- */

static inline uint32_t tp_u32(uintptr_t a)
{
    uint32_t v;
    memcpy(&v, (const void *)a, sizeof v);
    return v;
}

/* The block size page pg says it holds, or 0 when its header does not
 * read as the geometry says. */
static inline unsigned tp_bsize(uintptr_t pg, unsigned bits)
{
    uint32_t cls = tp_u32(pg + tp.g.class_at);
    if (cls >= tp.g.classes)
        return 0;
    unsigned b = (cls + 1) << tp.g.class_shift;
    return tp_u32(pg + tp.g.last_at) + b == (1u << bits) ? b : 0;
}

/* The page size, learnt from the first block seen: the largest whose
 * page header, where that size puts it, says that size.  0: none does. */
static HS_NOINLINE unsigned tp_learn(const struct tp_region *r, uintptr_t a)
{
    for (unsigned bits = TP_PAGE_MAX; bits >= TP_PAGE_MIN; bits--) {
        uintptr_t pg = a & ~(uintptr_t)TP_LOW(bits);
        if (pg < r->lo || pg + ((uintptr_t)1 << bits) > r->hi || a - pg < tp.g.first)
            continue;
        unsigned b = tp_bsize(pg, bits);
        if (b && (a - pg - tp.g.first) % b == 0) {
            unsigned zero = 0;
            atomic_compare_exchange_strong(&tp.page_bits, &zero, bits);
            return atomic_load(&tp.page_bits);
        }
    }
    return 0;
}

/* r's page array, made at r's first insert (r locked); NULL when out of memory. */
static struct tp_page *tp_pages(struct tp_region *r, unsigned bits)
{
    if (HS_LIKELY(r->page != NULL))
        return r->page;
    uintptr_t size = (uintptr_t)1 << bits;
    r->base = (r->lo + size - 1) & ~(size - 1);
    r->npages = r->base < r->hi ? (uint32_t)((r->hi - r->base) >> bits) : 0;
    if (!r->npages)
        return NULL;
    r->page = arena_alloc((size_t)r->npages * sizeof *r->page);
    return r->page;
}

static inline uint32_t tp_entries(unsigned bsize, unsigned bits)
{
    return (uint32_t)((((uintptr_t)1 << bits) - tp.g.first) / bsize);
}

/* Where block a is in r: its page (made for block size *bsize, which the
 * page's header names) and its index there, or NULL (not a block's place,
 * or no page array yet).  *idx is UINT32_MAX when the page has no entries
 * or has them for another block size. */
static inline struct tp_page *tp_place(struct tp_region *r, uintptr_t a, unsigned bits,
                                       unsigned *bsize, uint32_t *idx)
{
    if (!r->page || a < r->base)
        return NULL;
    uintptr_t n = (a - r->base) >> bits;
    if (n >= r->npages)
        return NULL;
    uintptr_t pg = r->base + (n << bits);
    uintptr_t off = a - pg - tp.g.first;
    unsigned b = tp_bsize(pg, bits);
    if (!b || off >= ((uintptr_t)1 << bits) - tp.g.first)
        return NULL;
    struct tp_page *p = &r->page[n];
    *bsize = b;
    *idx = UINT32_MAX;
    if (!p->e) /* the insert's first block: the caller divides */
        return off % b == 0 ? p : NULL;
    if (p->bsize != b)
        return p;
    uint32_t i = (uint32_t)((off * (uint64_t)p->inv) >> 32);
    if (i * (uintptr_t)b != off)
        return NULL;
    *idx = i;
    return p;
}

/* Entry i of p, the block at a, into *e. */
static inline void tp_unpack(const struct tp_page *p, uint32_t i, uintptr_t a, struct tbl_entry *e)
{
    uint32_t x = p->e[i];
    e->ptr = a;
    e->trace = x & (uint32_t)TP_LOW(24);
    e->size = p->bsize - ((x >> 24) & TP_DELTA_MAX);
    e->epoch = p->ep ? p->ep[i] : p->epoch;
}

/* p's arrays go (k entries); p is empty after. */
static void tp_page_free(struct tp_page *p, uint32_t k)
{
    arena_free(p->e, (size_t)k * sizeof *p->e);
    if (p->ep)
        arena_free(p->ep, (size_t)k * sizeof *p->ep);
    memset(p, 0, sizeof *p);
}

/* The address of entry i of page n of r. */
static inline uintptr_t tp_addr(const struct tp_region *r, uint32_t n, uint32_t i, unsigned bits)
{
    return r->base + ((uintptr_t)n << bits) + tp.g.first + (uintptr_t)i * r->page[n].bsize;
}

/* Page n's live entries go to the hash (their blocks' frees were not
 * seen), and its array goes (r locked). */
static void tp_page_spill(struct tp_region *r, uint32_t n, unsigned bits)
{
    struct tp_page *p = &r->page[n];
    uint32_t k = tp_entries(p->bsize, bits);
    for (uint32_t i = 0; i < k; i++)
        if (p->e[i] & TP_LIVE) {
            struct tbl_entry e;
            tp_unpack(p, i, tp_addr(r, n, i, bits), &e);
            if (tbl_filter.on)
                tbl_filter_add(e.ptr, -1); /* the hash counts it again */
            tbl_hash_insert(e.ptr, e.size, e.trace, e.epoch, NULL);
        }
    r->count -= p->live;
    tp_page_free(p, k);
}

/* ---------------- the table's operations ---------------- */

/* tbl_insert's, for a block in a region: 0 stored, 1 stored over a stale
 * entry (*replaced), TBL_POOL_NOT_MINE: the hash's to store. */
int tbl_pool_insert(uintptr_t a, uint64_t size, uint32_t trace, uint32_t epoch,
                    struct tbl_entry *replaced)
{
    struct tp_region *r = tp_lock_region(a);
    if (!r)
        return TBL_POOL_NOT_MINE;
    unsigned bits = atomic_load_explicit(&tp.page_bits, memory_order_relaxed), b;
    uint32_t i;
    int ret = TBL_POOL_NOT_MINE;
    if (HS_UNLIKELY(!bits) && !(bits = tp_learn(r, a)))
        goto out;
    if (trace >> 24 || !tp_pages(r, bits))
        goto out;
    struct tp_page *p = tp_place(r, a, bits, &b, &i);
    if (!p || size > b || b - size > TP_DELTA_MAX)
        goto out;
    if (HS_UNLIKELY(p->e && i == UINT32_MAX)) { /* the page holds another size now */
        tp_page_spill(r, (uint32_t)(p - r->page), bits);
        if (!(p = tp_place(r, a, bits, &b, &i)))
            goto out;
    }
    if (!p->e) {
        uint32_t k = tp_entries(b, bits);
        if (!(p->e = arena_alloc((size_t)k * sizeof *p->e)))
            goto out;
        p->bsize = (uint16_t)b;
        p->inv = (uint32_t)((((uint64_t)1 << 32) + b - 1) / b);
        p->live = 0;
        i = (uint32_t)((((a - r->base) & TP_LOW(bits)) - tp.g.first) / b);
    }
    uint16_t ep = epoch > 0xffff ? 0xffff : (uint16_t)epoch;
    int stale = (p->e[i] & TP_LIVE) != 0;
    if (stale && replaced)
        tp_unpack(p, i, a, replaced);
    if (!p->ep && ep != p->epoch) {
        if (p->live - stale == 0) { /* no other live entry: the page takes this epoch */
            p->epoch = ep;
        } else {
            uint32_t k = tp_entries(b, bits);
            if (!(p->ep = arena_alloc((size_t)k * sizeof *p->ep))) {
                if (stale) { /* to the hash, where the new block will replace it */
                    struct tbl_entry e;
                    tp_unpack(p, i, a, &e);
                    p->e[i] = 0;
                    p->live--;
                    r->count--;
                    if (tbl_filter.on)
                        tbl_filter_add(a, -1);
                    tbl_hash_insert(e.ptr, e.size, e.trace, e.epoch, NULL);
                }
                goto out;
            }
            for (uint32_t j = 0; j < k; j++)
                p->ep[j] = p->epoch;
        }
    }
    if (p->ep)
        p->ep[i] = ep;
    p->e[i] = trace | (uint32_t)(b - size) << 24 | TP_LIVE;
    if (stale) {
        ret = 1;
    } else {
        p->live++;
        r->count++;
        if (tbl_filter.on)
            tbl_filter_add(a, 1);
        ret = 0;
    }
out:
    lock_drop(&r->lock);
    return ret;
}

/* tbl_remove's (erase set) or tbl_find's: 1 and *out filled when a is
 * here, else 0 (the hash may still have it). */
int tbl_pool_take(uintptr_t a, struct tbl_entry *out, int erase)
{
    struct tp_region *r = tp_lock_region(a);
    if (!r)
        return 0;
    unsigned bits = atomic_load_explicit(&tp.page_bits, memory_order_relaxed), b;
    uint32_t i;
    int found = 0;
    struct tp_page *p = bits ? tp_place(r, a, bits, &b, &i) : NULL;
    if (p && i != UINT32_MAX && (p->e[i] & TP_LIVE)) {
        found = 1;
        if (out)
            tp_unpack(p, i, a, out);
        if (erase) {
            p->e[i] = 0;
            r->count--;
            if (tbl_filter.on)
                tbl_filter_add(a, -1);
            if (--p->live == 0)
                tp_page_free(p, tp_entries(b, bits));
        }
    }
    lock_drop(&r->lock);
    return found;
}

/* The page of a region that holds a, its block size (*bsize), page size
 * (*size) and first block's offset (*first, the geometry's): 0 when a lies in no region's page, no page size is
 * learnt yet, or the page's header does not read as the geometry says
 * (a page never handed out).  The page is the region's until
 * tbl_pool_drop, which comes before its memory goes. */
uintptr_t tbl_pool_page(uintptr_t a, unsigned *bsize, size_t *size, unsigned *first)
{
    struct tp_region *r = tp_lock_region(a);
    if (!r)
        return 0;
    unsigned bits = atomic_load_explicit(&tp.page_bits, memory_order_relaxed);
    uintptr_t pg = bits ? a & ~(uintptr_t)TP_LOW(bits) : 0;
    if (pg && (pg < r->lo || pg + ((uintptr_t)1 << bits) > r->hi || !(*bsize = tp_bsize(pg, bits))))
        pg = 0;
    *size = (size_t)1 << bits;
    *first = tp.g.first;
    lock_drop(&r->lock);
    return pg;
}

/* ---------------- walks ---------------- */

/* The records made so far: [0, *n). */
static struct tp_region **tp_all(unsigned *n)
{
    *n = atomic_load_explicit(&tp.nall, memory_order_acquire);
    return atomic_load_explicit(&tp.all, memory_order_acquire);
}

/* fn on every entry of r (locked, or the world stopped); drop: each page's
 * array goes once visited, and r is empty after. */
static int tp_visit(struct tp_region *r, tbl_visit_fn fn, void *arg, int drop)
{
    unsigned bits = atomic_load_explicit(&tp.page_bits, memory_order_relaxed);
    int ret = 0;
    for (uint32_t n = 0; r->page && n < r->npages; n++) {
        struct tp_page *p = &r->page[n];
        if (!p->e)
            continue;
        uint32_t k = tp_entries(p->bsize, bits);
        for (uint32_t i = 0; ret == 0 && fn && i < k; i++)
            if (p->e[i] & TP_LIVE) {
                struct tbl_entry e;
                tp_unpack(p, i, tp_addr(r, n, i, bits), &e);
                ret = fn(&e, arg);
            }
        if (drop) {
            if (tbl_filter.on)
                for (uint32_t i = 0; i < k; i++)
                    if (p->e[i] & TP_LIVE)
                        tbl_filter_add(tp_addr(r, n, i, bits), -1);
            tp_page_free(p, k);
        }
    }
    if (drop)
        r->count = 0;
    return ret;
}

/* How: 0 locks each region, > 0 tries each lock that often (the fatal
 * path), TBL_POOL_DRAIN takes none and empties (a fork's last walk),
 * TBL_POOL_CLEAR: every lock is held already, and each region empties. */
int tbl_pool_foreach(tbl_visit_fn fn, void *arg, unsigned how)
{
    int locked = how != TBL_POOL_DRAIN && how != TBL_POOL_CLEAR;
    int drop = !locked, ret = 0;
    if (!tbl_pool_on)
        return 0;
    if (locked && !(how ? lock_take_bounded(&tp.lock, how) : (lock_take(&tp.lock), 1)))
        return -1;
    unsigned nall;
    struct tp_region **all = tp_all(&nall);
    for (unsigned k = 0; ret == 0 && k < nall; k++) {
        struct tp_region *r = all[k];
        if (locked && !(how ? lock_take_bounded(&r->lock, how) : (lock_take(&r->lock), 1))) {
            ret = -1;
            break;
        }
        if (r->hi)
            ret = tp_visit(r, fn, arg, drop);
        if (locked)
            lock_drop(&r->lock);
    }
    for (unsigned k = 0; drop && ret && k < nall; k++) /* what fn stopped at is lost */
        tp_visit(all[k], NULL, NULL, 1);
    if (locked)
        lock_drop(&tp.lock);
    return ret;
}

void tbl_pool_lock_all(void)
{
    unsigned nall;
    lock_take(&tp.lock);
    struct tp_region **all = tp_all(&nall);
    for (unsigned k = 0; k < nall; k++)
        lock_take(&all[k]->lock);
}

void tbl_pool_unlock_all(void)
{
    unsigned nall;
    struct tp_region **all = tp_all(&nall);
    for (unsigned k = nall; k-- > 0;)
        lock_drop(&all[k]->lock);
    lock_drop(&tp.lock);
}

/* Live entries: a relaxed sum, with no lock (tbl_count's contract). */
uint64_t tbl_pool_count(void)
{
    uint64_t n = 0;
    unsigned nall;
    struct tp_region **all = tp_all(&nall);
    for (unsigned k = 0; k < nall; k++)
        n += __atomic_load_n(&all[k]->count, __ATOMIC_RELAXED);
    return n;
}

/* Bytes of the regions' records and arrays (tests, tuning). */
size_t tbl_pool_bytes(void)
{
    size_t n = 0;
    unsigned bits = atomic_load(&tp.page_bits), nall;
    lock_take(&tp.lock);
    struct tp_region **all = tp_all(&nall);
    for (unsigned k = 0; k < nall; k++) {
        struct tp_region *r = all[k];
        lock_take(&r->lock);
        n += sizeof *r + (r->page ? r->npages * sizeof *r->page : 0);
        for (uint32_t j = 0; r->page && j < r->npages; j++)
            if (r->page[j].e)
                n += tp_entries(r->page[j].bsize, bits) *
                     (sizeof *r->page[j].e + (r->page[j].ep ? sizeof *r->page[j].ep : 0));
        lock_drop(&r->lock);
    }
    lock_drop(&tp.lock);
    return n;
}

/* ---------------- regions ---------------- */

/* The radix's chunk of a, its leaf made if need be (registry locked). */
static struct tp_chunk *tp_chunk_make(uintptr_t a)
{
    struct tp_chunk *_Atomic *root = tp.root;
    if (!root) {
        if (!(root = arena_map(sizeof *root << TP_ROOT_BITS)))
            return NULL;
        atomic_store_explicit(&tp.root, root, memory_order_release);
    }
    struct tp_chunk *_Atomic *slot = &root[a >> (TP_CHUNK_BITS + TP_LEAF_BITS)];
    struct tp_chunk *leaf = atomic_load_explicit(slot, memory_order_relaxed);
    if (!leaf) {
        if (!(leaf = arena_map(sizeof *leaf << TP_LEAF_BITS)))
            return NULL;
        atomic_store_explicit(slot, leaf, memory_order_release);
    }
    return &leaf[(a >> TP_CHUNK_BITS) & TP_LOW(TP_LEAF_BITS)];
}

/* Puts `to` in place of `from` in the chunks of [lo, hi): a region in
 * (from NULL), or out (to NULL: chunks without it are passed over).  -1
 * when a chunk has no room (regions overlap) or no memory. */
static int tp_chunks_set(uintptr_t lo, uintptr_t hi, struct tp_region *from, struct tp_region *to)
{
    for (uintptr_t a = lo & ~(uintptr_t)TP_LOW(TP_CHUNK_BITS); a < hi;
         a += (uintptr_t)1 << TP_CHUNK_BITS) {
        struct tp_chunk *c = to ? tp_chunk_make(a) : tp_chunk_of(a);
        int k = !c ? -1
                : atomic_load_explicit(&c->r[0], memory_order_relaxed) == from ? 0
                : atomic_load_explicit(&c->r[1], memory_order_relaxed) == from ? 1 : -1;
        if (k < 0 && to)
            return -1;
        if (k >= 0)
            atomic_store_explicit(&c->r[k], to, memory_order_release);
    }
    return 0;
}

/* A region of blocks in pages as g says (its geometry is the first
 * region's for good): 0, or -1 (its blocks go to the hash). */
int tbl_pool_add(uintptr_t lo, size_t n, const struct tbl_pool_geom *g)
{
    uintptr_t hi = lo + n;
    if (n < ((size_t)1 << TP_CHUNK_BITS) || hi < lo || (hi - 1) >> TBL_POOL_ADDR_BITS)
        return -1;
    lock_take(&tp.lock);
    int ret = -1;
    if (!tbl_pool_on)
        tp.g = *g;
    else if (memcmp(&tp.g, g, sizeof *g))
        goto out;
    struct tp_region *r = tp.unused;
    if (r) {
        tp.unused = r->next;
    } else {
        unsigned nall;
        struct tp_region **all = tp_all(&nall);
        if (nall == tp.capall) {
            unsigned cap = tp.capall ? tp.capall * 2 : 64;
            struct tp_region **grown = arena_alloc(cap * sizeof *grown);
            if (!grown)
                goto out;
            if (nall)
                memcpy(grown, all, nall * sizeof *all);
            atomic_store_explicit(&tp.all, grown, memory_order_release);
            all = grown;
            tp.capall = cap;
        }
        if (!(r = arena_alloc(sizeof *r)))
            goto out;
        all[nall] = r;
        atomic_store_explicit(&tp.nall, nall + 1, memory_order_release);
    }
    lock_take(&r->lock);
    r->lo = lo;
    r->hi = hi;
    r->count = 0;
    lock_drop(&r->lock);
    if (tp_chunks_set(lo, hi, NULL, r) != 0) {
        tp_chunks_set(lo, hi, r, NULL);
        lock_take(&r->lock);
        r->lo = r->hi = 0;
        lock_drop(&r->lock);
        r->next = tp.unused;
        tp.unused = r;
        goto out;
    }
    tbl_pool_on = 1;
    hs_rare_mark(HS_RARE_POOL, 1);
    ret = 0;
out:
    lock_drop(&tp.lock);
    return ret;
}

/* The region at lo goes, before its memory does; what it still holds goes
 * to the hash. */
void tbl_pool_drop(uintptr_t lo, size_t n)
{
    if (!tbl_pool_on)
        return;
    lock_take(&tp.lock);
    struct tp_chunk *c = tp_chunk_of(lo);
    for (int k = 0; c && k < 2; k++) {
        struct tp_region *r = atomic_load_explicit(&c->r[k], memory_order_relaxed);
        if (!r || r->lo != lo || r->hi != lo + n)
            continue;
        tp_chunks_set(lo, lo + n, r, NULL);
        lock_take(&r->lock);
        unsigned bits = atomic_load(&tp.page_bits);
        for (uint32_t j = 0; r->page && j < r->npages; j++)
            if (r->page[j].e)
                tp_page_spill(r, j, bits);
        if (r->page)
            arena_free(r->page, r->npages * sizeof *r->page);
        r->page = NULL;
        r->lo = r->hi = r->base = 0;
        r->npages = r->count = 0;
        lock_drop(&r->lock);
        r->next = tp.unused;
        tp.unused = r;
        break;
    }
    lock_drop(&tp.lock);
}
