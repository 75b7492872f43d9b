/*
 * pyseed.c - the dead objects CPython's free lists hold when the shim
 * wraps the allocator domains.  The interpreter keeps a freed list, dict
 * or small tuple on a free list (80 lists, 80 dicts, 2000 tuples of each
 * size up to 20), and a small dict's keys table (80), and hands it out
 * again without calling the allocator; the
 * ones there at the wrap were made before it, so they are no block of
 * ours, and an object the program later gets from the list (a list
 * comprehension's list: the first list made after a function returned
 * one) would be no object of the graph: its item array a block nobody
 * owns, its items held "from outside" (a dict's keys table no block: its
 * values no edges).  pyw_seed_each names each of them
 * (its block: the PyGC_Head's start, and the size the interpreter asked
 * for it) so that the root room books them as blocks (dom_poll), made
 * "during the interpreter's start-up".  Called under the GIL (dom_poll),
 * so the lists hold still; read with peek all the same, bounded.
 * The lists' places: pylay_gc_layout's numfree (layout_check.c's check_gc
 * checks that the slots lie just before them, and the keys' list just
 * after the dicts' count); from 3.14 on each list is a chain through its
 * objects' first words from a head just before its count (pys_chain).
 *   pyw_seed_stale walks the same lists of lists and dicts for the leak
 * check (the world stopped): a dead list's ob_item and a dead dict's
 * ma_keys and ma_values still hold what they freed, an address the C
 * heap may have handed out again, so those words are no references.  The
 * symbols come from pylay_sym (looked up at start-up): nothing here calls
 * dlsym.
 */
#include <string.h>

#include "pylayout.h"
#include "pywrap.h"
#include "peek.h"

#define PYS_ROOM 80u     /* PyList_MAXFREELIST, PyDict_MAXFREELIST */
#define PYS_SIZES 20u    /* tuple sizes kept */
#define PYS_TUPLES 2000u /* PyTuple_MAXFREELIST */

static uint64_t pys_word(uintptr_t at)
{
    uint64_t v = 0;
    return at >= 4096 && peek(&v, at, sizeof v) ? v : 0;
}

/* A dead object's type: its address, basic size and item size
 * (tp_basicsize, tp_itemsize: 32 and 40 in 3.10-3.13), read once a list
 * of the walk, not once an object; basic 0 when unreadable. */
struct pys_type {
    uintptr_t t;
    uint64_t basic, item;
};

static struct pys_type pys_type_of(uintptr_t t)
{
    uint64_t s[2] = {0, 0};
    struct pys_type ty = {t, 0, 0};
    if (t && peek(s, t + 32, sizeof s) && s[0] <= 4096 && s[1] <= 64)
        ty.basic = s[0], ty.item = s[1];
    return ty;
}

/* The first n words (2 to 4) of a dead object at o, in one read: its
 * count (or its list's link), its type, and for a tuple its size and
 * first item (its chain's link); 0 when unreadable. */
static int pys_head(uintptr_t o, uint64_t *w, size_t n)
{
    return o >= 4096 && !(o & 7) && peek(w, o, n * 8);
}

/* What a walk tells: each dead object's block (fn), or only the stale
 * words of the dead lists and dicts (stale; then fn is NULL). */
struct pys_out {
    pyw_seed_fn fn;
    pyw_stale_fn stale;
    void *arg;
};

/* A dead object at o whose first words w[0..1] were read (count 0, type
 * ty; linked: its first word is its list's link instead), n items: out's
 * fn given its block, or its stale words to out's stale (a list's
 * ob_item, a dict's ma_keys and ma_values); 1, or 0 when it reads as
 * none. */
static int pys_one(uintptr_t o, const uint64_t *w, const struct pys_type *ty, uint64_t n,
                   int linked, const struct pys_out *out)
{
    if (!ty->basic || (!linked && w[0] != 0) || w[1] != ty->t)
        return 0;
    if (out->fn)
        out->fn(o - PY_GC_HEAD, PY_GC_HEAD + ((ty->basic + n * ty->item + 7) & ~7ull), out->arg);
    else if (ty->t == pylay_sym.list_type)
        out->stale(o + PY_LIST_ITEMS, o + PY_LIST_ITEMS + 8, out->arg);
    else if (ty->t == pylay_sym.dict_type)
        out->stale(o + PY_DICT_KEYS, o + PY_DICT_KEYS + 16, out->arg);
    return 1;
}

