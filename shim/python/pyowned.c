/*
 * pyowned.c - PYOWNED (hsnap_pyformat.h), the native blocks Python
 * objects own, made from the owners' array the graph leaves (pyg_build:
 * by block without an object, its owner + 1) once numpy's arrays
 * (pynumpy.c) and the other objects' fields (pyfields.c) have set theirs
 * in it.  The section is never built whole when a sink takes it: its
 * records (16 bytes a block) are streamed from the array, a few at a
 * time, so the stop holds 4 bytes a block without an object where it
 * held 16 an owned one.  State: the array and its heap, from py_types_end
 * to py_types_retain (or py_types_drop), under the snapshot lock only.
 * The array also waits out the graph's marking packed (pyo_pack).
 */
#include <string.h>

#include "inner.h"

#define PYO_BATCH 256u /* records handed to the sink at a time */

static struct {
    const struct pyg_heap *h;
    uint32_t *owner;
    uint64_t nobj, n; /* the owned blocks */
} pyo;

void pyo_make(const struct pyg_heap *h, uint64_t nobj, const struct pyg_type *ty, uint32_t nty,
              uint32_t *owner)
{
    pyo_free();
    if (!owner)
        return;
    pyo.h = h, pyo.owner = owner, pyo.nobj = nobj;
    pynp_owned(h, nobj, ty, nty, owner); /* numpy arrays' buffers */
    pyfl_owned(h, nobj, ty, owner);      /* other non-gc objects' blocks */
    uint64_t nown = PYG_OWNERS(h, nobj);
    for (uint64_t k = 0; k < nown; k++)
        pyo.n += owner[k] != 0;
}

void pyo_free(void)
{
    if (pyo.owner)
        arena_unmap(pyo.owner, PYG_OWNERS(pyo.h, pyo.nobj) * sizeof *pyo.owner);
    memset(&pyo, 0, sizeof pyo);
}

/* The records in address order, PYO_BATCH at a time, to put(arg). */
static void pyo_each(void (*put)(void *arg, const void *p, size_t n), void *arg)
{
    struct hsnap_pyowned w[PYO_BATCH];
    uint32_t k = 0;
    uint64_t ix = 0;
    for (uint64_t bj = 0; bj < pyo.h->nblk; bj++) {
        if (pyg_obj_of(pyo.h, bj) != PYG_NONE)
            continue;
        uint32_t o = pyo.owner[ix++];
        if (!o)
            continue;
        w[k++] = (struct hsnap_pyowned){pyo.h->blk[bj].addr, o - 1, 0};
        if (k == PYO_BATCH)
            put(arg, w, sizeof w), k = 0;
    }
    if (k)
        put(arg, w, k * sizeof *w);
}

static void pyo_sbuf_put(void *arg, const void *p, size_t n)
{
    sbuf_put(arg, p, n);
}

void pyo_records(struct sbuf *owned)
{
    if (!pyo.owner || !pyo.n ||
        sbuf_reserve(owned, sizeof pyo.n + pyo.n * sizeof(struct hsnap_pyowned)) != 0)
        return;
    sbuf_put(owned, &pyo.n, sizeof pyo.n);
    pyo_each(pyo_sbuf_put, owned);
}

int py_owned_stream(const struct py_owned_sink *s)
{
    if (!pyo.owner || !pyo.n)
        return 0;
    s->begin(s->arg, sizeof pyo.n + pyo.n * sizeof(struct hsnap_pyowned));
    s->put(s->arg, &pyo.n, sizeof pyo.n);
    pyo_each(s->put, s->arg);
    s->end(s->arg);
    pyo_free(); /* not held through the retained sizes' pass */
    return 1;
}

/* The owners' array packed while the graph's marking runs (pyo_pack):
 * a run of PYO_PAGE owners whose values (+ 1, 0 for none) span less than
 * 2^16 as u16 differences from the least one's - 1, the others whole. */
#define PYO_PAGE 1024u
struct pyo_opk {
    uint64_t at; /* bytes into the packed data */
    uint32_t base, wide;
};
static struct {
    struct pyo_opk *pg;
    uint8_t *data;
    uint64_t npg, bytes;
} pyo_pk;

void pyo_pack(uint32_t **owner, uint64_t cap)
{
    uint64_t npg = (cap + PYO_PAGE - 1) / PYO_PAGE, bytes = 0;
    struct pyo_opk *pg = arena_map(npg * sizeof *pg);
    if (!pg)
        return;
    for (uint64_t p = 0; p < npg; p++) {
        uint64_t a = p * PYO_PAGE, b = a + PYO_PAGE < cap ? a + PYO_PAGE : cap;
        uint32_t lo = UINT32_MAX, hi = 0;
        for (uint64_t k = a; k < b; k++)
            if ((*owner)[k])
                lo = (*owner)[k] < lo ? (*owner)[k] : lo, hi = (*owner)[k] > hi ? (*owner)[k] : hi;
        pg[p] = (struct pyo_opk){bytes, hi ? lo - 1 : 0, 0};
        pg[p].wide = hi - pg[p].base > 0xffff;
        bytes += (b - a) * (pg[p].wide ? 4 : 2);
    }
    uint8_t *d = arena_map(bytes);
    if (!d) {
        arena_unmap(pg, npg * sizeof *pg);
        return;
    }
    for (uint64_t p = 0; p < npg; p++) {
        uint64_t a = p * PYO_PAGE, b = a + PYO_PAGE < cap ? a + PYO_PAGE : cap;
        for (uint64_t k = a; k < b; k++) {
            uint32_t v = (*owner)[k];
            if (pg[p].wide) {
                memcpy(d + pg[p].at + (k - a) * 4, &v, 4);
            } else {
                uint16_t x = (uint16_t)(v ? v - pg[p].base : 0);
                memcpy(d + pg[p].at + (k - a) * 2, &x, 2);
            }
        }
    }
    arena_unmap((*owner), cap * sizeof *(*owner));
    (*owner) = NULL;
    pyo_pk.pg = pg, pyo_pk.data = d, pyo_pk.npg = npg, pyo_pk.bytes = bytes;
}

int pyo_unpack(uint32_t **owner, uint64_t cap)
{
    if (!pyo_pk.pg)
        return 0;
    if (((*owner) = arena_map(cap * sizeof *(*owner))))
        for (uint64_t p = 0; p < pyo_pk.npg; p++) {
            const struct pyo_opk *q = &pyo_pk.pg[p];
            uint64_t a = p * PYO_PAGE, b = a + PYO_PAGE < cap ? a + PYO_PAGE : cap;
            for (uint64_t k = a; k < b; k++) {
                uint16_t x;
                if (q->wide) {
                    memcpy(&(*owner)[k], pyo_pk.data + q->at + (k - a) * 4, 4);
                } else {
                    memcpy(&x, pyo_pk.data + q->at + (k - a) * 2, 2);
                    (*owner)[k] = x ? x + q->base : 0;
                }
            }
        }
    arena_unmap(pyo_pk.data, pyo_pk.bytes);
    arena_unmap(pyo_pk.pg, pyo_pk.npg * sizeof *pyo_pk.pg);
    memset(&pyo_pk, 0, sizeof pyo_pk);
    return (*owner) ? 0 : -1;
}
