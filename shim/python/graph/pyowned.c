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
 * The array also waits out the graph's marking packed (pyg_owned_pack).
 */
#include <string.h>

#include "pygraph.h"
#include "pyrpack.h"

#define PYO_BATCH 256u /* records handed to the sink at a time */

static struct {
    const struct pyh_heap *h;
    uint32_t *owner;
    uint64_t nobj, n; /* the owned blocks */
} pyo;

void pyg_owned_make(const struct pyh_heap *h, uint64_t nobj, const struct pyh_type *ty,
                    uint32_t nty, uint32_t *owner)
{
    pyg_owned_free();
    if (!owner) {
        pyg_fields_drop(); /* the fields the graph's walk saw, unclaimed */
        return;
    }
    pyo.h = h, pyo.owner = owner, pyo.nobj = nobj;
    pyg_numpy_owned(h, nobj, ty, nty, owner); /* numpy arrays' buffers */
    pyg_fields_owned(h, nobj, ty, owner);      /* other non-gc objects' blocks */
    uint64_t nown = PYG_OWNERS(h, nobj);
    for (uint64_t k = 0; k < nown; k++)
        pyo.n += owner[k] != 0;
}

void pyg_owned_free(void)
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
        if (pyh_obj_of(pyo.h, bj) != PYG_NONE)
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

void pyg_owned_records(struct sbuf *owned)
{
    if (!pyo.owner || !pyo.n ||
        sbuf_reserve(owned, sizeof pyo.n + pyo.n * sizeof(struct hsnap_pyowned)) != 0)
        return;
    sbuf_put(owned, &pyo.n, sizeof pyo.n);
    pyo_each(pyo_sbuf_put, owned);
}

int pyg_owned_stream(const struct sec_sink *s)
{
    if (!pyo.owner || !pyo.n)
        return 0;
    s->begin(s->arg, sizeof pyo.n + pyo.n * sizeof(struct hsnap_pyowned));
    s->put(s->arg, &pyo.n, sizeof pyo.n);
    pyo_each(s->put, s->arg);
    s->end(s->arg);
    pyg_owned_free(); /* not held through the retained sizes' pass */
    return 1;
}

/* The owners' array packed while the graph's marking runs (pyg_owned_pack):
 * each owner (+ 1; 0 for none) as 0, or as 1 + its difference from the
 * last owner before it, zigzagged, in 7-bit groups (pyvar_put's): the
 * blocks an object owns lie near it as a rule, a byte an owner. */
static struct {
    uint8_t *b;
    uint64_t len;
} pyo_pk;

static uint64_t pyo_code(uint32_t v, uint32_t last)
{
    return v ? pyvar_zig((int64_t)v - last) + 1 : 0;
}

void pyg_owned_pack(uint32_t **owner, uint64_t cap)
{
    uint64_t len = 0;
    uint8_t t[PYVAR_MAX];
    for (uint64_t k = 0, last = 0; k < cap; k++) {
        uint32_t v = (*owner)[k];
        len += pyvar_put(t, pyo_code(v, (uint32_t)last));
        last = v ? v : last;
    }
    if (len >= cap * sizeof **owner || !(pyo_pk.b = arena_map(len)))
        return;
    pyo_pk.len = len;
    for (uint64_t k = 0, at = 0, last = 0; k < cap; k++) {
        uint32_t v = (*owner)[k];
        at += pyvar_put(pyo_pk.b + at, pyo_code(v, (uint32_t)last));
        last = v ? v : last;
    }
    arena_unmap(*owner, cap * sizeof **owner);
    *owner = NULL;
}

int pyg_owned_unpack(uint32_t **owner, uint64_t cap)
{
    if (!pyo_pk.b)
        return 0;
    if ((*owner = arena_map(cap * sizeof **owner))) {
        uint64_t at = 0;
        uint32_t last = 0;
        for (uint64_t k = 0; k < cap; k++) {
            uint64_t z;
            at += pyvar_get(pyo_pk.b + at, &z);
            if (z)
                (*owner)[k] = last = (uint32_t)((int64_t)last + pyvar_unzig(z - 1));
        }
    }
    arena_unmap(pyo_pk.b, pyo_pk.len);
    memset(&pyo_pk, 0, sizeof pyo_pk);
    return *owner ? 0 : -1;
}
