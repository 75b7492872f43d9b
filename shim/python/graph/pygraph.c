/*
 * pygraph.c - the reference graph of the Python objects at a snapshot, and
 * the collector's own rule over it: each object the gc tracks starts with
 * its ob_refcnt, loses one for every reference found to it from another
 * tracked object, and is referenced from outside (a module's globals held
 * by an object made before the domains were wrapped, a frame, C code) when
 * some count remains: a root.  What no root reaches is garbage awaiting
 * the collector, as gc.collect() would find it.
 *   The edges are what tp_traverse visits, read from the layouts: an
 * object's own block (fields, a tuple's items, slots, pre-header, inline
 * values), a list's ob_item[0, ob_size), a dict's keys table (combined)
 * or values array, a set's table, and the values array a class instance's
 * pre-header names (3.11, 3.12).  A word is a reference when it is the
 * exact start of a tracked object (a PyGC_Head's links point at heads).
 * Borrowed pointers are left out: an object's pointer to itself in its
 * own block (a frame's frame_obj; a class instance's inline values own
 * theirs), its weakref list; a weak reference counts its callback only.
 * A missed edge only makes an object look referenced from outside.  A
 * batch of objects' blocks is read, then the blocks they lead to, each in
 * address order a window a system call (pyread.c), and the batch's edges
 * packed in the marking's order (pyedge.c); the marking, breadth
 * first, keeps a shortest path from a root to each; a link's name is
 * pylink.c's. */
#include <errno.h>
#include <string.h>

#include "pylayout.h"
#include "pyreads.h"
#include "pygraph.h"
#include "peek.h"
#include "pyedge.h"
#include "pyretain.h"

#define PYG_CHUNK 65536u         /* bytes of a large block read at a time */
#define PYG_READ_MAX (64u << 20) /* bytes of one block looked at */
/* pyg_scan's own: the words are the source's own block (its weak
 * references borrowed); its pointers to itself borrowed too (SELF); the
 * words told to the retained sizes' graph only, no edge (RETAIN); the
 * fields of an object whose layout is unknown (OPAQUE: pyg_opaque) */
#define PYG_OWN 1u
#define PYG_SELF 2u
#define PYG_RETAIN 4u
#define PYG_OPAQUE 8u

static struct {
    const struct pyh_heap *h;
    const struct pyh_type *ty;
    uint32_t *owner;      /* by block without an object (pyg_owner): read
                             already, by whom (pyg_own), + 1; 0: none */
    uint64_t capfol;      /* blocks without an object */
    struct pyg_fol *fol;  /* the batch's followed blocks, as claimed (pyg_own) */
    uint64_t *folk;       /* each one's block << 32 | its place in fol, sorted */
    uint32_t nfol;
    uint32_t rank;        /* the edges' rank now (pye_how's) */
    int oom;
    struct pyg_root *root; /* named roots (pyg_roots_collect), in the order given */
    uint64_t nroot, caproot;
    struct sbuf *names;   /* the section's names: roots' descriptions, keys */
    uint64_t keys_tag;    /* a values array is scanned: its keys object | 1 */
    uint64_t key_at;      /* a combined dict's keys table is scanned: its entries' */
    uint32_t key_esz, key_kat; /* start, size, the key's place in one (or 0) */
    uint64_t skip;        /* the scan's words (from its base, the first 64)
                             that hold a number, never a reference (pyh_plain_words) */
    uint32_t skip_odd;    /* 1: every odd word from the base too (a set's hashes) */
    uint64_t skip_lo, skip_hi; /* and the words over [lo, hi) bytes from it: an
                                  int's digits, a bytes' hash and bytes */
    const char *local;    /* the object's block as the batch read it, or NULL */
    uint64_t local_at, local_len;
    uint32_t tuple_shift; /* a tuple's items past 24 bytes in (3.14: ob_hash) */
    char buf[PYG_CHUNK];
} g;

/* A block an object leads to (its item array, keys table, values array),
 * read in address order once every object of its batch has its own block
 * read (its owner is the source): how holds the label and the rank its
 * edges take, and which words: from 8 * q bytes in to the block's end
 * (PYG_FOL_END), or its first 8 * q bytes (a list's items in use); keys:
 * a values array's keys object | 1, as a slot of pyg_edge_key's keys (0:
 * none). */
struct pyg_fol {
    uint32_t bj, how, keys;
};
#define PYG_BATCH 16384u /* objects whose edges are packed at a time (pyg_edge_flush) */
#define PYG_FOL_MAP (2 * PYG_BATCH * (sizeof(struct pyg_fol) + 16) + 2048 * 4) /* fol, folk, its sort's */
#define PYG_FOL_END (1u << 6) /* how's bit: the words to the block's end */
#define PYG_FOL_Q 7u          /* how's q from this bit on */
_Static_assert(PYG_READ_MAX / 8 < (1u << (32 - PYG_FOL_Q)), "a read's words fit a q");
_Static_assert(PYG_READ_MAX <= PYE_VALUE_MAX + 1ull, "a read's offsets fit an edge's value");

