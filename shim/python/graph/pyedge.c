/*
 * pyedge.c - the store of the graph's edges (pyedge.h).  A batch's edges
 * are packed as they come, in runs (one source's of one rank in a row:
 * an object's own block, the block it leads to), grown by remapping (the
 * kernel moves the pages: never resident twice) and used again by the
 * next batch; pyg_edge_flush puts the runs in the marking's order (a counting
 * sort by source, then rank, over the batch's sources only) and copies
 * them onto the edges, with each source's bytes and the starts of its
 * group.  The batch's arrays go back once every edge is packed
 * (pyg_edge_done), and a batch's bytes once they grew past a first mapping.  The table of
 * the keys the edges name by slot (a dict key's str, a keys object | 1):
 * consecutive edges of one values array, and a class's instances in
 * address order, name the same keys object, whose slot is taken again
 * rather than a new one.  State is one struct, used under the snapshot
 * lock only (pyg_build).
 */
#include <string.h>
#include <sys/mman.h>

#include "pyreads.h"
#include "pygraph.h"
#include "pyedge.h"

#define PYE_SEGS_FIRST 16384u     /* runs of a batch's first mapping */
#define PYE_BYTES_FIRST (1u << 20) /* bytes of a first mapping */

/* A run of a batch's edges: one source's, of one rank, added in a row,
 * packed at off in the batch's bytes. */
struct pye_seg {
    uint32_t src, rank;
    uint64_t off, len;
};

static struct {
    uint8_t *bb;                     /* the batch's edges, packed as added */
    uint64_t nbb, capbb;
    struct pye_seg *seg;             /* the batch's runs, as added */
    uint32_t *perm, *cnt;            /* pyg_edge_flush's: runs by place; by source */
    uint64_t nseg, capseg, capperm, capcnt;
    uint8_t *e;                      /* the packed edges */
    uint64_t nbyte, capbyte;
    uint8_t *len;                    /* by object */
    uint32_t *base;                  /* by group */
    uint32_t *lng;                   /* (object, bytes) pairs */
    uint64_t nlong, caplong;
    uint64_t nobj, done;             /* the objects; those packed */
    uint64_t *keys;                  /* slot k at keys[k - 1] */
    uint64_t nkey, capkey;
} pe;

int pyg_edge_begin(uint64_t nobj)
{
    pyg_edge_free_edges();
    pe.nobj = nobj;
    pe.len = arena_map(nobj + 1);
    pe.base = arena_map((nobj / PYE_GROUP + 2) * 4);
    return pe.len && pe.base ? 0 : -1;
}

int pyg_edge_add(uint32_t src, uint32_t dst, uint32_t how, uint32_t slot)
{
    uint32_t rank = pye_rank(how);
    if (!pe.len || src < pe.done || src >= pe.nobj ||
        pyrd_map_room((void **)&pe.bb, pe.nbb + PYE_EDGE_MAX, &pe.capbb, 1, PYE_BYTES_FIRST) != 0)
        return -1;
    struct pye_seg *last = pe.nseg ? &pe.seg[pe.nseg - 1] : NULL;
    if (!last || last->src != src || last->rank != rank) {
        if (pyrd_map_room((void **)&pe.seg, pe.nseg + 1, &pe.capseg, sizeof *pe.seg, PYE_SEGS_FIRST) != 0)
            return -1;
        last = &pe.seg[pe.nseg++];
        *last = (struct pye_seg){src, rank, pe.nbb, 0};
    }
    int64_t d = (int64_t)dst - (int64_t)src;
    uint8_t *b = pe.bb + pe.nbb;
    uint32_t n = pyvar_put(b, pyvar_zig(d));
    n += pyvar_put(b + n, (uint64_t)pye_value(how) << 5 | (slot ? 16u : 0u) | pye_label(how));
    if (slot)
        n += pyvar_put(b + n, slot);
    pe.nbb += n, last->len += n;
    return 0;
}

int pyg_edge_key_slot(uint64_t key, uint32_t *slot)
{
    *slot = 0;
    if (!key)
        return 0;
    if (pe.nkey && pe.keys[pe.nkey - 1] == key) {
        *slot = (uint32_t)pe.nkey;
        return 0;
    }
    if (pe.nkey >= UINT32_MAX - 1 ||
        pyrd_map_room((void **)&pe.keys, pe.nkey + 1, &pe.capkey, sizeof *pe.keys, 4096) != 0)
        return -1;
    pe.keys[pe.nkey++] = key;
    *slot = (uint32_t)pe.nkey;
    return 0;
}

uint64_t pyg_edge_key(uint32_t slot)
{
    return slot && slot <= pe.nkey ? pe.keys[slot - 1] : 0;
}

uint64_t pyg_edge_nkey(void)
{
    return pe.nkey;
}

/* The batch's bytes given back when they grew past a first mapping (a
 * large list's items: not held through the rest). */
static void pye_batch_reset(void)
{
    if (pe.capbb > PYE_BYTES_FIRST) {
        arena_unmap(pe.bb, pe.capbb);
        pe.bb = NULL, pe.capbb = 0;
    }
    pe.nbb = pe.nseg = 0;
}

