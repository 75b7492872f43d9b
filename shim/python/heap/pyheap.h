/*
 * pyheap.h - the door of shim/python/heap/: the live blocks and the
 * Python objects in them as a snapshot reads them (struct pyh_heap,
 * filled by py_types_block in the top room), and what the
 * rooms that walk them share: an object's block and a block's object by
 * rank, the walk's order, big blocks' sizes, and pages of a walked array
 * given back as it is read (pyh_drop).  heap.c holds the functions; the
 * rest is inline, read in the graph's and the retained sizes' loops.
 * pyplain.c: which words of an object hold numbers, not references.
 * Prefix: pyh_ (pyh_plain_ for pyplain.c's).
 */
#ifndef HEAPSNAP_PYHEAP_H
#define HEAPSNAP_PYHEAP_H

#include <stddef.h>
#include <stdint.h>

#include "base.h"

/* pygraph.c: the reference graph of the objects pytype.c found, at a
 * snapshot.  How a type's objects are walked: */
enum { PYG_OTHER,    /* its own block */
       PYG_LIST,     /* ... and ob_item[0, ob_size) */
       PYG_DICT,     /* ... and its keys table (combined) or values */
       PYG_SET,      /* ... and its table when it is not the small one */
       PYG_WEAKREF,  /* wr_callback only (the referent and the list are borrowed) */
       PYG_INSTANCE  /* a class's instance: its block, and the values array its
                        pre-header names (3.11, 3.12) */ };
#define PYG_NONE UINT32_MAX
struct pyh_type {          /* what the walk keeps of a type, by id */
    uint64_t flags;        /* tp_flags */
    int64_t basic, item;   /* tp_basicsize, tp_itemsize */
    uintptr_t addr;
    uint8_t kind;          /* PYG_* */
    int64_t dictoffset;    /* tp_dictoffset (3.10's instance __dict__) */
    uintptr_t cached_keys; /* a class's ht_cached_keys: its instances'
                              values arrays' names (3.11 on), or 0 */
};
struct pyh_block {         /* a live block, in address order: 8 bytes */
    uint64_t addr : 48;    /* a user address (py_types_block takes none above) */
    uint64_t size : 16;    /* bytes; PYG_BIG: in pyh_heap's big (pyh_size) */
};
#define PYG_BIG 0xffffu
#define PYG_ADDR_MAX (1ull << 48)
struct pyh_big {           /* a block of PYG_BIG bytes or more */
    uint64_t addr, size;
};
/* Which blocks hold an object, 64 blocks a word: the objects come in
 * block order (py_types_block), so a block's object is its rank among them. */
struct pyh_rank {
    uint64_t bits;         /* block 64 * word + k holds one: bit k */
    uint64_t before;       /* the objects in the blocks before the word's */
};
struct pyh_obj {             /* 8 bytes: a million objects, 8 MiB */
    uint64_t refcnt : 32;    /* ob_refcnt as read, PYG_REFCNT_MAX at most (an
                                immortal's, 3.12 on, and any larger) */
    uint64_t off : 6;        /* the object's start in its block: 0, 16 or 32 */
    uint64_t tracked : 1;    /* a gc object the collector tracks */
    uint64_t garbage : 1;    /* the collector's garbage (pyg_build's marking) */
    uint64_t external : 1;   /* referenced from outside (pyg_build's marking) */
    uint64_t reached : 1;    /* the marking's: reached from a root */
    uint64_t parent : 1;     /* the marking put its parent (struct pyg_parent) */
    uint64_t type : 21;      /* below PYG_TYPES_MAX (py_types_block gives the graph up) */
};                           /* its block: pyh_blk_of, pyh_next */
#define PYG_REFCNT_MAX 0xffffffffull
#define PYG_TYPES_MAX (1u << 21)
struct pyh_heap {          /* arena_map'd arrays, grown by py_types_block */
    struct pyh_block *blk;
    struct pyh_obj *obj;
    uint64_t nblk;
    struct pyh_big *big;   /* ascending */
    uint64_t nbig, capbig;
    struct pyh_rank *rank; /* by block / 64 (pyh_obj_of) */
    uint32_t *sel;         /* by object / 64: the block of object 64 * k */
    uint64_t nrank, caprank; /* the words whose before is set; mapped */
    uint64_t capsel;
    int want;              /* the arrays are being filled (0: given up) */
};
/* Block b's size (b in h). */
uint64_t pyh_big_size(const struct pyh_heap *h, uint64_t addr);
static inline uint64_t pyh_size(const struct pyh_heap *h, const struct pyh_block *b)
{
    return b->size != PYG_BIG ? b->size : pyh_big_size(h, b->addr);
}
/* The object block bj of h holds (its index), or PYG_NONE. */
static inline uint32_t pyh_obj_of(const struct pyh_heap *h, uint64_t bj)
{
    const struct pyh_rank *r = &h->rank[bj / 64];
    uint64_t bit = 1ull << (bj % 64);
    return r->bits & bit ? (uint32_t)(r->before + hs_popcount64(r->bits & (bit - 1)))
                         : PYG_NONE;
}
/* The objects in the blocks of h before block bj; bj less those: its
 * index among the blocks without one (when it has none). */