/* n bytes at address at into dst: from the batch's copy of the object's
 * block when it holds them, else read (peek); 0 when unreadable. */
static int pyg_read(void *dst, uint64_t at, size_t n)
{
    if (g.local && at >= g.local_at && at - g.local_at + n <= g.local_len) {
        memcpy(dst, g.local + (at - g.local_at), n);
        return 1;
    }
    return pyrd_pg_peek(dst, at, n);
}

uint8_t pyg_kind(uintptr_t t, const char *tb, uint64_t flags)
{
    if (t == pylay_sym.list_type)
        return PYG_LIST;
    if (t == pylay_sym.dict_type)
        return PYG_DICT;
    if (t == pylay_sym.set_type || t == pylay_sym.frozenset_type)
        return PYG_SET;
    uintptr_t b = t; /* a weak reference, or a class of one (KeyedRef) */
    for (int k = 0; k < 8 && b; k++) {
        for (int i = 0; i < 3; i++)
            if (b == pylay_sym.weakref_type[i])
                return PYG_WEAKREF;
        if (!pyrd_pg_peek(&b, b + 256 /* tp_base */, sizeof b))
            break;
    }
    (void)tb;
    return flags & PY_TPF_HEAPTYPE ? PYG_INSTANCE : PYG_OTHER;
}

/* The owner of block bj, which holds no object (g.owner's). */
static inline uint32_t *pyg_owner(uint64_t bj)
{
    return &g.owner[bj - pyh_objs_below(g.h, bj)];
}

uint32_t pyg_tracked_at(uint64_t w)
{
    uint32_t bj = pyg_find(w);
    uint32_t i = bj == PYG_NONE ? PYG_NONE : pyh_obj_of(g.h, bj);
    if (i == PYG_NONE)
        return PYG_NONE;
    const struct pyh_obj *o = &g.h->obj[i];
    return w == g.h->blk[bj].addr + o->off && o->tracked ? i : PYG_NONE;
}

size_t pyg_tracked_all(const uint64_t *w, size_t n, uint32_t *at, uint32_t *obj)
{
    uint32_t bj[PYG_WORDS];
    size_t m = pyg_find_starts(w, n < PYG_WORDS ? n : PYG_WORDS, at, bj), k = 0;
    for (size_t j = 0; j < m; j++) {
        uint32_t i = pyh_obj_of(g.h, bj[j]);
        const struct pyh_obj *o = i == PYG_NONE ? NULL : &g.h->obj[i];
        if (o && o->tracked && w[at[j]] == g.h->blk[bj[j]].addr + o->off)
            at[k] = at[j], obj[k++] = i;
    }
    return k;
}

uint32_t pyg_object_at(uint64_t w)
{
    uint32_t bj = pyg_find(w);
    uint32_t i = bj == PYG_NONE ? PYG_NONE : pyh_obj_of(g.h, bj);
    if (i == PYG_NONE)
        return PYG_NONE;
    const struct pyh_obj *o = &g.h->obj[i];
    return w == g.h->blk[bj].addr + o->off ? i : PYG_NONE;
}

uint32_t pyg_object_holding(uint64_t at)
{
    uint32_t bj = pyg_find(at);
    return bj == PYG_NONE ? PYG_NONE : pyh_obj_of(g.h, bj);
}

/* A field's edge told apart: a class's or an instance's __dict__, an
 * attribute in a 3.13 instance's inline values. */
static void pyg_field(uint32_t src, uint32_t *label, uint32_t *value, uint64_t *key)
{
    const struct pyh_type *t = &g.ty[g.h->obj[src].type];
    int64_t d = *value;
    if ((t->flags & PY_TPF_TYPE_SUBCLASS) && d == PY_TP_DICT)
        *label = HSNAP_PYLABEL_DICT;
    else if (t->kind == PYG_INSTANCE && t->dictoffset > 0 && d == t->dictoffset)
        *label = HSNAP_PYLABEL_DICT;
    else if (t->kind == PYG_INSTANCE && (t->flags & PY_TPF_INLINE_VALUES) &&
             pylay_lay->version >= 0x030d0000u && t->cached_keys && d >= t->basic + 8) {
        *label = HSNAP_PYLABEL_ATTR;
        *value = (uint32_t)((d - t->basic - 8) / 8);
        *key = t->cached_keys | 1;
    }
}

/* An edge: src holds dst by label (HSNAP_PYLABEL_*: how), value (the
 * field's offset, the item's index), key (KEY: the dict key's str
 * object; KEY, ATTR: (odd) the keys object whose entry value names it),
 * its rank g.rank (pyg_mark's order among its source's). */
