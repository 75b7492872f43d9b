/*
 * pyfields.c - the native blocks an object holds by one of its fields,
 * for a type the collector does not know (no Py_TPFLAGS_HAVE_GC: a
 * hashlib object, a Decimal before 3.13, a capsule, 3.10's code objects)
 * added to PYOWNED (top --owner) and to the retained sizes' graph
 * (pyr_ref: the object dominates what only it holds, top --retained;
 * pygraph.c's walk reads only gc objects, so such a block was a root),
 * and for a gc type whose blocks the graph does not follow (an
 * array.array's buffer, 3.13's Decimal's coefficient: retained already)
 * added to PYOWNED.
 *   A field is a word of [16, tp_basicsize) past the object's head; it
 * owns a block when it holds the block's exact start (a C structure's
 * pointer to what it allocated), the block holds no object, and no other
 * owner has it (the graph's, numpy's: pyg_numpy_owned runs first, then the
 * first object in address order), set in the owners' array (pyowned.c
 * makes PYOWNED from it).  The atomic types (int, bytes, str: their
 * words are numbers or text) and those of one word (float) are not
 * read.  The graph's walk copies the fields as it copies the objects'
 * blocks (pyg_fields_see: one read of the heap where there were two), and keeps
 * the words that start a block without an object, in the objects'
 * ascending order; pyg_fields_owned then claims them, once the graph and numpy
 * have claimed theirs.  Without that walk the fields are copied here, a
 * window at a time (pyread.c).  State: one struct, from pyg_fields_begin to
 * pyg_fields_owned (or pyg_fields_drop), under the snapshot lock only.
 */
#include <string.h>

#include "pylayout.h"
#include "pyreads.h"
#include "pygraph.h"
#include "pyretain.h"

#define PYFL_ATOMIC ((1ull << 24) | (1ull << 27) | (1ull << 28)) /* int, bytes, str */
#define PYFL_FIELDS 4096 /* tp_basicsize read at most */

/* Whether objects of type t are read: no atomic type, more than one
 * word past the head, and of a gc type only one whose blocks the graph
 * does not follow (an array.array, 3.13's Decimal: an extension's heap
 * type reads as an instance, whose values the graph owned first; a
 * list's, a dict's or a set's blocks are the graph's). */
static int pyfl_reads(const struct pyh_type *t)
{
    return !(t->flags & PYFL_ATOMIC) && t->basic > 24 && t->basic <= PYFL_FIELDS &&
           (!(t->flags & PY_TPF_HAVE_GC) || t->kind == PYG_OTHER || t->kind == PYG_INSTANCE);
}

/* A block without an object, by its start (open addressing, at most
 * half full): a field's word is looked up in a table of the few such
 * blocks (a tenth of a Python heap's) rather than searched for among
 * all of them, a cache miss a level, for each word of each object. */
struct pyfl_bare {
    uint64_t addr;   /* 0: an empty slot */
    uint32_t bj, k;  /* the block, and its index among those without one */
};

struct pyfl_pass {
    const struct pyh_heap *h;
    uint32_t *owner; /* the owners' array (pyg_build's): by block without an
                        object, its owner + 1; 0: none yet */
    uint32_t added;
    struct pyfl_bare *bare; /* NULL: the blocks searched (out of memory) */
    uint64_t mask;          /* its slots - 1 */
};

/* A field's word that starts a block without an object, as the graph's
 * walk met it: claimed by pyg_fields_owned if no one else has the block. */
struct pyfl_hit {
    uint64_t at;      /* the word's address */
    uint32_t obj, bj; /* the object whose field it is; the block */
};

static struct {
    const struct pyh_heap *h;
    const struct pyh_type *ty;
    struct pyfl_hit *hit;
    uint64_t nhit, caphit;
    uint32_t *empty;      /* the blocks of no bytes without an object, in
                             address order: no address is in one (pyg_find) */
    uint64_t nempty, capempty;
    int on;               /* pyg_fields_begin's, while every hit is kept */
} fl;

static inline uint64_t pyfl_slot(const struct pyfl_pass *ps, uint64_t addr)
{
    return (addr * 0x9e3779b97f4a7c15ull) >> 24 & ps->mask;
}

