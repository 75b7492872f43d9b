/*
 * pymark.c - the marking of the Python objects' graph (pyg_build's last
 * pass): from the named roots, breadth first, twice.  First by the
 * collector's rule, so that what no root and no object referenced from
 * outside reaches is garbage awaiting gc.collect(); then again with the
 * garbage left out, for the shortest path from a root to each object it
 * names (its parent), the Python roots first and the conservative scans'
 * words after.  The garbage's links round their cycles are pycycle.c's.
 */
#include <string.h>

#include "pygraph.h"
#include "pyedge.h"

/* A root of a conservative scan (pyroot_scan_range): 1. */
static uint64_t pym_root_scanned(uint32_t kind)
{
    kind &= ~PYG_EXACT;
    return kind == HSNAP_PYROOT_INTERP || kind == HSNAP_PYROOT_STATIC ||
           kind == HSNAP_PYROOT_CSTACK;
}

/* The link of the edge at place e of c, from src (a garbage object's). */
static struct hsnap_pylink pym_link(const struct pye_csr *c, uint32_t e, uint32_t src)
{
    struct pyg_edge x = {src, 0, 0, 0};
    x.dst = pye_next(c, &e, src, &x.how, &x.key);
    return pyg_link_of(&x);
}

/* A parent edge's how and key's slot in one word where they fit (a key's
 * slot takes the value's high bits, kbits of them: the value must fit in
 * the rest), and in key[] only where not: via then holds how with bit 5
 * set (a how's rank bits, 4 and 5, are 0 from pye_next), so key[]'s pages
 * are touched for those alone.  Bit 4: the slot in the word. */
#define PYM_PACKED 16u
#define PYM_APART 32u
static uint32_t pym_pack(uint32_t how, uint32_t slot, unsigned kbits, uint32_t *keyp)
{
    unsigned vbits = 32 - PYE_VALUE_SHIFT - kbits;
    if (!slot)
        return how;
    if (kbits <= 32 - PYE_VALUE_SHIFT && pye_value(how) >> vbits == 0)
        return pye_label(how) | PYM_PACKED |
               (pye_value(how) | (uint32_t)((uint64_t)slot << vbits)) << PYE_VALUE_SHIFT;
    *keyp = slot;
    return how | PYM_APART;
}
static uint32_t pym_unpack(uint32_t w, unsigned kbits, const uint32_t *keyp, uint32_t *slot)
{
    unsigned vbits = 32 - PYE_VALUE_SHIFT - kbits;
    if (w & PYM_PACKED) {
        uint32_t p = w >> PYE_VALUE_SHIFT;
        *slot = (uint32_t)((uint64_t)p >> vbits);
        return pye_label(w) | (uint32_t)(p & ((1ull << vbits) - 1)) << PYE_VALUE_SHIFT;
    }
    *slot = w & PYM_APART ? *keyp : 0;
    return w & ~PYM_APART;
}

/* Each reached object's parent edge, as via names it, kept by its
 * target, in one walk of the edges that gives them back as it goes: its
 * source into from, its how and key's slot into via (pym_pack), and its
 * parent mark set (a root's via as it was, its mark clear). */
static void pym_parent_edges(const struct pyh_heap *h, const struct pye_csr *c, uint32_t *via,
                             uint32_t *from, uint32_t *key, unsigned kbits)
{
    uint64_t dropped = 0;
    uint32_t at = 0;
    for (uint32_t v = 0; v < c->nobj; v++) {
        for (uint32_t end = at + pye_len(c, v); at < end;) {
            uint32_t e = at, how, slot, d = pye_next(c, &at, v, &how, &slot);
            struct pyh_obj *o = &h->obj[d];
            if (via[d] == e && !o->garbage && !o->parent)
                from[d] = v, via[d] = pym_pack(how, slot, kbits, &key[d]), o->parent = 1;
        }
        if ((v & 0xffff) == 0xffff)
            pyg_edge_drop(at, &dropped);
    }
}

