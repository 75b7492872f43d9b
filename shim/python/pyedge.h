/*
 * pyedge.h - the graph's edges as pygraph.c keeps them (pyedge.c): 16
 * bytes an edge, four words in four arrays, so that the marking's order
 * (struct pye_csr: by source, then rank) is made by moving one array at
 * a time to the places written over the sources.  A reference's how (its label,
 * its rank among its source's, and the field's offset or the item's
 * index) packs in one word; a dict key's str or a keys object is a slot
 * in a table of keys beside the edges, which runs of a class's instances
 * share.  Within the Python room only.
 */
#ifndef SHIM_PYEDGE_H
#define SHIM_PYEDGE_H

#include <stdint.h>

/* how: label (HSNAP_PYLABEL_*) in bits 0-3, rank 4-5, value 6-31.  A
 * value is an offset or an index within one read of PYG_READ_MAX bytes:
 * below 2^26 (pygraph.c checks its PYG_READ_MAX against PYE_VALUE_MAX). */
#define PYE_LABEL_BITS 4u
#define PYE_RANK_BITS 2u
#define PYE_VALUE_SHIFT (PYE_LABEL_BITS + PYE_RANK_BITS)
#define PYE_VALUE_MAX ((1u << (32 - PYE_VALUE_SHIFT)) - 1)

struct pyg_edge {
    uint32_t src, dst; /* objects */
    uint32_t how;      /* pye_how */
    uint32_t key;      /* pye_key_slot's slot: 0 none */
};

/* The edges in the marking's order: object v's are [start[v],
 * start[v + 1]), those of rank 0 first, then 1, 2, 3, each rank's in the
 * order added; an edge is named by its place here. */
struct pye_csr {
    uint32_t *start;                /* by object, nobj + 1 (the marking's
                                       to reuse once done with it) */
    const uint32_t *dst, *how, *key; /* by place */
    uint64_t nobj, nedge;
};

/* label < 16, rank < 4; a value above PYE_VALUE_MAX is kept as that. */
static inline uint32_t pye_how(uint32_t label, uint32_t rank, uint64_t value)
{
    uint32_t v = value > PYE_VALUE_MAX ? PYE_VALUE_MAX : (uint32_t)value;
    return (label & ((1u << PYE_LABEL_BITS) - 1)) |
           (rank & ((1u << PYE_RANK_BITS) - 1)) << PYE_LABEL_BITS | v << PYE_VALUE_SHIFT;
}
static inline uint32_t pye_label(uint32_t how)
{
    return how & ((1u << PYE_LABEL_BITS) - 1);
}
static inline uint32_t pye_rank(uint32_t how)
{
    return (how >> PYE_LABEL_BITS) & ((1u << PYE_RANK_BITS) - 1);
}
static inline uint32_t pye_value(uint32_t how)
{
    return how >> PYE_VALUE_SHIFT;
}

/* pyedge.c: the store, under the snapshot lock only; all of it from
 * arena_map.  pye_add: an edge; pye_key_slot: key's slot (0: key is 0;
 * the last slot again for the same key); both 0, or -1 (out of memory:
 * nothing kept, *slot 0).  pye_count: the edges; pye_edge: edge i as
 * added (before pye_sort); pye_key: the key of a slot; pye_free gives
 * everything back. */
int pye_add(uint32_t src, uint32_t dst, uint32_t how, uint32_t slot);
int pye_key_slot(uint64_t key, uint32_t *slot);
uint64_t pye_count(void);
struct pyg_edge pye_edge(uint64_t i);
uint64_t pye_key(uint32_t slot);
/* The edges of sources below nobj put in the marking's order into *c
 * (the store's own arrays, until pye_free_edges): 0, or -1 (out of
 * memory: the edges given back). */
int pye_sort(uint64_t nobj, struct pye_csr *c);
/* The source of the edge at place e of c (a search of its starts). */
static inline uint32_t pye_src(const struct pye_csr *c, uint32_t e)
{
    uint64_t lo = 0, hi = c->nobj; /* the last v with start[v] <= e */
    while (hi - lo > 1) {
        uint64_t mid = lo + (hi - lo) / 2;
        if (c->start[mid] <= e)
            lo = mid;
        else
            hi = mid;
    }
    return (uint32_t)lo;
}
/* The whole PYE_DROP-byte steps of arena_map'd a below byte upto given
 * back (a walk in order read them for the last time; they read as 0
 * after): *dropped, the bytes given back so far (0 at first), grows.  The
 * mapping stays, for arena_unmap. */
#define PYE_DROP (1u << 20)
void pye_drop(const void *a, uint64_t upto, uint64_t *dropped);
/* pye_sort's targets, hows and keys given back (its starts kept). */
void pye_free_targets(void);
/* The edges only (the keys kept, for the links' names). */
void pye_free_edges(void);
void pye_free(void);

#endif
