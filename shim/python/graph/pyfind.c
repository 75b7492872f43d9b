/*
 * pyfind.c - the live block that holds an address, for the graph's walk
 * (pygraph.c), which asks it of every word it reads.  A binary search of
 * all the blocks took a cache miss a level; here a table by page (open
 * addressing, by page number) gives the blocks of the address's page,
 * [lo, hi) of the array, searched alone.  A block larger than PYF_BIG is
 * in no page's entry but in a short list of its own, searched when the
 * page has none that holds the address: the table stays as small as the
 * heap's pages.  Without the table (out of memory), the whole array is
 * searched.  State is one struct, used under the snapshot lock only.
 */
#include <string.h>

#include "pygraph.h"

#define PYF_PAGE 12u          /* log2 of a page's bytes */
#define PYF_BIG (64u << 10)   /* a block this large is in the big list */

struct pyf_slot {
    uint64_t page;            /* page number + 1; 0: an empty slot */
    uint32_t lo, hi;          /* the blocks that meet the page */
};

static struct {
    const struct pyh_heap *h;
    const struct pyh_block *b;
    uint64_t n, lo, hi;       /* blocks; the span they cover */
    struct pyf_slot *slot;
    uint64_t mask;            /* slots - 1 */
    uint32_t *big;            /* indices of the big blocks, ascending */
    uint64_t nbig;
    uint64_t biglo, bighi;    /* the span the big blocks cover */
    uint64_t amask;           /* the blocks' starts' low four bits, or'ed */
} f;

static inline uint64_t pyf_hash(uint64_t page)
{
    return (page * 0x9e3779b97f4a7c15ull) >> 20;
}

/* The block in [lo, hi) of the array that holds w, or PYG_NONE.  A page's
 * blocks are often evenly spaced (a pymalloc pool's): the place guessed
 * from w's distance into the range is tried first, then its neighbour,
 * before the binary search of what is left (a cache miss a level). */
static uint32_t pyf_search(uint64_t w, uint64_t lo, uint64_t hi)
{
    const struct pyh_block *b = f.b;
    if (lo >= hi || w < b[lo].addr)
        return PYG_NONE;
    uint64_t span = b[hi - 1].addr - b[lo].addr;
    if (hi - lo > 4 && w <= b[hi - 1].addr && span < (1ull << 32)) {
        uint64_t k = lo + (w - b[lo].addr) * (hi - 1 - lo) / span;
        if (b[k].addr <= w) {
            lo = k; /* k < hi - 1 here, or w is the last's: the answer is k on */
            if (k + 1 < hi && b[k + 1].addr > w)
                hi = k + 1;
        } else {
            hi = k; /* k > lo */
            if (b[k - 1].addr <= w)
                lo = k - 1;
        }
    }
    while (hi - lo > 1) {
        uint64_t mid = lo + (hi - lo) / 2;
        if (b[mid].addr <= w)
            lo = mid;
        else
            hi = mid;
    }
    return w - b[lo].addr < pyh_size(f.h, &b[lo]) ? (uint32_t)lo : PYG_NONE;
}

void pyg_find_free(void)
{
    if (f.slot)
        arena_unmap(f.slot, (f.mask + 1) * sizeof *f.slot);
    if (f.big)
        arena_unmap(f.big, f.nbig * sizeof *f.big);
    memset(&f, 0, sizeof f);
}