/* A parent into parents (after its count, a u64): from, a head word
 * (the label's 4 bits; bit 4: a value follows, bit 5: a name's offset
 * follows, bit 6: the name's length follows, else it is in bits 7 up),
 * then those: 8 to 20 bytes, most 8 or 12 (an index, a key). */
static void pym_put_parent(struct sbuf *b, uint32_t from, uint32_t value, uint32_t name_off,
                           uint32_t label_len)
{
    uint32_t w[5], n = 2, len = label_len >> 4;
    w[0] = from, w[1] = label_len & 15;
    if (value)
        w[1] |= 16, w[n++] = value;
    if (name_off)
        w[1] |= 32, w[n++] = name_off;
    if (len >> 25)
        w[1] |= 64, w[n++] = len;
    else
        w[1] |= len << 7;
    sbuf_put(b, w, n * sizeof *w);
}

uint64_t pyg_mark_nparents(const struct sbuf *b)
{
    uint64_t n = 0;
    if (b->len >= sizeof n)
        memcpy(&n, b->p, sizeof n);
    return n;
}

void pyg_mark_parent_next(const struct sbuf *b, uint64_t *at, struct pyg_parent *p)
{
    uint32_t w[5], n = 2;
    if (*at < sizeof(uint64_t))
        *at = sizeof(uint64_t);
    memcpy(w, b->p + *at, 2 * sizeof *w);
    uint32_t h = w[1], more = !!(h & 16) + !!(h & 32) + !!(h & 64);
    memcpy(w + 2, b->p + *at + 2 * sizeof *w, more * sizeof *w);
    p->from = w[0];
    p->value = h & 16 ? w[n++] : 0;
    p->name_off = h & 32 ? w[n++] : 0;
    uint32_t len = h & 64 ? w[n++] : h >> 7;
    p->label_len = (h & 15) | len << 4;
    *at += n * sizeof *w;
}

/* The references found to each object (refs, saturated) and from them
 * its marks: garbage cleared, external set where its count exceeds them.
 * The collector subtracts the references its tracked objects hold: an
 * untracked one's (an opaque object's field, pyg_opaque) is a reference
 * from outside, as gc.collect() counts it. */
static void pym_external(const struct pyh_heap *h, const struct pye_csr *c, uint64_t nobj,
                         const struct pyg_root *root, uint64_t nroot, uint32_t *refs)
{
    for (uint32_t v = 0, at = 0; v < nobj; v++)
        for (uint32_t end = at + pye_len(c, v); at < end;) {
            uint32_t d = pye_dst(c, &at, v);
            refs[d] += refs[d] < UINT32_MAX && h->obj[v].tracked;
        }
    for (uint64_t r = 0; r < nroot; r++) /* a reference from outside, known */
        if (root[r].kind & PYG_EXACT)
            refs[root[r].dst] += refs[root[r].dst] < UINT32_MAX;
    for (uint64_t i = 0; i < nobj; i++) {
        struct pyh_obj *o = &h->obj[i];
        o->garbage = 0;
        /* its count exceeds the references found (an immortal's always) */
        o->external = o->tracked && (o->refcnt >= PYG_IMMORTAL || o->refcnt > refs[i]);
    }
}

/* One breadth-first walk's queue: the objects reached with edges. */
struct pym_walk {
    const struct pyh_heap *h;
    const struct pye_csr *c;
    uint32_t *via, *queue;
    uint64_t head, tail;
};

/* d reached first by the edge or root's via v: queued when it has edges. */
static void pym_reach(struct pym_walk *w, uint32_t d, uint32_t v)
{
    w->h->obj[d].reached = 1;
    w->via[d] = v;
    if (pye_len(w->c, d))
        w->queue[w->tail++] = d;
}

/* The queue walked out: each object's edges reach what was not reached. */
static void pym_flood(struct pym_walk *w)
{
    while (w->head < w->tail) {
        uint32_t v = w->queue[w->head++];
        for (uint32_t at = pye_start(w->c, v), end = at + pye_len(w->c, v); at < end;) {
            uint32_t e = at, d = pye_dst(w->c, &at, v);
            if (!w->h->obj[d].reached)
                pym_reach(w, d, e);
        }
    }
}