int pyg_edge_flush(uint64_t upto)
{
    uint64_t lo = pe.done, n = upto > lo ? upto - lo : 0;
    if (!pe.len || upto > pe.nobj ||
        pyrd_map_room((void **)&pe.cnt, n + 1, &pe.capcnt, 4, 4096) != 0 ||
        pyrd_map_room((void **)&pe.perm, pe.nseg, &pe.capperm, 4, PYE_SEGS_FIRST) != 0 ||
        pyrd_map_room((void **)&pe.e, pe.nbyte + pe.nbb + 1, &pe.capbyte, 1, PYE_BYTES_FIRST) != 0 ||
        pe.nbyte + pe.nbb > PYE_BYTES_MAX)
        return -1;
    uint32_t *cnt = pe.cnt;
    memset(cnt, 0, (n + 1) * 4);
    for (uint64_t k = 0; k < pe.nseg; k++) {
        if (pe.seg[k].src >= upto)
            return -1; /* (pyg_edge_add keeps them at lo on) */
        cnt[pe.seg[k].src - lo + 1]++;
    }
    for (uint64_t s = 0; s < n; s++)
        cnt[s + 1] += cnt[s];
    for (uint32_t r = 0; r < 4; r++) /* by source, then rank: the places */
        for (uint64_t k = 0; k < pe.nseg; k++)
            if (pe.seg[k].rank == r)
                pe.perm[cnt[pe.seg[k].src - lo]++] = (uint32_t)k;
    uint64_t p = 0;
    for (uint64_t s = 0; s < n; s++) { /* cnt[s]: the end of source s's */
        uint64_t v = lo + s, b0 = pe.nbyte;
        if (v % PYE_GROUP == 0)
            pe.base[v / PYE_GROUP] = (uint32_t)pe.nbyte;
        for (; p < cnt[s]; p++) {
            const struct pye_seg *g = &pe.seg[pe.perm[p]];
            memcpy(pe.e + pe.nbyte, pe.bb + g->off, g->len);
            pe.nbyte += g->len;
        }
        uint64_t l = pe.nbyte - b0;
        pe.len[v] = (uint8_t)(l < PYE_LONG ? l : PYE_LONG);
        if (l >= PYE_LONG) {
            if (pyrd_map_room((void **)&pe.lng, 2 * pe.nlong + 2, &pe.caplong, 4, 4096) != 0)
                return -1;
            pe.lng[2 * pe.nlong] = (uint32_t)v, pe.lng[2 * pe.nlong + 1] = (uint32_t)l;
            pe.nlong++;
        }
    }
    pe.done = upto > lo ? upto : lo;
    pye_batch_reset();
    return 0;
}

/* The batch's arrays given back. */
static void pye_free_batch(void)
{
    if (pe.bb)
        arena_unmap(pe.bb, pe.capbb);
    if (pe.seg)
        arena_unmap(pe.seg, pe.capseg * sizeof *pe.seg);
    if (pe.perm)
        arena_unmap(pe.perm, pe.capperm * 4);
    if (pe.cnt)
        arena_unmap(pe.cnt, pe.capcnt * 4);
    pe.bb = NULL, pe.seg = NULL, pe.perm = NULL, pe.cnt = NULL;
    pe.nbb = pe.capbb = pe.nseg = pe.capseg = pe.capperm = pe.capcnt = 0;
}

int pyg_edge_done(struct pye_csr *c)
{
    memset(c, 0, sizeof *c);
    int rc = pyg_edge_flush(pe.nobj);
    pye_free_batch();
    if (rc != 0) {
        pyg_edge_free_edges();
        return -1;
    }
    if (!pe.e && pyrd_map_room((void **)&pe.e, 1, &pe.capbyte, 1, PYE_BYTES_FIRST) != 0) {
        pyg_edge_free_edges();
        return -1;
    }
    *c = (struct pye_csr){pe.e, pe.len, pe.base, pe.lng, pe.nlong, pe.nobj, (uint32_t)pe.nbyte};
    return 0;
}

void pyg_edge_drop(uint64_t upto, uint64_t *dropped)
{
    pyh_drop(pe.e, upto, dropped);
}

void pyg_edge_free_edges(void)
{
    pye_free_batch();
    if (pe.e)
        arena_unmap(pe.e, pe.capbyte);
    if (pe.len)
        arena_unmap(pe.len, pe.nobj + 1);
    if (pe.base)
        arena_unmap(pe.base, (pe.nobj / PYE_GROUP + 2) * 4);
    if (pe.lng)
        arena_unmap(pe.lng, pe.caplong * 4);
    pe.e = NULL, pe.len = NULL, pe.base = NULL, pe.lng = NULL;
    pe.nbyte = pe.capbyte = pe.nlong = pe.caplong = pe.nobj = pe.done = 0;
}

void pyg_edge_free(void)
{
    pyg_edge_free_edges();
    if (pe.keys)
        arena_unmap(pe.keys, pe.capkey * sizeof *pe.keys);
    memset(&pe, 0, sizeof pe);
}
