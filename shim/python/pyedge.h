/*
 * pyedge.h - the graph's edges as pygraph.c keeps them (pyedge.c): 16
 * bytes an edge.  A reference's how (its label, its rank among its
 * source's, and the field's offset or the item's index) packs in one
 * word; a dict key's str or a keys object is a slot in a table of keys
 * beside the edges, which runs of a class's instances share.  Within the
 * Python room only.
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
 * nothing kept, *slot 0).  pye_edges: the edges, *n of them; pye_key:
 * the key of a slot; pye_free gives everything back. */
int pye_add(uint32_t src, uint32_t dst, uint32_t how, uint32_t slot);
int pye_key_slot(uint64_t key, uint32_t *slot);
const struct pyg_edge *pye_edges(uint64_t *n);
uint64_t pye_key(uint32_t slot);
/* The edges only (the keys kept, for the links' names). */
void pye_free_edges(void);
void pye_free(void);

#endif