/* A dead keys table at d (count 0) of the keys' free list (8 slots, the
 * only size kept): fn given its block and the size asked for it (3.10:
 * its header, an index byte a slot and 5 entries of 24 bytes; 3.11 on:
 * its header, 1 << dk_log2_index_bytes and 5 entries of 16 bytes (str
 * keys) or 24); 1, or 0 when it reads as none. */
static int pys_keys(uintptr_t d, int linked, const struct pys_out *out, uintptr_t *next)
{
    uint64_t kw[5];
    uint8_t *k = (uint8_t *)kw;
    uint64_t size;
    if (!pys_head(d, kw, 5) || (!linked && kw[0] != 0))
        return 0;
    *next = kw[0];
    if (pylay_lay->version < 0x030b0000u) {
        memcpy(&size, k + 8, 8);
        if (size != 8)
            return 0;
        out->fn(d, 40 + 8 + 24 * 5, out->arg);
    } else {
        if (k[8] != 3 || k[9] > 6)
            return 0;
        out->fn(d, 32 + (1ull << k[9]) + (k[10] ? 16 : 24) * 5, out->arg);
    }
    return 1;
}

/* Where the dicts' slots, the keys' slots and the keys' count are, from
 * the dicts' count (layout_check.c's check_gc): 3.12 puts both arrays
 * before both counts, the others each array before its count. */
static void pys_dict_places(int32_t *dicts, int32_t *keys, int32_t *nkeys)
{
    if ((pylay_lay->version & 0xffff0000u) == 0x030c0000u)
        *dicts = -1280, *keys = -640, *nkeys = 4;
    else
        *dicts = -640, *keys = 8, *nkeys = 648;
}

/* 3.14 on: the struct _Py_freelist whose count is at interp + at (its
 * head the word before), of objects of type t (a tuple's: size items;
 * keys: t 0), each linked through its first word; how many named. */
static unsigned pys_chain(uintptr_t interp, uint32_t at, uintptr_t t, uint64_t size,
                          unsigned room, const struct pys_out *out)
{
    int64_t nf = (int64_t)pys_word(interp + at);
    uintptr_t o = pys_word(interp + at - 8);
    const struct pys_type ty = pys_type_of(t);
    unsigned seen = 0;
    for (int64_t j = 0; o && j < nf && j < (int64_t)room; j++, seen++) {
        uint64_t w[3]; /* link, type, a tuple's size */
        if (!t) {
            if (!pys_keys(o, 1, out, &o))
                break;
            continue;
        }
        if (!pys_head(o, w, size ? 3 : 2) || (size && w[2] != size) ||
            !pys_one(o, w, &ty, size, 1, out))
            break;
        o = w[0];
    }
    return seen;
}

/* 3.14 on (pylay_gc_layout's linked): lists, dicts, their keys, tuples, and
 * the other gc types kept (pylay_fl_types). */
static unsigned pys_linked(uintptr_t interp, const struct pylay_gc_layout *gl, uintptr_t tuple,
                           const struct pys_out *out)
{
    unsigned seen = pys_chain(interp, gl->list_numfree, pylay_sym.list_type, 0, PYS_ROOM, out) +
                    pys_chain(interp, gl->dict_numfree, pylay_sym.dict_type, 0, PYS_ROOM, out);
    if (!out->fn) /* the stale words: lists' and dicts' only */
        return seen;
    seen += pys_chain(interp, gl->dict_numfree + 16, 0, 0, PYS_ROOM, out);
    for (unsigned i = 0; tuple && i < PYS_SIZES; i++)
        seen += pys_chain(interp, gl->tuple_numfree + 16 * i, tuple, i + gl->tuple_base,
                          PYS_TUPLES, out);
    /* iterators, contexts, methods (pylay_fl_types) */
    uint32_t lo[PY_SPANS], hi[PY_SPANS];
    unsigned n;
    const struct pylay_fl_type *fl = pylay_fl_types(pylay_sym.version, &n);
    for (unsigned k = 0; fl && pylay_borrowed_spans(pylay_sym.version, lo, hi) && k < n; k++) {
        uintptr_t t = pylay_sym.fl_type[k];
        if (t)
            seen += pys_chain(interp, lo[0] + fl[k].at + 8u, t, 0, fl[k].room, out);
    }
    return seen;
}

