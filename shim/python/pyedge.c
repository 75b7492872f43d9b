/*
 * pyedge.c - the store of the graph's edges (pyedge.h): four arrays of
 * words (source, target, how, key slot), grown together by remapping
 * (the kernel moves the pages: never resident twice), and the table of
 * the keys the edges name by slot (a dict key's str, a keys object | 1).
 * Consecutive edges of one values array, and a class's instances in
 * address order, name the same keys object: its slot is taken again
 * rather than a new one.  pye_sort puts the edges in the marking's order
 * one array at a time (a counting sort by source, then rank): each
 * edge's place is written over its source, then each array is moved to
 * the places, its old pages given back as they are read (pye_drop), so
 * that no moment holds much more than the edges and their starts; the
 * marking's walks then read each source's targets in a row.  State is one struct, used
 * under the snapshot lock only (pygraph.c's pyg_build).
 */
#include <string.h>
#include <sys/mman.h>

#include "inner.h"
#include "pyedge.h"

#define PYE_FIRST 65536u /* edges of a first mapping */

static struct {
    uint32_t *src, *dst, *how, *key; /* by edge: as added; once sorted, the
                                        marking's order (src given back) */
    uint64_t nedge, capedge;
    uint64_t len[4];     /* bytes each array has mapped */
    uint32_t *start;     /* pye_sort's: by source, nstart words */
    uint64_t nstart;
    uint64_t *keys;      /* slot k at keys[k - 1] */
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

/* The four arrays grown to twice their edges. */
static int pye_grow(void)
{
    uint32_t **arr[4] = {&pe.src, &pe.dst, &pe.how, &pe.key};
    uint64_t want = pe.capedge ? pe.capedge * 2 : PYE_FIRST;
    for (int k = 0; k < 4; k++) {
        void *r = *arr[k] ? arena_remap(*arr[k], pe.len[k], want * 4) : arena_map(want * 4);
        if (!r)
            return -1;
        *arr[k] = r;
        pe.len[k] = want * 4;
    }
    pe.capedge = want;
    return 0;
}

int pye_add(uint32_t src, uint32_t dst, uint32_t how, uint32_t slot)
{
    if (pe.nedge >= UINT32_MAX - 1 || (pe.nedge == pe.capedge && pye_grow() != 0))
        return -1;
    pe.src[pe.nedge] = src, pe.dst[pe.nedge] = dst, pe.how[pe.nedge] = how;
    pe.key[pe.nedge++] = slot;
    return 0;
}

int pye_key_slot(uint64_t key, uint32_t *slot)
{
    *slot = 0;
    if (!key)
        return 0;
    if (pe.nkey && pe.keys[pe.nkey - 1] == key) {
        *slot = (uint32_t)pe.nkey;
        return 0;
    }
    if (pe.nkey >= UINT32_MAX - 1 ||
        pye_room((void **)&pe.keys, pe.nkey, &pe.capkey, sizeof *pe.keys) != 0)
        return -1;
    pe.keys[pe.nkey++] = key;
    *slot = (uint32_t)pe.nkey;
    return 0;
}

uint64_t pye_count(void)
{
    return pe.nedge;
}

struct pyg_edge pye_edge(uint64_t i)
{
    return (struct pyg_edge){pe.src[i], pe.dst[i], pe.how[i], pe.key[i]};
}

uint64_t pye_key(uint32_t slot)
{
    return slot && slot <= pe.nkey ? pe.keys[slot - 1] : 0;
}

void pye_drop(const void *a, uint64_t upto, uint64_t *dropped)
{
    uint64_t end = upto & ~(uint64_t)(PYE_DROP - 1);
    if (a && end > *dropped) {
        madvise((char *)(uintptr_t)a + *dropped, end - *dropped, MADV_DONTNEED); /* else kept */
        *dropped = end;
    }
}

/* Array k moved to the places pos gives (nedge words), the old one given
 * back as it is read; with last, pos too: 0, or -1. */
static int pye_scatter(int k, uint32_t *pos, int last)
{
    uint32_t **arr[4] = {&pe.src, &pe.dst, &pe.how, &pe.key};
    uint32_t *a = *arr[k], *n = arena_map(pe.nedge * 4);
    uint64_t da = 0, dp = 0;
    if (!n)
        return -1;
    for (uint64_t e = 0; e < pe.nedge; e++) {
        n[pos[e]] = a[e];
        if ((e & (PYE_DROP / 4 - 1)) == PYE_DROP / 4 - 1) {
            pye_drop(a, (e + 1) * 4, &da);
            if (last)
                pye_drop(pos, (e + 1) * 4, &dp);
        }
    }
    arena_unmap(a, pe.len[k]);
    *arr[k] = n;
    pe.len[k] = pe.nedge * 4;
    return 0;
}

int pye_sort(uint64_t nobj, struct pye_csr *c)
{
    uint32_t *start = arena_map((nobj + 2) * 4);
    memset(c, 0, sizeof *c);
    if (!start) {
        pye_free_edges();
        return -1;
    }
    pe.start = start, pe.nstart = nobj + 2;
    for (uint64_t e = 0; e < pe.nedge; e++)
        start[pe.src[e] + 1]++;
    for (uint64_t i = 0; i < nobj; i++)
        start[i + 1] += start[i];
    /* a counting sort by source, then rank: each edge's place put over
     * its source, then each array moved there */
    uint32_t *pos = pe.src;
    for (uint32_t k = 0; k < 4; k++)
        for (uint64_t e = 0; e < pe.nedge; e++)
            if (pye_rank(pe.how[e]) == k)
                pos[e] = start[pos[e]]++;
    for (uint64_t i = nobj; i > 0; i--)
        start[i] = start[i - 1];
    start[0] = 0;
    int rc = 0;
    for (int k = 1; k < 4 && rc == 0 && pe.nedge; k++)
        rc = pye_scatter(k, pos, k == 3);
    if (pe.src)
        arena_unmap(pe.src, pe.len[0]);
    pe.src = NULL, pe.len[0] = 0;
    if (rc != 0) {
        pye_free_edges();
        return -1;
    }
    *c = (struct pye_csr){start, pe.dst, pe.how, pe.key, nobj, pe.nedge};
    return 0;
}

void pye_free_targets(void)
{
    uint32_t **arr[4] = {&pe.src, &pe.dst, &pe.how, &pe.key};
    for (int k = 1; k < 4; k++) {
        if (*arr[k])
            arena_unmap(*arr[k], pe.len[k]);
        *arr[k] = NULL, pe.len[k] = 0;
    }
}

void pye_free_edges(void)
{
    uint32_t **arr[4] = {&pe.src, &pe.dst, &pe.how, &pe.key};
    for (int k = 0; k < 4; k++) {
        if (*arr[k])
            arena_unmap(*arr[k], pe.len[k]);
        *arr[k] = NULL, pe.len[k] = 0;
    }
    if (pe.start)
        arena_unmap(pe.start, pe.nstart * 4);
    pe.start = NULL, pe.nstart = 0;
    pe.nedge = pe.capedge = 0;
}

void pye_free(void)
{
    pye_free_edges();
    if (pe.keys)
        arena_unmap(pe.keys, pe.capkey * sizeof *pe.keys);
    memset(&pe, 0, sizeof pe);
}
