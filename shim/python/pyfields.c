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
 * owner has it (the graph's, numpy's: pynp_owned runs first, then the
 * first object in address order), set in the owners' array (pyowned.c
 * makes PYOWNED from it).  The atomic types (int, bytes, str: their
 * words are numbers or text) and those of one word (float) are not
 * read.  The fields are copied a window at a time (pyread.c), in the
 * objects' ascending order.  State: none kept past a pass.
 */
#include <string.h>

#include "inner.h"
#include "pyretain.h"

#define PYFL_ATOMIC ((1ull << 24) | (1ull << 27) | (1ull << 28)) /* int, bytes, str */
#define PYFL_FIELDS 4096 /* tp_basicsize read at most */

/* Whether objects of type t are read: no atomic type, more than one
 * word past the head, and of a gc type only one whose blocks the graph
 * does not follow (an array.array, 3.13's Decimal: an extension's heap
 * type reads as an instance, whose values the graph owned first; a
 * list's, a dict's or a set's blocks are the graph's). */
static int pyfl_reads(const struct pyg_type *t)
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
    const struct pyg_heap *h;
    uint32_t *owner; /* the owners' array (pyg_build's): by block without an
                        object, its owner + 1; 0: none yet */
    uint32_t added;
    struct pyfl_bare *bare; /* NULL: the blocks searched (out of memory) */
    uint64_t mask;          /* its slots - 1 */
};

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
    if (!(ps->bare = arena_map(slots * sizeof *ps->bare)))
        return -1;
    ps->mask = slots - 1;
    for (uint64_t bj = 0, k = 0; bj < ps->h->nblk; bj++) {
        if (pyg_obj_of(ps->h, bj) != PYG_NONE)
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
        *bj = pyg_bare_block_at(ps->h, w);
        return *bj != PYG_NONE ? &ps->owner[*bj - pyg_objs_below(ps->h, *bj)] : NULL;
    }
    for (uint64_t s = pyfl_slot(ps, w); ps->bare[s].addr; s = (s + 1) & ps->mask)
        if (ps->bare[s].addr == w)
            return *bj = ps->bare[s].bj, &ps->owner[ps->bare[s].k];
    return NULL;
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
        if (own && !*own) {
            *own = tag + 1, ps->added++;
            if (!aux) /* a gc type's: the retained graph has the edge (pyretain.c) */
                pyr_ref(addr + k, bj);
        }
    }
}

int pyfl_owned(const struct pyg_heap *h, uint64_t nobj, const struct pyg_type *ty,
               uint32_t *owner)
{
    if (!h->obj || !h->nblk)
        return 0;
    struct pyfl_pass ps = {h, owner, 0, NULL, 0};
    int began = 0, tried = 0;
    uint64_t i;
    for (struct pyg_it it = {0, UINT64_MAX}; pyg_next(h, nobj, &it, &i);) {
        const struct pyg_obj *o = &h->obj[i];
        const struct pyg_type *t = &ty[o->type];
        const struct pyg_block *b = &h->blk[it.bj];
        uint64_t at = b->addr + o->off;
        if (!pyfl_reads(t) || at + (uint64_t)t->basic > b->addr + pyg_size(h, b))
            continue;
        if (!began && (began = 1, pyrd_begin(pyfl_got, &ps) != 0))
            return -1;
        if (!tried && (tried = 1, pyfl_bare_make(&ps, h->nblk - nobj) != 0))
            ps.bare = NULL; /* the blocks are searched */
        if (pyrd_add(at + 16, (uint32_t)(t->basic - 16), (uint32_t)i,
                     (t->flags & PY_TPF_HAVE_GC) != 0) != 0)
            break; /* not begun, or too large for a window: cannot be */
    }
    if (began)
        pyrd_end();
    if (ps.bare)
        arena_unmap(ps.bare, (ps.mask + 1) * sizeof *ps.bare);
    return (int)ps.added;
}