static void pyg_add(uint32_t src, uint32_t dst, uint32_t label, uint32_t value, uint64_t key)
{
    uint32_t slot;
    /* a tuple's item i is a field 24 + 8i bytes in, as the CLI reads it
     * (3.10-3.13's layout), on every version */
    if (label == HSNAP_PYLABEL_FIELD && g.tuple_shift && value >= 24 + g.tuple_shift &&
        g.ty[g.h->obj[src].type].addr == pylay_sym.tuple_type)
        value -= g.tuple_shift;
    if (label == HSNAP_PYLABEL_FIELD)
        pyg_field(src, &label, &value, &key);
    if (pyg_edge_key_slot(key, &slot) != 0 ||
        pyg_edge_add(src, dst, pye_how(label, g.rank, value), slot) != 0)
        g.oom = 1;
}

/* Whether object i's edges are put: one the gc tracks, or a dict it does
 * not (one holding no tracked object: str values, as a cache of text),
 * whose items are leaves the graph reaches through it, or a tuple it
 * does not (the collector untracks one whose items are all untracked: a
 * partial's args of a bytearray), for its items that are no int, bytes
 * or str (pyg_scan: a code object's names and constants would double
 * the edges). */
static inline int pyg_walked(uint32_t i)
{
    const struct pyh_obj *o = &g.h->obj[i];
    return o->tracked || g.ty[o->type].kind == PYG_DICT || g.ty[o->type].addr == pylay_sym.tuple_type;
}

/* Object i (in block bj) is of a type whose layout the graph does not
 * know and the collector does not track (a C extension's type without
 * Py_TPFLAGS_HAVE_GC: a numpy array, a range), nor atomic (int, bytes,
 * str: numbers and text), nor a code object (the interpreter's, a
 * tenth of a heap's objects, whose names and constants are no path a
 * user asks for: they added a third to the graph's instructions, a
 * numpy import's snapshot): its fields [16, tp_basicsize) are
 * scanned conservatively, each word that is an object's exact start an
 * edge (a view's base, an array's dtype).  The fields only: a variable
 * part's words are no references of a known kind.  Not the type's own
 * tp_traverse: the snapshot runs beside the host's threads, without the
 * GIL, and a traversal is the extension's code reading its own object
 * with plain loads (one torn down meanwhile kills the host), and no type
 * without Py_TPFLAGS_HAVE_GC has one.  Even in the leak check's forked
 * child, where nothing else runs, an object may be half made by a
 * thread the fork cut off: a word read through peek cannot fault, a
 * traversal can.  1, with the span in *at and *len. */
#define PYG_OPAQUE_MAX 4096 /* tp_basicsize read at most */
static int pyg_opaque(uint64_t i, uint64_t bj, uint64_t *at, uint32_t *len)
{
    const struct pyh_obj *o = &g.h->obj[i];
    const struct pyh_type *t = &g.ty[o->type];
    const struct pyh_block *b = &g.h->blk[bj];
    uint64_t obj = b->addr + o->off;
    if (o->tracked || (t->flags & (PY_TPF_HAVE_GC | PY_TPF_LONG_SUBCLASS | PY_TPF_BYTES_SUBCLASS |
                                   PY_TPF_UNICODE_SUBCLASS | PY_TPF_TYPE_SUBCLASS)) ||
        t->addr == pylay_sym.code_type || t->basic <= 24 || t->basic > PYG_OPAQUE_MAX ||
        obj + (uint64_t)t->basic > b->addr + pyh_size(g.h, b))
        return 0;
    *at = obj + 16, *len = (uint32_t)(t->basic - 16);
    return 1;
}

/* Whether the word d bytes past the scan's base holds a number. */
static inline int pyg_number(uint64_t d)
{
    return (d < 512 && (g.skip >> (d / 8) & 1)) || (g.skip_odd && (d / 8) & 1) ||
           (d + 8 > g.skip_lo && d < g.skip_hi);
}

/* The words of [from, to) (addresses) read for source object src:
 * references to tracked objects become edges (label; value: the word's
 * offset from base, or its index), and every reference is told to the
 * retained sizes' graph (pyr_ref): a native block anywhere in it, an
 * object at its exact start.  own: PYG_OWN, the words are src's own
 * block: its weak references are borrowed, and with PYG_SELF its
 * references to itself (not a class instance's, whose inline values may
 * hold it: counted); PYG_RETAIN: pyr_ref only, no edge (the pre-header,
 * whose edges pyg_preheader puts). */
