/*
 * pygraph.c - the reference graph of the Python objects at a snapshot, and
 * the collector's own rule over it: each object the gc tracks starts with
 * its ob_refcnt, loses one for every reference found to it from another
 * tracked object, and is referenced from outside (a module's globals held
 * by an object made before the domains were wrapped, a frame, C code) when
 * some count remains: a root.  What no root reaches is garbage awaiting
 * the collector, as gc.collect() would find it.
 *   The edges are what tp_traverse visits, read from the layouts: an
 * object's own block (its fields, a tuple's items, a class instance's
 * slots, pre-header and inline values), a list's ob_item[0, ob_size), a
 * dict's keys table (combined) or values array, a set's table, and the
 * values array a class instance's pre-header names (3.11, 3.12).  A word
 * is a reference when it is the exact start of a tracked object (a
 * PyGC_Head's links point at heads, never at objects).  Borrowed pointers
 * are left out: an object's pointer to itself in its own block (a frame's
 * frame_obj; but a class instance's inline values own theirs), and pointers from an object's block to weak references (its
 * weakref list); a weak reference counts its callback only.  An edge
 * missed only makes an object look referenced from outside: never garbage
 * that is not.  Blocks are read with process_vm_readv (peek.h).
 */
#include <string.h>

#include "inner.h"
#include "peek.h"

#define PYG_CHUNK 4096u          /* bytes of a block read at a time */
#define PYG_READ_MAX (64u << 20) /* bytes of one block looked at */
#define PYG_FOLLOW 4u            /* blocks an object's fields lead to */
#define PYG_IMMORTAL 0xffffffffull /* 3.12 on: such a count is an immortal's */

static struct {
    const struct pyg_heap *h;
    const struct pyg_type *ty;
    uint32_t (*edge)[2];  /* (source, target) objects */
    uint64_t nedge, capedge;
    uint8_t *seen;        /* by block: a non-object block read already */
    uint64_t lo, hi;      /* the blocks' span */
    int oom;
    char buf[PYG_CHUNK];
} g;

uint8_t pyg_kind(uintptr_t t, const char *tb, uint64_t flags)
{
    if (t == py_sym.list_type)
        return PYG_LIST;
    if (t == py_sym.dict_type)
        return PYG_DICT;
    if (t == py_sym.set_type || t == py_sym.frozenset_type)
        return PYG_SET;
    uintptr_t b = t; /* a weak reference, or a class of one (KeyedRef) */
    for (int k = 0; k < 8 && b; k++) {
        for (int i = 0; i < 3; i++)
            if (b == py_sym.weakref_type[i])
                return PYG_WEAKREF;
        if (!peek(&b, b + 256 /* tp_base */, sizeof b))
            break;
    }
    (void)tb;
    return flags & PY_TPF_HEAPTYPE ? PYG_INSTANCE : PYG_OTHER;
}

/* The block that holds address w, or PYG_NONE. */
static uint32_t pyg_find(uint64_t w)
{
    const struct pyg_block *b = g.h->blk;
    uint64_t lo = 0, hi = g.h->nblk;
    if (w < g.lo || w >= g.hi)
        return PYG_NONE;
    while (hi - lo > 1) {
        uint64_t mid = lo + (hi - lo) / 2;
        if (b[mid].addr <= w)
            lo = mid;
        else
            hi = mid;
    }
    return w >= b[lo].addr && w - b[lo].addr < b[lo].size ? (uint32_t)lo : PYG_NONE;
}

static void pyg_add(uint32_t src, uint32_t dst)
{
    if (g.nedge == g.capedge) {
        uint64_t want = g.capedge ? g.capedge * 2 : 65536;
        void *r = arena_map(want * sizeof *g.edge);
        if (!r) {
            g.oom = 1;
            return;
        }
        if (g.edge) {
            memcpy(r, g.edge, g.nedge * sizeof *g.edge);
            arena_unmap(g.edge, g.capedge * sizeof *g.edge);
        }
        g.edge = r;
        g.capedge = want;
    }
    g.edge[g.nedge][0] = src;
    g.edge[g.nedge++][1] = dst;
}

/* The words of [from, to) (addresses, within block bi) read for source
 * object src: references to tracked objects become edges.  own: the
 * words are src's own block: its weak references are borrowed, and so
 * are its references to itself when own is 1 (2: a class instance's, whose
 * inline values may hold it: counted).
 * Words in [from, fol) that point into a block holding no object are put
 * in follow[] (room for PYG_FOLLOW, *nf of them). */
