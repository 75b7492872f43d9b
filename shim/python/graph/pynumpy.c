/*
 * pynumpy.c - the native blocks a numpy array owns, added to PYOWNED
 * (top --owner) and to the retained sizes' graph as its references
 * (pyr_ref: top --retained): its data buffer when NPY_ARRAY_OWNDATA is
 * set (a view owns none) and its dimensions-and-strides block; and, to
 * the retained graph only, a view's base (an array, a bytes), so that a
 * base only views hold is dominated by them (one view: the view; views
 * in one list: the list), not a root of its own.  numpy mallocs both
 * blocks (its default PyDataMem handler, npy_alloc_cache_dim): a traced
 * block whose start the field holds; a custom handler's stays unowned.
 *   An array is an object of the static type whose tp_name is
 * "numpy.ndarray", or of a type whose tp_base chain reaches it.  Its
 * fields are PyArrayObject_fields' (the same from numpy 1.7 to 2.x): data,
 * nd, dimensions, strides, base, descr, flags after the head.  No type's
 * traversal visits them, and ndarray is no gc type (pyr_scans reads none
 * of its objects).  The fields are copied a window at a time (pyread.c),
 * types a field at a time (peek): other threads run meanwhile.
 */
#include <string.h>

#include "pylayout.h"
#include "pyreads.h"
#include "pygraph.h"
#include "peek.h"
#include "pyretain.h"

#define PYNP_NAME "numpy.ndarray"
#define PYNP_OWNDATA 0x0004u /* NPY_ARRAY_OWNDATA */
#define PYNP_DEPTH 32u       /* tp_base links followed */
#define PYNP_MAXDIMS 64      /* NPY_MAXDIMS (numpy 2; 32 before) */
#define PYNP_FIELDS 56u      /* bytes read past the head: data .. flags */

static int pynp_word(uint64_t *w, uint64_t at)
{
    return at >= 4096 && !(at & 7) && peek(w, (uintptr_t)at, sizeof *w);
}

/* Whether the type at t is numpy's own ndarray (its tp_name). */
static int pynp_is_ndarray(uint64_t t)
{
    uint64_t p;
    char s[sizeof PYNP_NAME];
    return pynp_word(&p, t + PY_TP_NAME) && p >= 4096 && peek(s, (uintptr_t)p, sizeof s) &&
           !memcmp(s, PYNP_NAME, sizeof s);
}

/* Whether the type at t is nd or derives from it (its tp_base chain). */
static int pynp_derives(uint64_t t, uint64_t nd)
{
    for (uint32_t k = 0; k < PYNP_DEPTH && t; k++) {
        if (t == nd)
            return 1;
        if (!pynp_word(&t, t + PY_TP_BASE))
            return 0;
    }
    return 0;
}

/* The type ids (of nty) that are arrays, as 1 bytes in a map of nty;
 * NULL: none (no numpy, or out of memory). */
static uint8_t *pynp_types(const struct pyh_type *ty, uint32_t nty)
{
    uint64_t nd = 0;
    int64_t basic = 0;
    for (uint32_t id = 0; id < nty && !nd; id++)
        if (!(ty[id].flags & PY_TPF_HEAPTYPE) && ty[id].item == 0 &&
            ty[id].basic >= 16 + (int64_t)PYNP_FIELDS && pynp_is_ndarray(ty[id].addr))
            nd = ty[id].addr, basic = ty[id].basic;
    uint8_t *is = nd ? arena_map(nty) : NULL;
    for (uint32_t id = 0; is && id < nty; id++)
        is[id] = ty[id].addr == nd ||
                 (ty[id].basic >= basic && ty[id].item == 0 && pynp_derives(ty[id].addr, nd));
    return is;
}

struct pynp_pass {
    const struct pyh_heap *h;
    uint32_t *owner; /* the owners' array (pyg_build's): the graph's first */
    uint64_t *mine;  /* by block without an object, a bit: an array's already */
    uint32_t added;
};

/* Array tag's fields as read (pyrd_flush; p NULL: unreadable): the blocks
 * it owns into the pass's mine. */
/* The block of the object that starts at w (a view's base: an array, a
 * bytes, any object), or PYG_NONE. */
static uint32_t pynp_object(const struct pyh_heap *h, uint64_t w)
{
    uint64_t lo = pyh_blks_upto(h, w);
    uint32_t i = lo ? pyh_obj_of(h, lo - 1) : PYG_NONE;
    if (i == PYG_NONE)
        return PYG_NONE;
    return h->blk[lo - 1].addr + h->obj[i].off == w ? (uint32_t)(lo - 1) : PYG_NONE;
}

static void pynp_got(void *arg, uint32_t tag, uint64_t aux, const char *p, uint64_t addr,
                     uint32_t len)
{
    struct pynp_pass *ps = arg;
    uint64_t data, dims, base;
    int32_t nd, flags;
    (void)aux;
    if (!p || len < PYNP_FIELDS)
        return;
    memcpy(&data, p, 8);
    memcpy(&nd, p + 8, 4);
    memcpy(&dims, p + 16, 8);
    memcpy(&flags, p + 48, 4);
    if (nd < 0 || nd > PYNP_MAXDIMS)
        return; /* no array's fields: leave it */
    memcpy(&base, p + 32, 8);
    uint32_t bb = base ? pynp_object(ps->h, base) : PYG_NONE;
    if (bb != PYG_NONE && bb != pyh_blk_of(ps->h, tag))
        pyr_ref(addr + 32, bb); /* a view's base: only views hold it, they dominate it */
    uint64_t at[2] = {flags & PYNP_OWNDATA ? data : 0, nd ? dims : 0};
    for (int k = 0; k < 2; k++) {
        uint32_t bj = at[k] ? pyh_bare_block_at(ps->h, at[k]) : PYG_NONE;
        uint64_t ix = bj != PYG_NONE ? bj - pyh_objs_below(ps->h, bj) : 0;
        if (bj == PYG_NONE || (ps->mine[ix / 64] >> (ix % 64) & 1))
            continue;
        ps->mine[ix / 64] |= 1ull << (ix % 64); /* the first array's */
        if (!ps->owner[ix]) /* the graph's blocks win (one owner a block) */
            ps->owner[ix] = tag + 1, ps->added++;
        pyr_ref(addr + (k ? 16 : 0), bj); /* the data or dimensions field */
    }
}

int pyg_numpy_owned(const struct pyh_heap *h, uint64_t nobj, const struct pyh_type *ty,
                    uint32_t nty, uint32_t *owner)
{
    uint8_t *is = h->obj && h->nblk ? pynp_types(ty, nty) : NULL;
    size_t lmine = (PYG_OWNERS(h, nobj) + 63) / 64 * 8;
    struct pynp_pass ps = {h, owner, NULL, 0};
    if (!is)
        return 0;
    for (uint64_t i = 0; i < nobj; i++) { /* the objects ascend: one read a window */
        const struct pyh_obj *o = &h->obj[i];
        if (!is[o->type])
            continue;
        if (!ps.mine) {
            if (!(ps.mine = arena_map(lmine)))
                break;
            if (pyrd_begin(pynp_got, &ps) != 0) {
                arena_unmap(ps.mine, lmine);
                ps.mine = NULL;
                break;
            }
        }
        pyrd_add(h->blk[pyh_blk_of(h, i)].addr + o->off + 16, PYNP_FIELDS, (uint32_t)i, 0); /* fits */
    }
    if (ps.mine) {
        pyrd_end();
        arena_unmap(ps.mine, lmine);
    }
    arena_unmap(is, nty);
    return (int)ps.added;
}