static void pyg_scan(uint32_t src, uint64_t from, uint64_t to, unsigned own, uint32_t label,
                     uint64_t base)
{
    uint64_t prev = 0; /* the word before: a dict entry's key */
    if (to - from > PYG_READ_MAX)
        to = from + PYG_READ_MAX;
    for (uint64_t at = from & ~7ull; at + 8 <= to; at += PYG_CHUNK) {
        size_t n = to - at < PYG_CHUNK ? (size_t)(to - at) & ~(size_t)7 : PYG_CHUNK;
        const char *p = g.buf;
        if (g.local && at >= g.local_at && at - g.local_at + n <= g.local_len)
            p = g.local + (at - g.local_at); /* the reader's copy */
        else if (!peek(g.buf, at, n))
            return; /* freed meanwhile */
        for (size_t k = 0; k < n; k += 8) {
            uint64_t w, key = prev;
            memcpy(&w, p + k, 8);
            prev = w;
            if (at + k >= base && pyg_number(at + k - base))
                continue;
            /* a 24-byte entry's hash: an int key's is the int, which an
             * {id(obj): ...} dict makes an object's address */
            if (g.key_esz == 24 && at + k >= g.key_at && (at + k - g.key_at) % 24 == 0)
                continue;
            uint32_t bj = pyg_find(w);
            if (bj == PYG_NONE)
                continue;
            const struct pyh_block *b = &g.h->blk[bj];
            uint32_t dst = pyh_obj_of(g.h, bj);
            if (dst == PYG_NONE) {
                /* an opaque one's blocks: pyg_fields_owned's; a big block
                 * is held by a word at its start (an owner keeps the
                 * pointer it frees): a word inside it is more likely
                 * stale, an object's address in a region freed before the
                 * block's mapping took its place, than its holder */
                if (!(own & PYG_OPAQUE) && (w == b->addr || b->size != PYG_BIG))
                    pyr_ref(at + k, bj);
                continue;
            }
            const struct pyh_obj *o = &g.h->obj[dst];
            if (w != b->addr + o->off)
                continue;
            if ((own & PYG_OWN) &&
                ((dst == src && (own & PYG_SELF)) || g.ty[o->type].kind == PYG_WEAKREF))
                continue;
            if (!(own & PYG_OPAQUE) || pyg_known_kind(g.ty[g.h->obj[src].type].addr,
                                                      g.ty[g.h->obj[src].type].flags) != PYKN_ARRAY)
                pyr_ref(at + k, bj); /* (an array's base: pyg_numpy_owned's) */
            if ((own & PYG_RETAIN) || (!(own & PYG_OPAQUE) && !pyg_walked(src)))
                continue;
            /* an untracked object (str, bytes, an untracked tuple) is a
             * leaf of the graph: reached for its holder's path, but not
             * by a dict's key (the keys would double the edges), nor an
             * int (a list's or tuple's numbers: as many edges again,
             * for paths nobody asks) */
            if (!o->tracked &&
                ((g.ty[o->type].flags & PY_TPF_LONG_SUBCLASS) ||
                 (!g.h->obj[src].tracked && g.ty[g.h->obj[src].type].addr == pylay_sym.tuple_type &&
                  (g.ty[o->type].flags & (PY_TPF_BYTES_SUBCLASS | PY_TPF_UNICODE_SUBCLASS))) ||
                 (g.key_esz && at + k >= g.key_at &&
                  (at + k - g.key_at) % g.key_esz == g.key_kat)))
                continue;
            uint64_t d = at + k - base;
            if (g.keys_tag) /* a values array: the index names it */
                pyg_add(src, dst, label, (uint32_t)(d / 8), g.keys_tag);
            else
                pyg_add(src, dst, label,
                        label == HSNAP_PYLABEL_INDEX ? (uint32_t)(d / 8) : (uint32_t)d,
                        label == HSNAP_PYLABEL_KEY ? key : 0);
        }
    }
}

/* Block bj (no object) is to be read for object i, which owns it
 * (PYOWNED: top --owner counts it with i): its words [from, to), with
 * label, keys and rank as struct pyg_fol has them, once the objects are
 * read (pyg_read_fols). */
static void pyg_own(uint32_t bj, uint32_t i, uint64_t from, uint64_t to, uint32_t label,
                    uint64_t keys, uint32_t rank)
{
    const struct pyh_block *b = &g.h->blk[bj];
    uint64_t end = b->addr + pyh_size(g.h, b), q;
    uint32_t slot, how = pye_how(label, rank, 0);
    if (to == end || from != b->addr) /* (an item array starts its block) */
        q = (from - b->addr) / 8, how |= PYG_FOL_END;
    else
        q = (to > from ? (to - from < PYG_READ_MAX ? to - from : PYG_READ_MAX) : 0) / 8;
    if ((from - b->addr) % 8 || q >= (1u << (32 - PYG_FOL_Q)))
        return; /* not a values array or an item array: not read */
    if (pyg_edge_key_slot(keys, &slot) != 0) {
        g.oom = 1;
        return;
    }
    if (g.nfol >= 2 * PYG_BATCH) { /* (one an object at most) */
        g.oom = 1;
        return;
    }
    *pyg_owner(bj) = i + 1;
    g.folk[g.nfol] = (uint64_t)bj << 32 | g.nfol;
    g.fol[g.nfol++] = (struct pyg_fol){bj, how | (uint32_t)q << PYG_FOL_Q, slot};
}