static unsigned pys_walk(const struct pys_out *out)
{
    struct pylay_gc_layout gl;
    void *runtime = pylay_sym.runtime;
    uintptr_t interp = pylay_sym.interp_main ? (uintptr_t)pylay_sym.interp_main() : 0;
    uintptr_t tuple = pylay_sym.tuple_type;
    unsigned seen = 0;
    if (!interp || !pylay_sym.list_type || !pylay_sym.dict_type ||
        pylay_gc_layout_find(pylay_sym.version, runtime, &gl) != 0)
        return 0;
    if (gl.linked)
        return pys_linked(interp, &gl, tuple, out);
    /* lists and dicts: slots [0, numfree) (pys_dict_places) */
    int32_t dicts, keys_at, nkeys_at;
    pys_dict_places(&dicts, &keys_at, &nkeys_at);
    const uint32_t at[2] = {gl.list_numfree, gl.dict_numfree};
    const int32_t slots[2] = {-(int32_t)(PYS_ROOM * 8), dicts};
    const uintptr_t ty[2] = {pylay_sym.list_type, pylay_sym.dict_type};
    for (int k = 0; k < 2; k++) {
        const struct pys_type t = pys_type_of(ty[k]);
        int32_t nf = 0;
        uintptr_t slot[PYS_ROOM];
        uintptr_t lo = interp + at[k] + slots[k];
        if (!peek(&nf, interp + at[k], sizeof nf) || nf <= 0 || nf > (int32_t)PYS_ROOM ||
            !peek(slot, lo, (size_t)nf * 8))
            continue;
        for (int32_t i = 0; i < nf; i++) {
            uint64_t w[2];
            seen += pys_head(slot[i], w, 2) && pys_one(slot[i], w, &t, 0, 0, out);
        }
    }
    if (!out->fn) /* the stale words: lists' and dicts' only */
        return seen;
    /* a dict's keys tables */
    int32_t nk = 0;
    uintptr_t keys[PYS_ROOM];
    uintptr_t klo = interp + gl.dict_numfree + keys_at;
    if (peek(&nk, interp + gl.dict_numfree + nkeys_at, sizeof nk) && nk > 0 &&
        nk <= (int32_t)PYS_ROOM && peek(keys, klo, (size_t)nk * 8))
        for (int32_t i = 0; i < nk; i++) {
            uintptr_t next;
            seen += (unsigned)pys_keys(keys[i], 0, out, &next);
        }
    /* tuples: a chain a size, linked by ob_item[0], the heads before the
     * counts (an int each); index i holds size i + tuple_base */
    uintptr_t heads[PYS_SIZES];
    int32_t nfs[PYS_SIZES];
    if (!tuple || !peek(heads, interp + gl.tuple_numfree - sizeof heads, sizeof heads) ||
        !peek(nfs, interp + gl.tuple_numfree, sizeof nfs))
        return seen;
    const struct pys_type tt = pys_type_of(tuple);
    for (unsigned i = 0; i < PYS_SIZES; i++) {
        uint64_t size = i + gl.tuple_base;
        uintptr_t o = heads[i];
        for (int32_t j = 0; size && o && j < nfs[i] && j < (int32_t)PYS_TUPLES; j++) {
            uint64_t w[4]; /* count, type, size, ob_item[0]: the next */
            if (!pys_head(o, w, 4) || w[2] != size || !pys_one(o, w, &tt, size, 0, out))
                break;
            seen++;
            o = w[3];
        }
    }
    return seen;
}

unsigned pyw_seed_each(pyw_seed_fn fn, void *arg)
{
    const struct pys_out out = {fn, NULL, arg};
    return pys_walk(&out);
}

unsigned pyw_seed_stale(pyw_stale_fn fn, void *arg)
{
    const struct pys_out out = {NULL, fn, arg};
    return pys_walk(&out);
}