/* The table of h's blocks without an object (nbare of them); 0, or -1. */
static int pyfl_bare_make(struct pyfl_pass *ps, uint64_t nbare)
{
    uint64_t slots = 64;
    while (slots < 2 * nbare)
        slots *= 2;
    if (!(ps->bare = arena_map_full(slots * sizeof *ps->bare))) /* at most half full */
        return -1;
    ps->mask = slots - 1;
    for (uint64_t bj = 0, k = 0; bj < ps->h->nblk; bj++) {
        if (pyh_obj_of(ps->h, bj) != PYG_NONE)
            continue;
        uint64_t addr = ps->h->blk[bj].addr, s = pyfl_slot(ps, addr);
        while (ps->bare[s].addr)
            s = (s + 1) & ps->mask;
        ps->bare[s] = (struct pyfl_bare){addr, (uint32_t)bj, (uint32_t)k++};
    }
    return 0;
}

/* The owner's entry of the block without an object that starts at w, and
 * that block in *bj; NULL when none does. */
static uint32_t *pyfl_owner_at(const struct pyfl_pass *ps, uint64_t w, uint32_t *bj)
{
    if (!ps->bare) {
        *bj = pyh_bare_block_at(ps->h, w);
        return *bj != PYG_NONE ? &ps->owner[*bj - pyh_objs_below(ps->h, *bj)] : NULL;
    }
    for (uint64_t s = pyfl_slot(ps, w); ps->bare[s].addr; s = (s + 1) & ps->mask)
        if (ps->bare[s].addr == w)
            return *bj = ps->bare[s].bj, &ps->owner[ps->bare[s].k];
    return NULL;
}

/* Object i's claim on the block without an object bj (own its owner's
 * entry) by its field at: set when no one has it; a non-gc type's is the
 * retained sizes' edge too (a gc type's, the graph's: pyr_ref). */
static void pyfl_claim(uint32_t *added, uint32_t i, uint64_t at, uint32_t bj, uint32_t *own,
                       int gc)
{
    if (*own)
        return;
    *own = i + 1, (*added)++;
    if (!gc)
        pyr_ref(at, bj);
}

/* Object tag's fields as read (p NULL: unreadable): the blocks they own. */
static void pyfl_got(void *arg, uint32_t tag, uint64_t aux, const char *p, uint64_t addr,
                     uint32_t len)
{
    struct pyfl_pass *ps = arg;
    for (uint32_t k = 0; p && k + 8 <= len; k += 8) {
        uint64_t w;
        uint32_t bj;
        memcpy(&w, p + k, 8);
        if (w < 4096 || (w & 7))
            continue;
        uint32_t *own = pyfl_owner_at(ps, w, &bj);
        if (own)
            pyfl_claim(&ps->added, tag, addr + k, bj, own, aux != 0);
    }
}

/* Whether object i (in block bj) of t's type has its fields read: the
 * span [*at, *at + *len). */
static int pyfl_span(const struct pyh_heap *h, uint64_t i, uint64_t bj, const struct pyh_type *t,
                     uint64_t *at, uint32_t *len)
{
    const struct pyh_block *b = &h->blk[bj];
    uint64_t obj = b->addr + h->obj[i].off;
    if (!pyfl_reads(t) || obj + (uint64_t)t->basic > b->addr + pyh_size(h, b))
        return 0;
    *at = obj + 16, *len = (uint32_t)(t->basic - 16);
    return 1;
}

void pyg_fields_begin(const struct pyh_heap *h, const struct pyh_type *ty)
{
    pyg_fields_drop();
    fl.h = h, fl.ty = ty, fl.on = 1;
    for (uint64_t bj = 0; bj < h->nblk && fl.on; bj++)
        if (!h->blk[bj].size && pyh_obj_of(h, bj) == PYG_NONE) {
            if (pyrd_map_room((void **)&fl.empty, fl.nempty + 1, &fl.capempty,
                              sizeof *fl.empty, 1024) != 0)
                fl.on = 0; /* pyg_fields_owned reads the fields itself */
            else
                fl.empty[fl.nempty++] = (uint32_t)bj;
        }
}

int pyg_fields_wants(uint64_t i, uint64_t bj, uint64_t *at, uint32_t *len)
{
    return fl.on && pyfl_span(fl.h, i, bj, &fl.ty[fl.h->obj[i].type], at, len);
}