/* Followed block f's words as pyg_own put them: [*from, *to). */
static void pyg_fol_words(const struct pyg_fol *f, uint64_t *from, uint64_t *to)
{
    const struct pyh_block *b = &g.h->blk[f->bj];
    uint64_t q = (uint64_t)(f->how >> PYG_FOL_Q) * 8;
    *from = f->how & PYG_FOL_END ? b->addr + q : b->addr;
    *to = f->how & PYG_FOL_END ? b->addr + pyh_size(g.h, b) : b->addr + q;
    if (*to < *from)
        *to = *from;
    if (*to - *from > PYG_READ_MAX)
        *to = *from + PYG_READ_MAX;
}

/* The values at v (a values array: values[0] there, a block the scan has
 * not read) of src, named by entry i of the keys object keys; label. */
static void pyg_values(uint32_t src, uint64_t v, uint64_t keys, uint32_t label, uint32_t rank)
{
    uint32_t bj = pyg_find(v);
    if (bj == PYG_NONE || pyh_obj_of(g.h, bj) != PYG_NONE || *pyg_owner(bj))
        return;
    pyg_own(bj, src, v, g.h->blk[bj].addr + pyh_size(g.h, &g.h->blk[bj]),
            keys ? label : HSNAP_PYLABEL_OTHER, keys ? keys | 1 : 0, rank);
}

/* A class instance's pre-header (the two words at p): its __dict__ once
 * made, or (3.11, 3.12) its values array, named by its class's keys.
 * 3.11: values, dict; 3.12: weakrefs, dict or values - 1 (odd); 3.13:
 * weakrefs, dict.  The weak references are borrowed.  Both words are
 * the instance's references for the retained sizes: it owns its values
 * array and its __dict__ as its own block's fields.  inl: 3.13's inline
 * values are valid (pyg_inline), and a __dict__ sharing them (it holds
 * nothing: its values are the instance's) is the instance's edge as the
 * collector sees it from 3.13.3 on (gh-130327: the managed dict always
 * traversed), an outside reference before. */
#define PYG_DICT_ALWAYS 0x030d0300u

static void pyg_preheader(uint32_t i, uint64_t p, int inl)
{
    uint64_t w[2];
    if (!pyg_read(w, p, sizeof w))
        return;
    pyg_scan(i, p, p + sizeof w, PYG_OWN | PYG_SELF | PYG_RETAIN, HSNAP_PYLABEL_OTHER, p);
    uint64_t dict = w[1], values = 0;
    if (pylay_lay->version < 0x030c0000u)
        values = w[0];
    else if (w[1] & 1)
        values = w[1] + 1, dict = 0;
    int edge = !inl || pylay_sym.version >= PYG_DICT_ALWAYS;
    uint32_t d = dict && edge ? pyg_tracked_at(dict) : PYG_NONE;
    if (d != PYG_NONE && d != i)
        pyg_add(i, d, HSNAP_PYLABEL_DICT, 0, 0);
    if (values && !(values & 7)) /* its edges before the instance's own block's */
        pyg_values(i, values, g.ty[g.h->obj[i].type].cached_keys, HSNAP_PYLABEL_ATTR, 0);
}

/* 3.13 on, a class instance i at obj with its values inline (after
 * tp_basicsize: capacity, size, embedded, valid, then the values): 1
 * while they are its attributes (valid): its __dict__, if made, shares
 * them and is not visited (_PyObject_VisitManagedDict), nor are they by
 * the dict (dict_traverse: embedded).  Once a dict took them over (too
 * many attributes), valid is 0 and the inline words are stale: *end
 * stops the scan before them. */
static int pyg_inline(uint32_t i, uint64_t obj, uint64_t *end)
{
    const struct pyh_type *t = &g.ty[g.h->obj[i].type];
    uint8_t hdr[4];
    if (t->kind != PYG_INSTANCE || !(t->flags & PY_TPF_INLINE_VALUES) ||
        pylay_lay->version < 0x030d0000u || obj + (uint64_t)t->basic + 8 > *end ||
        !pyg_read(hdr, obj + (uint64_t)t->basic, sizeof hdr))
        return 0;
    if (hdr[3])
        return 1;
    *end = obj + (uint64_t)t->basic;
    return 0;
}

/* The edges out of tracked object i (in block ob) from its own block;
 * the blocks it leads to are put to be read later (pyg_own). */