/* Pass pass of round round's seeds: the named roots (pass 0: the Python
 * ones, 1: the conservative scans' words; round 0 takes no C stack's),
 * or (pass 2) the objects referenced from outside, in their order. */
static void pym_seed(struct pym_walk *w, uint64_t nobj, const struct pyg_root *root,
                     uint64_t nroot, uint64_t nedge, uint64_t round, uint64_t pass)
{
    uint64_t nsrc = pass == 2 ? nobj : nroot;
    for (uint64_t r = 0; r < nsrc; r++) {
        uint32_t d = pass == 2 ? (uint32_t)r : root[r].dst;
        if (pass < 2 && (pym_root_scanned(root[r].kind) != pass || w->h->obj[d].reached ||
                         (round == 0 && (root[r].kind & ~PYG_EXACT) == HSNAP_PYROOT_CSTACK)))
            continue;
        if (w->h->obj[d].reached || (pass == 2 && !w->h->obj[d].external))
            continue;
        pym_reach(w, d, pass == 2 ? PYG_NONE : (uint32_t)(nedge + r));
    }
}

/* Twice.  First the collector's rule: what the roots and the objects
 * referenced from outside reach is alive, the tracked rest is garbage;
 * a C stack's word keeps nothing alive (a stale slot of a live C
 * frame, the eval loop's, once held a ring of lists that gc.collect()
 * frees: a C local that owns an object is in its count; static data's
 * words still do: 3.10's signal handler table held a handler whose
 * count a reference found elsewhere matched).  Then breadth first again,
 * the garbage left out, from the named roots (the Python ones, then the
 * conservative scans' words, which only name what nothing named reaches:
 * a stale word there would otherwise shorten a global's path), then from
 * the other objects referenced from outside, in their order.  via[i]:
 * the edge (a place below nedge) or root (nedge + r) that reached i. */
static void pym_rounds(struct pym_walk *w, uint64_t nobj, const struct pyg_root *root,
                       uint64_t nroot, uint64_t nedge)
{
    const struct pyh_heap *h = w->h;
    for (uint64_t round = 0; round < 2; round++) {
        w->head = w->tail = 0;
        for (uint64_t i = 0; i < nobj; i++) {
            h->obj[i].reached = h->obj[i].garbage; /* round 1: never reached */
            w->via[i] = PYG_NONE; /* refs are done with */
        }
        for (uint64_t pass = 0; pass < 3; pass++) {
            pym_seed(w, nobj, root, nroot, nedge, round, pass);
            pym_flood(w);
        }
        for (uint64_t i = 0; round == 0 && i < nobj; i++) {
            if (h->obj[i].tracked && !h->obj[i].reached)
                h->obj[i].garbage = 1; /* never reached: via[i] free */
        }
    }
}

/* Each garbage object's link (pyg_cycle_links put it in via) into links, from
 * the edge's source, searched. */
static void pym_put_links(const struct pyh_heap *h, const struct pye_csr *c, uint64_t nobj,
                          const uint32_t *via, struct sbuf *links)
{
    for (uint64_t i = 0; i < nobj; i++) {
        if (h->obj[i].garbage && via[i] != PYG_NONE) {
            struct hsnap_pylink l = pym_link(c, via[i], pye_src(c, via[i]));
            if (l.from != i) /* pyg_cycle_links': i held by l.from */
                l = (struct hsnap_pylink){(uint32_t)i, l.from, l.label | HSNAP_PYLINK_HELD,
                                          l.value, l.name_off, l.name_len};
            sbuf_put(links, &l, sizeof l);
        }
    }
}

/* Each reached object's parent into parents, after their count: a root
 * (via at or past nedge) or the edge pym_parent_edges kept; via, key and
 * from each read once more, in order, and given back as read. */