static void pyg_scan(uint32_t src, uint64_t from, uint64_t to, int own, uint64_t fol,
                     uint32_t *follow, unsigned *nf)
{
    if (to - from > PYG_READ_MAX)
        to = from + PYG_READ_MAX;
    for (uint64_t at = from & ~7ull; at + 8 <= to; at += PYG_CHUNK) {
        size_t n = to - at < PYG_CHUNK ? (size_t)(to - at) & ~(size_t)7 : PYG_CHUNK;
        if (!peek(g.buf, at, n))
            return; /* freed meanwhile */
        for (size_t k = 0; k < n; k += 8) {
            uint64_t w;
            memcpy(&w, g.buf + k, 8);
            uint32_t bj = pyg_find(w);
            if (bj == PYG_NONE)
                continue;
            const struct pyg_block *b = &g.h->blk[bj];
            if (b->obj == PYG_NONE) {
                if (at + k < fol && *nf < PYG_FOLLOW && !g.seen[bj])
                    follow[(*nf)++] = bj;
                continue;
            }
            const struct pyg_obj *o = &g.h->obj[b->obj];
            if (w != b->addr + o->off || !o->tracked)
                continue;
            if (own && ((b->obj == src && own == 1) || g.ty[o->type].kind == PYG_WEAKREF))
                continue;
            pyg_add(src, b->obj);
        }
    }
}

/* The edges out of tracked object i. */
static void pyg_edges_of(uint32_t i)
{
    const struct pyg_obj *o = &g.h->obj[i];
    const struct pyg_block *b = &g.h->blk[o->blk];
    uint64_t obj = b->addr + o->off, end = b->addr + b->size, w[4] = {0};
    uint32_t follow[PYG_FOLLOW];
    unsigned nf = 0, kind = g.ty[o->type].kind;
    if (kind == PYG_WEAKREF) {
        pyg_scan(i, obj + 24, obj + 32, 0, 0, follow, &nf); /* wr_callback */
        return;
    }
    if (kind == PYG_INSTANCE) /* the pre-header (dict, values), then the object */
        pyg_scan(i, b->addr, obj - PY_GC_HEAD, 1, obj - PY_GC_HEAD, follow, &nf);
    pyg_scan(i, obj, end, kind == PYG_INSTANCE ? 2 : 1, 0, follow, &nf);
    size_t fields = end - obj < 48 ? (size_t)(end - obj - 16) & ~(size_t)7 : 32;
    if ((kind == PYG_LIST || kind == PYG_DICT || kind == PYG_SET) && end - obj >= 32 &&
        peek(w, obj + 16, fields)) {
        /* list: ob_size, ob_item; dict: ma_keys, ma_values; set: table */
        uint64_t at = kind == PYG_LIST ? w[1] : kind == PYG_SET ? w[3] : w[3] ? w[3] : w[2];
        uint32_t bj = pyg_find(at);
        if (bj == PYG_NONE || g.h->blk[bj].obj != PYG_NONE || g.seen[bj] || nf == PYG_FOLLOW)
            bj = PYG_NONE; /* none, in an object (3.13's inline values), or read */
        if (kind == PYG_LIST && bj != PYG_NONE) { /* the items in use only */
            const struct pyg_block *ib = &g.h->blk[bj];
            uint64_t stop = w[0] < ib->size / 8 ? at + 8 * w[0] : ib->addr + ib->size;
            g.seen[bj] = 1;
            pyg_scan(i, at, stop, 0, 0, follow, &nf);
            return;
        }
        if (bj != PYG_NONE)
            follow[nf++] = bj;
    }
    for (unsigned k = 0; k < nf; k++) {
        const struct pyg_block *fb = &g.h->blk[follow[k]];
        if (g.seen[follow[k]])
            continue;
        g.seen[follow[k]] = 1;
        pyg_scan(i, fb->addr, fb->addr + fb->size, 0, 0, follow, &nf);
    }
}