static void pyg_edges_of(uint32_t i, uint64_t ob)
{
    const struct pyh_obj *o = &g.h->obj[i];
    const struct pyh_block *b = &g.h->blk[ob];
    uint64_t obj = b->addr + o->off, end = b->addr + pyh_size(g.h, b), w[4] = {0};
    unsigned kind = g.ty[o->type].kind;
    g.rank = 1;
    pyr_from((uint32_t)ob);
    if (kind == PYG_WEAKREF) {
        pyg_scan(i, obj + 24, obj + 32, 0, HSNAP_PYLABEL_FIELD, obj); /* wr_callback */
        return;
    }
    int inl = pyg_inline(i, obj, &end);
    if (kind == PYG_INSTANCE && obj - PY_GC_HEAD - b->addr == 16) {
        g.rank = 0;
        pyg_preheader(i, b->addr, inl);
        g.rank = 1;
    }
    g.skip = pyh_plain_words(kind, g.ty[o->type].flags);
    uint64_t n;
    if (kind == PYG_INSTANCE && pyh_plain_inline(g.ty[o->type].flags) && pyg_read(&n, obj + 16, 8))
        pyh_plain_inline_span(g.ty[o->type].flags, n, PYG_READ_MAX, &g.skip_lo, &g.skip_hi);
    pyg_scan(i, obj, end, kind == PYG_INSTANCE ? PYG_OWN : PYG_OWN | PYG_SELF,
             HSNAP_PYLABEL_FIELD, obj);
    g.skip = 0, g.skip_lo = g.skip_hi = 0;
    size_t fields = end - obj < 48 ? (size_t)(end - obj - 16) & ~(size_t)7 : 32;
    if ((kind == PYG_LIST || kind == PYG_DICT || kind == PYG_SET) && end - obj >= 32 &&
        pyg_read(w, obj + 16, fields)) {
        /* list: ob_size, ob_item; dict: ma_keys, ma_values; set: table */
        uint64_t at = kind == PYG_LIST ? w[1] : kind == PYG_SET ? w[3] : w[3] ? w[3] : w[2];
        uint32_t bj = pyg_find(at);
        if (bj == PYG_NONE || pyh_obj_of(g.h, bj) != PYG_NONE || *pyg_owner(bj))
            return; /* none, in an object (3.13's inline values), or read */
        const struct pyh_block *ib = &g.h->blk[bj];
        uint64_t isize = pyh_size(g.h, ib);
        if (kind == PYG_LIST) { /* the items in use only */
            uint64_t stop = w[0] < isize / 8 ? at + 8 * w[0] : ib->addr + isize;
            pyg_own(bj, i, at, stop, HSNAP_PYLABEL_INDEX, 0, 2);
        } else if (kind == PYG_DICT && w[3]) { /* split: named by ma_keys */
            pyg_values(i, w[3] + (pylay_lay->version >= 0x030d0000u ? 8 : 0), w[2],
                       HSNAP_PYLABEL_KEY, 2);
        } else { /* a combined dict's keys table: its entries end with (key, value) */
            pyg_own(bj, i, ib->addr, ib->addr + isize,
                    kind == PYG_DICT ? HSNAP_PYLABEL_KEY : HSNAP_PYLABEL_OTHER, 0, 2);
        }
    }
}

/* The keys table at keys (a combined dict's): where its entries' keys
 * are (g.key_*), so that pyg_scan puts no edge to a key; when it does not
 * read as one, every word of it is taken as a key's. */
static void pyg_key_places(uint64_t keys)
{
    uint8_t k[40];
    uint64_t size;
    g.key_at = keys, g.key_esz = 8, g.key_kat = 0;
    if (!pyg_read(k, keys, sizeof k))
        return;
    if (pylay_lay->version < 0x030b0000u) { /* dk_refcnt, dk_size, ...: 24-byte entries */
        memcpy(&size, k + 8, 8);
        if (size > (1u << 26))
            return;
        unsigned ib = size <= 0xff ? 1 : size <= 0xffff ? 2 : size <= 0xffffffffu ? 4 : 8;
        g.key_at = keys + 40 + size * ib, g.key_esz = 24, g.key_kat = 8;
    } else { /* dk_log2_index_bytes, dk_kind (unicode: 16-byte entries) */
        g.key_at = keys + 32 + ((uint64_t)1 << (k[9] & 31));
        g.key_esz = k[10] ? 16 : 24, g.key_kat = k[10] ? 0 : 8;
    }
}

/* Followed block bj, as pyg_own put it (g.fol[aux]): its edges. */
static void pyg_fol_scan(uint32_t bj, uint64_t aux)
{
    uint64_t from, to;
    const struct pyg_fol *f = &g.fol[aux];
    pyg_fol_words(f, &from, &to);
    uint32_t src = *pyg_owner(bj) - 1;
    uint32_t label = pye_label(f->how);
    g.keys_tag = pyg_edge_key(f->keys);
    g.rank = pye_rank(f->how);
    if (label == HSNAP_PYLABEL_KEY && !f->keys) {
        pyg_key_places(g.h->blk[bj].addr);
        if (g.key_esz != 8 && g.key_at > from) /* its header and indices: numbers */
            from = g.key_at;
    }
    /* a set's table: (key, hash) entries */
    g.skip_odd = g.ty[g.h->obj[src].type].kind == PYG_SET;
    pyr_from(bj);
    pyg_scan(src, from, to, 0, label, from);
    g.keys_tag = 0;
    g.key_esz = 0;
    g.skip_odd = 0;
}

