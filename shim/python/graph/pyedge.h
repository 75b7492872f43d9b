/*
 * pyedge.h - the graph's edges as pygraph.c keeps them (pyedge.c).  They
 * come a batch of sources at a time (pygraph.c reads a batch of objects,
 * then the blocks they lead to), 16 bytes an edge in four arrays, and
 * each batch is put in the marking's order (by source, then rank) and
 * packed onto the edges before it: an edge is its target's difference
 * from its source, zigzagged, then its how (label, value, whether a key
 * follows), then its key's slot, each in 7-bit groups (LEB128).  An
 * object's edges are found by the bytes they take (one byte an object,
 * the long ones apart) and the starts of every PYE_GROUP objects.  A
 * reference's how packs in one word (its label, its rank among its
 * source's, and the field's offset or the item's index); a dict key's str
 * or a keys object is a slot in a table of keys beside the edges, which
 * runs of a class's instances share.  Within the Python room only.
 */
#ifndef SHIM_PYEDGE_H
#define SHIM_PYEDGE_H

#include <stdint.h>

#include "pyvar.h"

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
    uint32_t key;      /* pyg_edge_key_slot's slot: 0 none */
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

#define PYE_GROUP 16u   /* objects a start is kept for */
#define PYE_LONG 255u   /* an object's bytes: in the long ones */
#define PYE_EDGE_MAX 15u /* bytes an edge takes at most */

/* The edges packed in the marking's order: object v's take pye_len(c, v)
 * bytes of e from pye_start(c, v), those of rank 0 first, then 1, 2, 3,
 * each rank's in the order added; an edge is named by the place of its
 * first byte in e (below nbyte). */
struct pye_csr {
    const uint8_t *e;
    const uint8_t *len;    /* by object: its edges' bytes (PYE_LONG: in lng) */
    const uint32_t *base;  /* by PYE_GROUP objects: the first one's start */
    const uint32_t *lng;   /* (object, bytes) of the long ones, ascending */
    uint64_t nlong, nobj;
    uint32_t nbyte;
};

/* The bytes of object v's edges. */
static inline uint32_t pye_len(const struct pye_csr *c, uint32_t v)
{
    uint32_t l = c->len[v];
    if (l < PYE_LONG)
        return l;
    uint64_t lo = 0, hi = c->nlong;
    while (hi - lo > 1) {
        uint64_t mid = lo + (hi - lo) / 2;
        if (c->lng[2 * mid] <= v)
            lo = mid;
        else
            hi = mid;
    }
    return c->lng[2 * lo + 1];
}
/* Where object v's edges start. */
static inline uint32_t pye_start(const struct pye_csr *c, uint32_t v)
{
    uint32_t s = c->base[v / PYE_GROUP];
    for (uint32_t u = v & ~(PYE_GROUP - 1); u < v; u++)
        s += pye_len(c, u);
    return s;
}
static inline uint64_t pye_var(const uint8_t *e, uint32_t *at)
{
    uint64_t v;
    *at += pyvar_get(e + *at, &v);
    return v;
}
/* The edge at *at, of source src: its target, its how (rank 0) into
 * *how and its key's slot into *key; *at past it. */
static inline uint32_t pye_next(const struct pye_csr *c, uint32_t *at, uint32_t src,
                                uint32_t *how, uint32_t *key)
{
    uint64_t z = pye_var(c->e, at);
    uint32_t dst = (uint32_t)((int64_t)src + pyvar_unzig(z));
    uint64_t h = pye_var(c->e, at);
    *how = (uint32_t)(h & 15) | (uint32_t)(h >> 5) << PYE_VALUE_SHIFT;
    *key = h & 16 ? (uint32_t)pye_var(c->e, at) : 0;
    return dst;
}
/* The target only. */
static inline uint32_t pye_dst(const struct pye_csr *c, uint32_t *at, uint32_t src)
{
    uint32_t how, key;
    return pye_next(c, at, src, &how, &key);
}
/* The source of the edge at e (a search of the starts). */
static inline uint32_t pye_src(const struct pye_csr *c, uint32_t e)
{
    uint64_t lo = 0, hi = (c->nobj + PYE_GROUP - 1) / PYE_GROUP; /* the last group starting <= e */
    while (hi - lo > 1) {
        uint64_t mid = lo + (hi - lo) / 2;
        if (c->base[mid] <= e)
            lo = mid;
        else
            hi = mid;
    }
    uint32_t v = (uint32_t)(lo * PYE_GROUP), s = c->base[lo];
    for (; v + 1 < c->nobj; v++) {
        s += pye_len(c, v);
        if (e < s)
            break;
    }
    return v;
}

/* pyedge.c: the store, under the snapshot lock only; all of it from
 * arena_map.  pyg_edge_begin: for nobj objects' edges, 0 or -1; pyg_edge_add: an
 * edge (its source not below the last pyg_edge_flush's upto); pyg_edge_key_slot:
 * key's slot (0: key is 0; the last slot again for the same key); both
 * 0, or -1 (out of memory: nothing kept, *slot 0).  pyg_edge_flush: the
 * edges added so far, of sources below upto, packed; 0, or -1 (out of
 * memory, or more than PYE_BYTES_MAX bytes).  pyg_edge_key: the key of a
 * slot. */
#define PYE_BYTES_MAX 0xf0000000u
int pyg_edge_begin(uint64_t nobj);
int pyg_edge_add(uint32_t src, uint32_t dst, uint32_t how, uint32_t slot);
int pyg_edge_key_slot(uint64_t key, uint32_t *slot);
int pyg_edge_flush(uint64_t upto);
uint64_t pyg_edge_key(uint32_t slot);
/* The slots taken (the highest slot). */
uint64_t pyg_edge_nkey(void);
/* Every object's edges packed (the rest flushed), in *c (the store's own
 * arrays, until pyg_edge_free_edges): 0, or -1 (out of memory: the edges
 * given back). */
int pyg_edge_done(struct pye_csr *c);
/* The packed edges' bytes given back as pyh_drop does (upto: a place). */
void pyg_edge_drop(uint64_t upto, uint64_t *dropped);
/* The edges only (the keys kept, for the links' names). */
void pyg_edge_free_edges(void);
void pyg_edge_free(void);

#endif