/* Marks from the roots: flags of out filled. */
static int pyg_mark(uint64_t nobj, struct hsnap_pyobj *out, struct sbuf *links)
{
    size_t len = (nobj + 1) * 8 + (nobj + 1) * 8 + g.nedge * 4 + nobj * 4;
    char *m = arena_map(len);
    if (!m)
        return -1;
    int64_t *refs = (int64_t *)m;
    uint64_t *start = (uint64_t *)(m + (nobj + 1) * 8);
    uint32_t *adj = (uint32_t *)(m + 2 * (nobj + 1) * 8), *stack = adj + g.nedge;
    for (uint64_t i = 0; i < nobj; i++) {
        const struct pyg_obj *o = &g.h->obj[i];
        refs[i] = !o->tracked ? 0 : o->refcnt >= PYG_IMMORTAL ? INT64_MAX / 2 : (int64_t)o->refcnt;
    }
    for (uint64_t e = 0; e < g.nedge; e++) {
        refs[g.edge[e][1]]--;
        start[g.edge[e][0] + 1]++;
    }
    for (uint64_t i = 0; i < nobj; i++)
        start[i + 1] += start[i];
    for (uint64_t e = 0; e < g.nedge; e++) /* counting sort by source */
        adj[start[g.edge[e][0]]++] = g.edge[e][1];
    for (uint64_t i = nobj; i > 0; i--)
        start[i] = start[i - 1];
    start[0] = 0;
    uint64_t sp = 0;
    for (uint64_t i = 0; i < nobj; i++) {
        const struct pyg_obj *o = &g.h->obj[i];
        out[i].flags = o->tracked ? HSNAP_PYOBJ_TRACKED : 0;
        if (o->tracked && refs[i] > 0) {
            out[i].flags |= HSNAP_PYOBJ_EXTERNAL;
            stack[sp++] = (uint32_t)i;
        }
    }
    uint8_t *reached = (uint8_t *)refs; /* refs are done with: a byte each from here */
    memset(reached, 0, nobj);
    for (uint64_t k = 0; k < sp; k++)
        reached[stack[k]] = 1;
    while (sp) {
        uint32_t v = stack[--sp];
        for (uint64_t e = start[v]; e < start[v + 1]; e++)
            if (!reached[adj[e]]) {
                reached[adj[e]] = 1;
                stack[sp++] = adj[e];
            }
    }
    for (uint64_t i = 0; i < nobj; i++)
        if ((out[i].flags & HSNAP_PYOBJ_TRACKED) && !reached[i])
            out[i].flags |= HSNAP_PYOBJ_GARBAGE;
    /* each garbage object's first reference to garbage: the CLI follows
     * them to a cycle */
    for (uint64_t i = 0; i < nobj; i++) {
        if (!(out[i].flags & HSNAP_PYOBJ_GARBAGE))
            continue;
        for (uint64_t e = start[i]; e < start[i + 1]; e++)
            if (out[adj[e]].flags & HSNAP_PYOBJ_GARBAGE) {
                struct hsnap_pylink l = {(uint32_t)i, adj[e]};
                sbuf_put(links, &l, sizeof l);
                break;
            }
    }
    arena_unmap(m, len);
    return 0;
}

int pyg_build(const struct pyg_heap *h, uint64_t nobj, const struct pyg_type *ty,
              struct hsnap_pyobj *out, struct sbuf *links)
{
    int rc = -1;
    memset(&g, 0, sizeof g);
    if (!h->want || !h->nblk || nobj >= PYG_NONE)
        return -1;
    g.h = h;
    g.ty = ty;
    g.lo = h->blk[0].addr;
    g.hi = h->blk[h->nblk - 1].addr + h->blk[h->nblk - 1].size;
    if (!(g.seen = arena_map(h->nblk)))
        return -1;
    for (uint64_t i = 0; i < nobj && !g.oom; i++)
        if (h->obj[i].tracked)
            pyg_edges_of((uint32_t)i);
    if (!g.oom)
        rc = pyg_mark(nobj, out, links);
    arena_unmap(g.seen, h->nblk);
    if (g.edge)
        arena_unmap(g.edge, g.capedge * sizeof *g.edge);
    memset(&g, 0, sizeof g);
    return rc;
}

void pyg_heap_free(struct pyg_heap *h, uint64_t capblk, uint64_t capobj)
{
    if (h->blk)
        arena_unmap(h->blk, capblk * sizeof *h->blk);
    if (h->obj)
        arena_unmap(h->obj, capobj * sizeof *h->obj);
    memset(h, 0, sizeof *h);
}