/* The link of edge e, its name put in the names once (pyg_link). */
struct hsnap_pylink pyg_link_of(const struct pyg_edge *e)
{
    return pyg_link(g.h, g.ty, e->src, e->dst, pye_label(e->how), pye_value(e->how),
                    pyg_edge_key(e->key));
}

void pyg_root(uint32_t obj, uint32_t kind, const char *name, uint32_t n, int exact)
{
    if (obj == PYG_NONE || g.oom)
        return;
    if (pyrd_map_room((void **)&g.root, g.nroot + 1, &g.caproot, sizeof *g.root, 4096) != 0) {
        g.oom = 1;
        return;
    }
    const struct pyg_root *last = g.nroot ? &g.root[g.nroot - 1] : NULL;
    if (last && !g.names->err && last->name_len == n &&
        !memcmp(g.names->p + last->name_off, name, n)) {
        g.root[g.nroot++] = (struct pyg_root){obj, kind | (exact ? PYG_EXACT : 0),
                                              last->name_off, n}; /* the same text */
        return;
    }
    g.root[g.nroot++] = (struct pyg_root){obj, kind | (exact ? PYG_EXACT : 0),
                                          (uint32_t)g.names->len, n};
    sbuf_put(g.names, name, n);
}

/* Object i's fields (pyg_fields_see), from the batch's copy of its block when
 * it holds them, else read (one call: a block too large for the window,
 * or unreadable there). */
static void pyg_fields(uint32_t i, uint64_t bj)
{
    uint64_t at;
    uint32_t len;
    if (!pyg_fields_wants(i, bj, &at, &len))
        return;
    if (g.local && at >= g.local_at && at - g.local_at + len <= g.local_len)
        pyg_fields_see(i, at, g.local + (at - g.local_at), len);
    else
        pyg_fields_see(i, at, peek(g.buf, at, len) ? g.buf : NULL, len);
}

/* Object i as the batch read it: its edges, and its fields; aux: its
 * block, PYG_FIELDS_ONLY when it has no edges to read. */
#define PYG_FIELDS_ONLY (1ull << 63)
static void pyg_object(uint32_t i, uint64_t aux)
{
    uint64_t at;
    uint32_t len;
    if (!(aux & PYG_FIELDS_ONLY)) {
        pyg_edges_of(i, aux);
    } else if (pyg_opaque(i, aux & ~PYG_FIELDS_ONLY, &at, &len)) {
        g.rank = 1;
        pyr_from((uint32_t)(aux & ~PYG_FIELDS_ONLY));
        pyg_scan(i, at, at + len, PYG_OWN | PYG_SELF | PYG_OPAQUE, HSNAP_PYLABEL_FIELD, at - 16);
    }
    pyg_fields(i, aux & ~PYG_FIELDS_ONLY);
}

typedef void (*pyg_pass)(uint32_t, uint64_t);
static pyg_pass pyg_pass_obj = pyg_object, pyg_pass_fol = pyg_fol_scan;

/* A block as pyrd_flush read it (p NULL: unreadable, read as scanned):
 * its edges, by the pass arg names (pyg_object, tag the object, aux its
 * block; or pyg_fol_scan, tag the block). */
static void pyg_got(void *arg, uint32_t tag, uint64_t aux, const char *p, uint64_t addr,
                    uint32_t len)
{
    g.local = p, g.local_at = addr, g.local_len = len;
    (*(pyg_pass *)arg)(tag, aux);
    g.local = NULL;
}

/* a[0, n) in ascending order of their high 32 bits (a radix sort, 11
 * bits a pass, tmp as large and cnt 2,048 words beside; a pass whose
 * digit all share is skipped). */
static void pyg_sort(uint64_t *a, uint64_t *tmp, uint32_t *cnt, uint32_t n)
{
    for (unsigned shift = 32; shift < 64; shift += 11) {
        memset(cnt, 0, 2048 * sizeof *cnt);
        for (uint32_t k = 0; k < n; k++)
            cnt[(a[k] >> shift) & 2047]++;
        if (cnt[(a[0] >> shift) & 2047] == n)
            continue;
        for (uint32_t d = 0, sum = 0; d < 2048; d++) {
            uint32_t c = cnt[d];
            cnt[d] = sum, sum += c;
        }
        for (uint32_t k = 0; k < n; k++)
            tmp[cnt[(a[k] >> shift) & 2047]++] = a[k];
        memcpy(a, tmp, (size_t)n * sizeof *a);
    }
}