/* The block without an object that starts at w, or PYG_NONE: found as
 * the graph finds any address (pyg_find), not by a table of its own
 * (held through the graph's walk, it raised the walk's peak). */
static uint32_t pyfl_bare_at(uint64_t w)
{
    uint32_t bj = pyg_find(w);
    if (bj != PYG_NONE)
        return fl.h->blk[bj].addr == w && pyh_obj_of(fl.h, bj) == PYG_NONE ? bj : PYG_NONE;
    /* the empty blocks ascend (pyg_fields_begin): searched by halves */
    uint64_t lo = 0, hi = fl.nempty;
    while (lo < hi) {
        uint64_t mid = lo + (hi - lo) / 2;
        if (fl.h->blk[fl.empty[mid]].addr < w)
            lo = mid + 1;
        else
            hi = mid;
    }
    return lo < fl.nempty && fl.h->blk[fl.empty[lo]].addr == w ? fl.empty[lo] : PYG_NONE;
}

void pyg_fields_see(uint32_t i, uint64_t at, const char *p, uint32_t len)
{
    for (uint32_t k = 0; p && fl.on && k + 8 <= len; k += 8) {
        uint64_t w;
        uint32_t bj;
        memcpy(&w, p + k, 8);
        if (w < 4096 || (w & 7) || (bj = pyfl_bare_at(w)) == PYG_NONE)
            continue;
        if (pyrd_map_room((void **)&fl.hit, fl.nhit + 1, &fl.caphit, sizeof *fl.hit, 4096) != 0) {
            fl.on = 0; /* pyg_fields_owned reads the fields itself */
            return;
        }
        fl.hit[fl.nhit++] = (struct pyfl_hit){at + k, i, bj};
    }
}

void pyg_fields_drop(void)
{
    if (fl.hit)
        arena_unmap(fl.hit, fl.caphit * sizeof *fl.hit);
    if (fl.empty)
        arena_unmap(fl.empty, fl.capempty * sizeof *fl.empty);
    memset(&fl, 0, sizeof fl);
}

/* The hits the graph's walk kept, claimed in its order (the objects'). */
static int pyfl_replay(const struct pyh_heap *h, const struct pyh_type *ty, uint32_t *owner)
{
    uint32_t added = 0;
    for (uint64_t n = 0; n < fl.nhit; n++) {
        const struct pyfl_hit *x = &fl.hit[n];
        pyfl_claim(&added, x->obj, x->at, x->bj, &owner[x->bj - pyh_objs_below(h, x->bj)],
                   (ty[h->obj[x->obj].type].flags & PY_TPF_HAVE_GC) != 0);
    }
    pyg_fields_drop();
    return (int)added;
}

int pyg_fields_owned(const struct pyh_heap *h, uint64_t nobj, const struct pyh_type *ty,
                     uint32_t *owner)
{
    if (fl.on && fl.h == h && fl.ty == ty) {
        opt_debug_count("python: objects whose fields were read again: ", 0);
        return pyfl_replay(h, ty, owner);
    }
    pyg_fields_drop();
    if (!h->obj || !h->nblk)
        return 0;
    struct pyfl_pass ps = {h, owner, 0, NULL, 0};
    int began = 0, tried = 0;
    uint64_t i, at, again = 0;
    uint32_t len;
    for (struct pyh_it it = {0, UINT64_MAX}; pyh_next(h, nobj, &it, &i);) {
        const struct pyh_type *t = &ty[h->obj[i].type];
        if (!pyfl_span(h, i, it.bj, t, &at, &len))
            continue;
        if (!began && (began = 1, pyrd_begin(pyfl_got, &ps) != 0))
            return -1;
        if (!tried && (tried = 1, pyfl_bare_make(&ps, h->nblk - nobj) != 0))
            ps.bare = NULL; /* the blocks are searched */
        if (pyrd_add(at, len, (uint32_t)i, (t->flags & PY_TPF_HAVE_GC) != 0) != 0)
            break; /* not begun, or too large for a window: cannot be */
        again++;
    }
    if (began)
        pyrd_end();
    opt_debug_count("python: objects whose fields were read again: ", again);
    if (ps.bare)
        arena_unmap(ps.bare, (ps.mask + 1) * sizeof *ps.bare);
    return (int)ps.added;
}
