/*
 * pymark.c - the marking of the Python objects' graph (pyg_build's last
 * pass): from the named roots, breadth first, twice.  First by the
 * collector's rule, so that what no root and no object referenced from
 * outside reaches is garbage awaiting gc.collect(); then again with the
 * garbage left out, for the shortest path from a root to each object it
 * names (its parent), the Python roots first and the conservative scans'
 * words after.  The garbage's links round their cycles are pycycle.c's.
 */
#include "inner.h"
#include "pyedge.h"

/* A root of a conservative scan (pyroots.c's pyroot_scan_range): 1. */
static uint64_t pym_root_scanned(uint32_t kind)
{
    kind &= ~PYG_EXACT;
    return kind == HSNAP_PYROOT_INTERP || kind == HSNAP_PYROOT_STATIC ||
           kind == HSNAP_PYROOT_CSTACK;
}

/* Marks from the roots, breadth first: each object's garbage and
 * external marks set, the garbage's links and the reached objects'
 * parents put (once the marking's arrays are given back, but for via). */
int pym_mark(const struct pyg_heap *h, uint64_t nobj, const struct pyg_root *root, uint64_t nroot,
             struct sbuf *links, struct sbuf *parents)
{
    uint64_t nedge;
    const struct pyg_edge *edge = pye_edges(&nedge);
    size_t len = (nobj + 2) * 4 + nedge * 4 + nobj * 4;
    char *m = nedge < UINT32_MAX ? arena_map(len) : NULL; /* edges: u32 indices */
    /* the references found to each (saturated), until the external
     * marks are set; then the edge that reached an object first, a
     * garbage object's link to garbage (pyc_links: the CLI follows them
     * round a cycle) */
    uint32_t *via = m ? arena_map(nobj * 4 + 4) : NULL, *refs = via;
    if (!via) {
        arena_unmap(m, len);
        return -1;
    }
    uint32_t *start = (uint32_t *)m;
    uint32_t *adj = start + nobj + 2, *queue = adj + nedge;
    for (uint64_t i = 0; i < nobj; i++)
        h->obj[i].parent = 0;
    for (uint64_t e = 0; e < nedge; e++) {
        refs[edge[e].dst] += refs[edge[e].dst] < UINT32_MAX;
        start[edge[e].src + 1]++;
    }
    for (uint64_t r = 0; r < nroot; r++) /* a reference from outside, known */
        if (root[r].kind & PYG_EXACT)
            refs[root[r].dst] += refs[root[r].dst] < UINT32_MAX;
    for (uint64_t i = 0; i < nobj; i++)
        start[i + 1] += start[i];
    /* counting sort by source, then rank: edge indices (moving the
     * edges themselves in place instead, a random swap each, cost more
     * time than the index array's memory is worth) */
    for (uint32_t k = 0; k < 3; k++)
        for (uint64_t e = 0; e < nedge; e++)
            if (pye_rank(edge[e].how) == k)
                adj[start[edge[e].src]++] = (uint32_t)e;
    for (uint64_t i = nobj; i > 0; i--)
        start[i] = start[i - 1];
    start[0] = 0;
    for (uint64_t i = 0; i < nobj; i++) {
        struct pyg_obj *o = &h->obj[i];
        o->garbage = 0;
        /* its count exceeds the references found (an immortal's always) */
        o->external = o->tracked && (o->refcnt >= PYG_IMMORTAL || o->refcnt > refs[i]);
    }
    /* Twice.  First the collector's rule: what the roots and the objects
     * referenced from outside reach is alive, the tracked rest is garbage;
     * a C stack's word keeps nothing alive (a stale slot of a live C
     * frame, the eval loop's, once held a ring of lists that gc.collect()
     * frees: a C local that owns an object is in its count; static data's
     * words still do: 3.10's signal handler table held a handler whose
     * count a reference found elsewhere matched).  Then breadth
     * first again, the garbage left out, from the
     * named roots (the Python ones, then the conservative scans' words,
     * which only name what nothing named reaches: a stale word there would
     * otherwise shorten a global's path), then from the other objects
     * referenced from outside, in their order. */
    uint64_t head = 0, tail = 0;
    for (uint64_t round = 0; round < 2; round++) {
        head = tail = 0;
        for (uint64_t i = 0; i < nobj; i++) {
            h->obj[i].reached = h->obj[i].garbage; /* round 1: never reached */
            via[i] = PYG_NONE; /* refs are done with */
        }
        for (uint64_t pass = 0; pass < 3; pass++) {
            uint64_t nsrc = pass == 2 ? nobj : nroot;
            for (uint64_t r = 0; r < nsrc; r++) {
                uint32_t d = pass == 2 ? (uint32_t)r : root[r].dst;
                if (pass < 2 && (pym_root_scanned(root[r].kind) != pass || h->obj[d].reached ||
                                 (round == 0 && (root[r].kind & ~PYG_EXACT) == HSNAP_PYROOT_CSTACK)))
                    continue;
                if (h->obj[d].reached || (pass == 2 && !h->obj[d].external))
                    continue;
                h->obj[d].reached = 1;
                via[d] = pass == 2 ? PYG_NONE : (uint32_t)(nedge + r);
                queue[tail++] = d;
            }
            while (head < tail) {
                uint32_t v = queue[head++];
                for (uint64_t e = start[v]; e < start[v + 1]; e++) {
                    uint32_t d = edge[adj[e]].dst;
                    if (!h->obj[d].reached) {
                        h->obj[d].reached = 1;
                        via[d] = adj[e];
                        queue[tail++] = d;
                    }
                }
            }
        }
        for (uint64_t i = 0; round == 0 && i < nobj; i++) {
            if (h->obj[i].tracked && !h->obj[i].reached)
                h->obj[i].garbage = 1; /* never reached: via[i] free */
        }
    }
    pyc_links(h, nobj, edge, start, adj, via); /* the garbage's links: cycles */
    arena_unmap(m, len);
    for (uint64_t i = 0; i < nobj; i++) {
        if (h->obj[i].garbage) {
            if (via[i] != PYG_NONE) {
                struct hsnap_pylink l = pyg_link_of(&edge[via[i]]);
                if (l.from != i) /* pyc_links': i held by l.from */
                    l = (struct hsnap_pylink){(uint32_t)i, l.from, l.label | HSNAP_PYLINK_HELD,
                                              l.value, l.name_off, l.name_len};
                sbuf_put(links, &l, sizeof l);
            }
        } else if (via[i] != PYG_NONE && via[i] >= nedge) {
            const struct pyg_root *r = &root[via[i] - nedge];
            struct pyg_parent p = {(uint32_t)i, r->kind & ~PYG_EXACT, r->name_off,
                                   HSNAP_PYLABEL_ROOT | r->name_len << 4};
            sbuf_put(parents, &p, sizeof p);
            h->obj[i].parent = 1;
        } else if (via[i] != PYG_NONE) {
            struct hsnap_pylink l = pyg_link_of(&edge[via[i]]);
            struct pyg_parent p = {l.from, l.value, l.name_off, l.label | l.name_len << 4};
            sbuf_put(parents, &p, sizeof p);
            h->obj[i].parent = 1;
        }
    }
    arena_unmap(via, nobj * 4 + 4);
    return 0;
}

/* The two passes over the blocks read (pyg_got's arg points to one). */