/* The followed blocks the batch's objects claimed, in address order. */
static void pyg_read_fols(void)
{
    uint32_t n = g.nfol;
    g.nfol = 0;
    if (!n || pyrd_begin(pyg_got, &pyg_pass_fol) != 0) {
        g.oom |= n != 0;
        return;
    }
    uint32_t k = 1;
    while (k < n && g.folk[k - 1] < g.folk[k]) /* as a rule in order already */
        k++;
    if (k < n)
        pyg_sort(g.folk, g.folk + 2 * PYG_BATCH, (uint32_t *)(g.folk + 4 * PYG_BATCH), n);
    for (k = 0; k < n; k++) {
        uint32_t at = (uint32_t)g.folk[k];
        uint64_t from, to;
        pyg_fol_words(&g.fol[at], &from, &to);
        if (pyrd_add(from, (uint32_t)(to - from), g.fol[at].bj, at) != 0) {
            pyrd_flush();
            pyg_fol_scan(g.fol[at].bj, at);
        }
    }
    pyrd_end();
}

/* The edges, a batch of PYG_BATCH objects at a time: their own blocks in
 * address order (the tracked ones, and the untracked the retained sizes
 * read), then the blocks they lead to, in address order too, a window
 * of them read by one system call (pyrd_flush; a block too large for one
 * is read as it is scanned); then the batch's edges packed (pyg_edge_flush).
 * -1: out of memory. */
static int pyg_read_all(uint64_t nobj)
{
    const struct pyh_block *blk = g.h->blk;
    uint64_t i = 0, n = 0;
    struct pyh_it it = {0, UINT64_MAX};
    for (int more = 1; more && !g.oom;) {
        if (pyrd_begin(pyg_got, &pyg_pass_obj) != 0)
            return -1;
        for (n = 0; n < PYG_BATCH && !g.oom && (more = pyh_next(g.h, nobj, &it, &i)); n++) {
            const struct pyh_obj *o = &g.h->obj[i];
            const struct pyh_block *b = &blk[it.bj];
            uint64_t size = pyh_size(g.h, b), at, aux = it.bj;
            uint32_t len;
            if (pyg_walked((uint32_t)i) || pyr_scans(o, &g.ty[o->type]))
                at = b->addr, len = size < UINT32_MAX ? (uint32_t)size : UINT32_MAX;
            else if (pyg_fields_wants(i, it.bj, &at, &len) || pyg_opaque(i, it.bj, &at, &len))
                aux |= PYG_FIELDS_ONLY;
            else
                continue;
            if (len == UINT32_MAX || pyrd_add(at, len, (uint32_t)i, aux) != 0) {
                pyrd_flush();
                pyg_object((uint32_t)i, aux);
            }
        }
        pyrd_end();
        if (!g.oom)
            pyg_read_fols();
        if (!g.oom && pyg_edge_flush(more ? i + 1 : nobj) != 0)
            g.oom = 1;
    }
    return g.oom ? -1 : 0;
}

int pyg_build(const struct pyh_heap *h, uint64_t nobj, const struct pyh_type *ty,
              struct sbuf *links, struct sbuf *parents, struct sbuf *names, uint32_t **owner)
{
    int rc = -1;
    memset(&g, 0, sizeof g);
    if (!h->want || !h->nblk || nobj >= PYG_NONE)
        return -1;
    g.h = h;
    g.ty = ty;
    const struct pylay_obj_layout *ol = pylay_obj_layout_find(pylay_lay->version);
    g.tuple_shift = ol && ol->tuple_items > 24 ? ol->tuple_items - 24u : 0;
    pyg_find_build(h);
    pyg_known_begin();
    pyg_edge_free();
    g.names = names;
    pyg_link_begin(names);
    g.capfol = h->nblk - nobj; /* each block without an object followed once at most */
    pyg_fields_begin(h, ty); /* the fields seen as the objects are read */
    if (!(g.owner = arena_map((g.capfol + 1) * sizeof *g.owner)) ||
        !(g.fol = arena_map(PYG_FOL_MAP)) || pyg_edge_begin(nobj) != 0)
        g.oom = 1;
    g.folk = g.fol ? (uint64_t *)(g.fol + 2 * PYG_BATCH) : NULL;
    if (!g.oom && pyg_read_all(nobj) != 0)
        g.oom = 1;
    if (g.fol)
        arena_unmap(g.fol, PYG_FOL_MAP);
    g.fol = NULL, g.folk = NULL;
    if (!g.oom)
        pyg_roots_collect();
    pyg_find_free(); /* the marking finds no address */
    if (!g.oom)
        pyg_owned_pack(&g.owner, g.capfol + 1);
    if (!g.oom)
        rc = pyg_mark(g.h, nobj, g.root, g.nroot, links, parents);
    pyg_edge_free(); /* the owners' records come after: not beside the edges */
    if (pyg_owned_unpack(&g.owner, g.capfol + 1) != 0)
        rc = -1;
    if (g.root)
        arena_unmap(g.root, g.caproot * sizeof *g.root);
    g.root = NULL;
    if (rc == 0) /* handed over: PYOWNED is made from it (pyg_owned_make) */
        *owner = g.owner, g.owner = NULL;
    else
        pyg_fields_drop();
    if (g.owner)
        arena_unmap(g.owner, (g.capfol + 1) * sizeof *g.owner);
    pyg_find_free();
    memset(&g, 0, sizeof g);
    return rc;
}