static void pym_put_parents(const struct pyh_heap *h, uint64_t nobj, const struct pyg_root *root,
                            uint64_t nedge, const uint32_t *via, const uint32_t *from,
                            const uint32_t *key, unsigned kbits, struct sbuf *parents)
{
    uint64_t dvia = 0, dkey = 0, dfrom = 0, np = 0;
    sbuf_u64(parents, 0); /* the count, set at the end */
    for (uint64_t i = 0; i < nobj; i++) {
        if ((i & 0xffff) == 0xffff) {
            pyh_drop(via, i * 4, &dvia);
            pyh_drop(key, i * 4, &dkey);
            pyh_drop(from, i * 4, &dfrom);
        }
        if (h->obj[i].garbage || via[i] == PYG_NONE) {
            continue;
        } else if (!h->obj[i].parent) {
            const struct pyg_root *r = &root[via[i] - nedge];
            pym_put_parent(parents, (uint32_t)i, r->kind & ~PYG_EXACT, r->name_off,
                           HSNAP_PYLABEL_ROOT | r->name_len << 4);
            np++;
            h->obj[i].parent = 1;
        } else {
            struct pyg_edge x = {from[i], (uint32_t)i, 0, 0};
            x.how = pym_unpack(via[i], kbits, &key[i], &x.key);
            struct hsnap_pylink l = pyg_link_of(&x);
            pym_put_parent(parents, l.from, l.value, l.name_off, l.label | l.name_len << 4);
            np++;
            h->obj[i].parent = 1;
        }
    }
    if (!parents->err)
        memcpy(parents->p, &np, sizeof np);
}

/* Marks from the roots, breadth first: each object's garbage and
 * external marks set (pym_external, pym_rounds), the garbage's links
 * (pyg_cycle_links: the CLI follows them round a cycle) and, once the edges
 * are given back, the reached objects' parents put. */
int pyg_mark(const struct pyh_heap *h, uint64_t nobj, const struct pyg_root *root, uint64_t nroot,
             struct sbuf *links, struct sbuf *parents)
{
    struct pye_csr c;
    if (pyg_edge_done(&c) != 0)
        return -1;
    if (c.nbyte >= UINT32_MAX - nroot || c.nobj != nobj) {
        pyg_edge_free_edges();
        return -1;
    }
    uint64_t nedge = c.nbyte; /* an edge is a place below, a root's via above */
    /* the references found to each (saturated), until the external
     * marks are set; then the edge that reached an object first; the
     * queue holds only objects with edges; both written nearly whole
     * (refs read first: two faults a page), so resident at once */
    uint32_t *via = arena_map_full(nobj * 4 + 4), *refs = via;
    uint32_t *queue = via ? arena_map_full(nobj * 4 + 4) : NULL;
    if (!queue) {
        if (via)
            arena_unmap(via, nobj * 4 + 4);
        pyg_edge_free_edges();
        return -1;
    }
    for (uint64_t i = 0; i < nobj; i++)
        h->obj[i].parent = 0;
    pym_external(h, &c, nobj, root, nroot, refs);
    struct pym_walk w = {h, &c, via, queue, 0, 0};
    pym_rounds(&w, nobj, root, nroot, nedge);
    pyg_cycle_links(h, &c, via); /* the garbage's links: cycles */
    pym_put_links(h, &c, nobj, via, links);
    uint32_t *from = queue, *key = arena_map(nobj * 4 + 4); /* queue: done with */
    if (!key) {
        arena_unmap(queue, nobj * 4 + 4);
        arena_unmap(via, nobj * 4 + 4);
        pyg_edge_free_edges();
        return -1;
    }
    unsigned kbits = 0; /* a slot's bits */
    while (kbits < 32 && pyg_edge_nkey() >> kbits)
        kbits++;
    pym_parent_edges(h, &c, via, from, key, kbits);
    pyg_edge_free_edges();
    pym_put_parents(h, nobj, root, nedge, via, from, key, kbits, parents);
    arena_unmap(queue, nobj * 4 + 4);
    arena_unmap(key, nobj * 4 + 4);
    arena_unmap(via, nobj * 4 + 4);
    return 0;
}

/* The two passes over the blocks read (pyg_got's arg points to one). */
