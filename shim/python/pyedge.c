/*
 * pyedge.c - the store of the graph's edges (pyedge.h): an array of
 * 16-byte records, grown by remapping (the kernel moves the pages: never
 * resident twice), and the table of the keys the records name by slot
 * (a dict key's str, a keys object | 1).  Consecutive edges of one
 * values array, and a class's instances in address order, name the same
 * keys object: its slot is taken again rather than a new one.  State is
 * one struct, used under the snapshot lock only (pygraph.c's pyg_build).
 */
#include <string.h>

#include "inner.h"
#include "pyedge.h"

#define PYE_FIRST 65536u /* records of a first mapping */

static struct {
    struct pyg_edge *edge;
    uint64_t nedge, capedge;
    uint64_t *key;       /* slot k at key[k - 1] */
    uint64_t nkey, capkey;
} pe;

/* Room in *a (cap elements of elem bytes) for one more than n. */
static int pye_room(void **a, uint64_t n, uint64_t *cap, size_t elem)
{
    if (n < *cap)
        return 0;
    uint64_t want = *cap ? *cap * 2 : PYE_FIRST;
    void *r = *a ? arena_remap(*a, *cap * elem, want * elem) : arena_map(want * elem);
    if (!r)
        return -1;
    *a = r;
    *cap = want;
    return 0;
}

int pye_add(uint32_t src, uint32_t dst, uint32_t how, uint32_t slot)
{
    if (pe.nedge >= UINT32_MAX - 1 || pye_room((void **)&pe.edge, pe.nedge, &pe.capedge,
                                               sizeof *pe.edge) != 0)
        return -1;
    pe.edge[pe.nedge++] = (struct pyg_edge){src, dst, how, slot};
    return 0;
}

int pye_key_slot(uint64_t key, uint32_t *slot)
{
    *slot = 0;
    if (!key)
        return 0;
    if (pe.nkey && pe.key[pe.nkey - 1] == key) {
        *slot = (uint32_t)pe.nkey;
        return 0;
    }
    if (pe.nkey >= UINT32_MAX - 1 ||
        pye_room((void **)&pe.key, pe.nkey, &pe.capkey, sizeof *pe.key) != 0)
        return -1;
    pe.key[pe.nkey++] = key;
    *slot = (uint32_t)pe.nkey;
    return 0;
}

const struct pyg_edge *pye_edges(uint64_t *n)
{
    *n = pe.nedge;
    return pe.edge;
}

uint64_t pye_key(uint32_t slot)
{
    return slot && slot <= pe.nkey ? pe.key[slot - 1] : 0;
}

void pye_free_edges(void)
{
    if (pe.edge)
        arena_unmap(pe.edge, pe.capedge * sizeof *pe.edge);
    pe.edge = NULL, pe.nedge = pe.capedge = 0;
}

void pye_free(void)
{
    pye_free_edges();
    if (pe.key)
        arena_unmap(pe.key, pe.capkey * sizeof *pe.key);
    memset(&pe, 0, sizeof pe);
}