static inline uint64_t pyh_objs_below(const struct pyh_heap *h, uint64_t bj)
{
    const struct pyh_rank *r = &h->rank[bj / 64];
    return r->before + (uint64_t)hs_popcount64(r->bits & ((1ull << (bj % 64)) - 1));
}
/* Block bj of h holds object i: the objects come in block order, so
 * the words up to bj's have all the objects before i (pyh_rank_end:
 * nobj in all, for the words after the last object's). */
static inline void pyh_rank_set(struct pyh_heap *h, uint64_t bj, uint64_t i)
{
    for (; h->nrank <= bj / 64; h->nrank++)
        h->rank[h->nrank].before = i;
    h->rank[bj / 64].bits |= 1ull << (bj % 64);
    if (!(i % 64))
        h->sel[i / 64] = (uint32_t)bj;
}
/* The block of h's object i (< the objects): from the block of object
 * 64 * (i / 64), the words' counts, then the set bits of one word. */
static inline uint64_t pyh_blk_of(const struct pyh_heap *h, uint64_t i)
{
    uint64_t w = h->sel[i / 64] / 64;
    while (w + 1 < h->nrank && h->rank[w + 1].before <= i)
        w++;
    uint64_t bits = h->rank[w].bits;
    for (uint64_t k = i - h->rank[w].before; k; k--)
        bits &= bits - 1;
    return w * 64 + (uint64_t)__builtin_ctzll(bits);
}
/* The objects in order with their blocks: from {0, UINT64_MAX}, each
 * call sets it->i (its object's index, counted) and it->bj; 0 at the end. */
struct pyh_it {
    uint64_t n, bj; /* objects seen; the last one's block */
};
static inline int pyh_next(const struct pyh_heap *h, uint64_t nobj, struct pyh_it *it,
                           uint64_t *i)
{
    if (it->n >= nobj)
        return 0;
    uint64_t b = it->bj + 1, w = b / 64;
    uint64_t bits = w < h->nrank ? h->rank[w].bits & (~0ull << (b % 64)) : 0;
    while (!bits && ++w < h->nrank)
        bits = h->rank[w].bits;
    if (!bits)
        return 0;
    it->bj = w * 64 + (uint64_t)__builtin_ctzll(bits);
    *i = it->n++;
    return 1;
}
static inline void pyh_rank_end(struct pyh_heap *h, uint64_t nobj)
{
    for (; h->nblk && h->nrank <= (h->nblk - 1) / 64; h->nrank++)
        h->rank[h->nrank].before = nobj;
}
/* The blocks of h at or below addr: the index of the first one past it
 * (0: none starts at or below; the block addr may lie in is the one before). */
static inline uint64_t pyh_blks_upto(const struct pyh_heap *h, uint64_t addr)
{
    uint64_t lo = 0, hi = h->nblk;
    while (lo < hi) {
        uint64_t mid = lo + (hi - lo) / 2;
        if (h->blk[mid].addr <= addr)
            lo = mid + 1;
        else
            hi = mid;
    }
    return lo;
}
/* The block of h with no object that starts exactly at addr, or PYG_NONE
 * (what an object's field owns: pyg_numpy_owned's buffers, pyg_fields_owned's). */
static inline uint32_t pyh_bare_block_at(const struct pyh_heap *h, uint64_t addr)
{
    uint64_t lo = 0, hi = h->nblk;
    while (lo < hi) {
        uint64_t mid = lo + (hi - lo) / 2;
        if (h->blk[mid].addr < addr)
            lo = mid + 1;
        else
            hi = mid;
    }
    return lo < h->nblk && h->blk[lo].addr == addr && pyh_obj_of(h, lo) == PYG_NONE
               ? (uint32_t)lo : PYG_NONE;
}
/* pyplain.c: the words of an object of kind kind (its type's flags)
 * that hold a number, as bits by word from its start (the first 64). */
uint64_t pyh_plain_words(unsigned kind, uint64_t flags);
/* Whether its instances hold numbers inline (an int's or bytes' subclass);
 * then the span [*lo, *hi) bytes from the object that does, from its
 * size word (at 16) and the scan's limit max. */
int pyh_plain_inline(uint64_t flags);
void pyh_plain_inline_span(uint64_t flags, uint64_t size, uint64_t max, uint64_t *lo,
                          uint64_t *hi);
/* The arrays unmapped (capacities in elements); want cleared. */
void pyh_heap_free(struct pyh_heap *h, uint64_t capblk, uint64_t capobj);
/* The whole PYG_DROP-byte steps of arena_map'd a below byte upto given
 * back (a walk in order read them for the last time; they read as 0
 * after): *dropped, the bytes given back so far (0 at first), grows.  The
 * mapping stays, for arena_unmap. */
#define PYG_DROP (1u << 20)
void pyh_drop(const void *a, uint64_t upto, uint64_t *dropped);

#endif