void pyg_find_build(const struct pyh_heap *h)
{
    pyg_find_free();
    f.h = h, f.b = h->blk, f.n = h->nblk;
    if (!f.n)
        return;
    f.lo = h->blk[0].addr;
    f.hi = h->blk[f.n - 1].addr + pyh_size(h, &h->blk[f.n - 1]);
    uint64_t pages = 0, last = 0, nbig = 0;
    for (uint64_t i = 0; i < f.n; i++) { /* the pages met, counted once: in order */
        const struct pyh_block *b = &f.b[i];
        uint64_t size = pyh_size(h, b);
        f.amask |= b->addr & 15;
        if (size > PYF_BIG) {
            nbig++;
            continue;
        }
        uint64_t p0 = (b->addr >> PYF_PAGE) + 1, p1 = ((b->addr + size - 1) >> PYF_PAGE) + 1;
        pages += p1 - (p0 > last ? p0 : last + 1) + 1;
        last = p1;
    }
    uint64_t slots = 1024;
    while (slots < 2 * pages)
        slots *= 2;
    if (!(f.slot = arena_map(slots * sizeof *f.slot)) ||
        (nbig && !(f.big = arena_map(nbig * sizeof *f.big)))) {
        uint64_t amask = f.amask;
        pyg_find_free();
        f.h = h, f.b = h->blk, f.n = h->nblk, f.lo = h->blk[0].addr, f.amask = amask;
        f.hi = h->blk[f.n - 1].addr + pyh_size(h, &h->blk[f.n - 1]);
        return; /* the whole array searched */
    }
    f.mask = slots - 1;
    struct pyf_slot *s = NULL;
    for (uint64_t i = 0; i < f.n; i++) {
        const struct pyh_block *b = &f.b[i];
        uint64_t size = pyh_size(h, b);
        if (size > PYF_BIG) {
            if (!f.nbig)
                f.biglo = b->addr;
            f.big[f.nbig++] = (uint32_t)i;
            f.bighi = b->addr + size;
            continue;
        }
        uint64_t p1 = ((b->addr + size - 1) >> PYF_PAGE) + 1;
        for (uint64_t p = (b->addr >> PYF_PAGE) + 1; p <= p1; p++) {
            if (!s || s->page != p) { /* a page not met before: blocks come in order */
                uint64_t k = pyf_hash(p) & f.mask;
                while (f.slot[k].page)
                    k = (k + 1) & f.mask;
                s = &f.slot[k];
                *s = (struct pyf_slot){p, (uint32_t)i, (uint32_t)i};
            }
            s->hi = (uint32_t)i + 1;
        }
    }
}

/* pyg_find's, inlined into its loops. */
static inline __attribute__((always_inline)) uint32_t pyf_lookup(uint64_t w)
{
    if (w < f.lo || w >= f.hi)
        return PYG_NONE;
    if (!f.slot)
        return pyf_search(w, 0, f.n);
    uint64_t p = (w >> PYF_PAGE) + 1;
    for (uint64_t k = pyf_hash(p) & f.mask; f.slot[k].page; k = (k + 1) & f.mask)
        if (f.slot[k].page == p) {
            uint32_t bj = pyf_search(w, f.slot[k].lo, f.slot[k].hi);
            if (bj != PYG_NONE)
                return bj;
            break;
        }
    if (w < f.biglo || w >= f.bighi) /* (none: both 0) */
        return PYG_NONE;
    uint64_t lo = 0, hi = f.nbig; /* the big blocks */
    while (hi - lo > 1) {
        uint64_t mid = lo + (hi - lo) / 2;
        if (f.b[f.big[mid]].addr <= w)
            lo = mid;
        else
            hi = mid;
    }
    return w - f.b[f.big[lo]].addr < pyh_size(f.h, &f.b[f.big[lo]]) ? f.big[lo] : PYG_NONE;
}

uint32_t pyg_find(uint64_t w)
{
    return pyf_lookup(w);
}

size_t pyg_find_starts(const uint64_t *w, size_t n, uint32_t *at, uint32_t *bj)
{
    /* an object starts 0, 16 or 32 bytes into its block: with every block
     * 16-aligned, a word that is not is no object's start */
    uint64_t odd = f.amask ? 0 : 15;
    size_t m = 0;
    for (size_t i = 0; i < n; i++) {
        uint32_t b = (w[i] & odd) ? PYG_NONE : pyf_lookup(w[i]);
        if (b != PYG_NONE)
            at[m] = (uint32_t)i, bj[m++] = b;
    }
    return m;
}
