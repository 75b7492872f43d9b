/*
 * pyinner.h - what the files of the Python room share: the layout of the
 * interpreter in use (layout.c), the symbols found (domain.c), the code
 * table (code.c).  Nothing outside shim/python/ includes it.
 */
#ifndef HEAPSNAP_PYTHON_INNER_H
#define HEAPSNAP_PYTHON_INNER_H

#include <stddef.h>
#include <stdint.h>

#include "hsnap_pyformat.h"
#include "record.h"
#include "unwind.h"
#include "python.h"

/* How a version chains the frames one native call of the evaluation loop
 * runs (stack.c). */
enum {
    PY_FRAMES_OBJECT = 1, /* 3.10: PyFrameObject, one a call; f_lasti in code units */
    PY_FRAMES_ENTRY,      /* 3.11: _PyInterpreterFrame, is_entry marks a call's first */
    PY_FRAMES_OWNER,      /* 3.12 on: a call's first follows a frame owned by the C stack */
};

/* Where one CPython version keeps what we read, in bytes from the start
 * of each object (x86-64).  A version is an entry in layout.c's table,
 * checked against CPython's own headers by tests/shim/python/layout_check.c,
 * or (3.13 on) read from the interpreter's _Py_DebugOffsets. */
struct py_layout {
    uint32_t version;          /* Py_Version's major.minor: 0x030b0000 for 3.11 */
    const char *name;          /* "3.11" */
    uint8_t frames;            /* PY_FRAMES_* */
    uint8_t cstack;            /* PY_FRAMES_OWNER: the C stack's owner value */
    uint16_t ob_type;          /* PyObject: its type (a code object's death, domain.c) */
    /* PyThreadState -> _PyCFrame -> the innermost frame; ts_cframe 0: the
     * frame is the thread state's own, at cf_current (3.10, 3.13 on) */
    uint16_t ts_cframe, cf_current;
    /* the frame: its code, the next one out, its instruction (a pointer
     * into co_code; 3.10: the int f_lasti), is_entry or owner (a byte) */
    uint16_t fr_code, fr_previous, fr_instr, fr_entry;
    /* PyCodeObject: co_size is a word of its identity (ob_size; 3.10: the
     * co_code object), co_qualname its name (3.10: co_name), co_code its
     * instructions (3.11 on) */
    uint16_t co_size, co_firstlineno, co_filename, co_qualname, co_linetable, co_code;
    /* PyBytesObject, PyUnicodeObject (compact forms) */
    uint16_t bytes_size, bytes_data;
    uint16_t str_length, str_state, str_ascii_data, str_compact_data;
};

/* The entry for version (Py_Version), or NULL: a version we do not know. */
const struct py_layout *py_layout_find(uint32_t version);
/* Where the fields read of _Py_DebugOffsets are, in bytes from its start,
 * for one shape of the struct (it changes between minor versions). */
struct py_debug_format {
    uint32_t version;                 /* major.minor of the shape: 0x030d0000 */
    uint16_t free_threaded;
    uint16_t ts_current_frame;
    uint16_t fr_previous, fr_executable, fr_instr_ptr, fr_owner;
    uint16_t co_filename, co_qualname, co_linetable, co_firstlineno, co_code_adaptive;
    uint16_t ob_type;
    uint16_t bytes_ob_size, bytes_ob_sval;
    uint16_t str_state, str_length, str_ascii_size;
    uint16_t interp_gc, gc_collecting; /* pygcfreed.c's flag */
    /* what the object row has too (3.14 on; 0: not read): the interpreter's
     * threads and modules, a frame's locals and their names, a tuple's items */
    uint16_t interp_threads, interp_modules, fr_localsplus, co_localsplusnames, tuple_ob_item;
};
const struct py_debug_format *py_debug_format_find(uint32_t version); /* or NULL */
/* Where the main interpreter keeps what pygcfreed.c reads, in bytes from
 * the PyInterpreterState: its collector's gcstate->collecting (an int;
 * its generation_stats, 3 x {collections, collected, uncollectable} as
 * Py_ssize_t, end where it starts), and the numfree counts (ints) of the
 * free lists of lists, dicts, tuples (one a size: index size - tuple_base)
 * and frames (3.10; 0: none).  From 3.13 on, collecting is the
 * interpreter's _Py_DebugOffsets' (runtime: _PyRuntime).  From 3.14 on
 * (linked) each free list is a struct _Py_freelist: its head, the free
 * objects linked through their first word, then its count (a Py_ssize_t,
 * the numfree places), the tuples' 16 bytes apart, the keys' list right
 * after the dicts'; gens: where the generations are (py_gens_at; 0:
 * searched, py_gens_find); ring: the collector's stats are behind a
 * pointer (3.15: PY_GCR_*), not before collecting.  0, or -1: a version
 * without a row. */
struct py_gc_layout {
    uint32_t version, collecting, list_numfree, dict_numfree, tuple_numfree, tuple_base,
        frame_numfree, gens;
    uint8_t linked, ring;
};
int py_gc_layout_find(uint32_t version, const void *runtime, struct py_gc_layout *out);
/* 3.14's and 3.15's free lists of gc types other than lists, dicts and
 * tuples, in struct _Py_freelists (its place: py_borrowed_spans' first):
 * the type's exported symbol, offsetof its struct _Py_freelist, its most
 * objects.  Their *n entries for version (0: none). */
struct py_fl_type {
    const char *sym;
    uint16_t at, room;
};
const struct py_fl_type *py_fl_types(uint32_t version, unsigned *n);
#define PY_GC_STATS_BYTES 72
/* 3.15's struct gc_stats, where gc.generation_stats (the word before
 * gc.collecting) points: a ring of struct gc_generation_stats a
 * generation, each entry the totals after one collection (collections,
 * then collected: Py_ssize_t at PY_GCR_TOTALS), the latest at the int8
 * index past the ring's items; the young generation's ring first, then
 * each old one's (layout_check.c's check_gc). */
#define PY_GCR_ITEM 64     /* sizeof(struct gc_generation_stats) */
#define PY_GCR_TOTALS 16   /* offsetof(..., collections); collected the next word */
#define PY_GCR_YOUNG 11u   /* GC_YOUNG_STATS_SIZE */
#define PY_GCR_OLD 3u      /* GC_OLD_STATS_SIZE */
#define PY_GCR_BUF(n) ((n) * PY_GCR_ITEM + 8u) /* a ring: its items, its index */
#define PY_GCR_AT(g) ((g) ? PY_GCR_BUF(PY_GCR_YOUNG) + ((g) - 1u) * PY_GCR_BUF(PY_GCR_OLD) : 0u)
#define PY_GCR_N(g) ((g) ? PY_GCR_OLD : PY_GCR_YOUNG)

/* The readable ranges of the address space at one moment (pymaps.c):
 * loaded before a walk of the interpreter's memory (0, or -1: no walk),
 * then asked before each load of it (1: the n bytes at p are readable). */
int pymap_load(void);
int pymap_readable(uintptr_t p, size_t n);

/* The heads of the collector's three generations and its permanent one in
 * the interpreter's state at interp, whose gc.collecting is at collecting
 * (pygens.c): 0, or -1 when no candidate verifies. */
int py_gens_find(uintptr_t interp, uint32_t collecting, uintptr_t heads[4]);
/* ... 3.14 on, where the row says (gens: offsetof gc.generations; the
 * permanent generation right after them), verified as py_gens_find's. */
int py_gens_at(uintptr_t interp, uint32_t gens, uintptr_t heads[4]);

/* The spans [lo[k], hi[k]) of PyInterpreterState (bytes from its start,
 * in order) that hold no reference of their own: its free lists (their
 * slots are free objects, past numfree stale addresses of objects since
 * freed) and borrowed caches; how many (0: none known). */
#define PY_SPANS 2
unsigned py_borrowed_spans(uint32_t version, uint32_t lo[PY_SPANS], uint32_t hi[PY_SPANS]);

/* Where _PyRuntime holds tracemalloc's config (3.12 and 3.13; 0: no row). */
uint32_t py_tm_config_at(uint32_t version);

/* Where PyThreadState holds datastack_top (3.11 on; datastack_limit is the
 * next word, datastack_chunk the one before): the frames' data stack,
 * whose words from its top to its limit are dead frames'; 0: no row. */
uint32_t py_datastack_top_at(uint32_t version);
/* 3.10-3.12: where PyInterpreterState holds float_state.numfree (its
 * head the next word); 0: no row (pyfreewatch.c). */
uint32_t py_float_numfree_at(uint32_t version);
/* 3.10: PyCodeObject's co_zombieframe (the frame its last call returned,
 * kept for the next: its value stack is dead) and co_stacksize (an int),
 * PyFrameObject's f_valuestack; 0: no row (no such frames). */
struct py_zombie {
    uint16_t co_zombieframe, co_stacksize, f_valuestack;
};
int py_zombie_find(uint32_t version, struct py_zombie *out);

/* The layout the interpreter publishes in its _Py_DebugOffsets (the start
 * of _PyRuntime, at runtime), into *out: 0, or -1 with *why (a note's
 * end) and *code (HSNAP_PYUNREAD_*) when it publishes none heapsnap can
 * read or a free-threaded build. */
int py_layout_published(const void *runtime, uint32_t version, struct py_layout *out,
                        const char **why, uint32_t *code);
extern const struct py_layout *py_lay; /* the interpreter's, once found */

/* What pytype.c reads of objects and their types, for one version: the
 * rest of PyTypeObject it reads (PY_TP_*) is the same in 3.10-3.13 and
 * checked against each version's headers with this row (layout_check.c). */
enum { PY_KEYS_310 = 1, /* PyDictKeysObject: dk_size, indices by size */
       PY_KEYS_311 };   /* dk_log2_size, dk_log2_index_bytes, dk_kind */
struct py_obj_layout {
    uint32_t version;     /* as py_layout's */
    uint16_t ht_qualname; /* PyHeapTypeObject */
    uint8_t keys;         /* PY_KEYS_* */
    /* tp_flags bits that put two words before an object's PyGC_Head
     * (3.11: Py_TPFLAGS_MANAGED_DICT; 3.12 on: Py_TPFLAGS_PREHEADER) */
    uint32_t preheader;
    /* the roots (pyroots.c): PyInterpreterState's modules dict (3.12 on:
     * imports.modules), PyHeapTypeObject's ht_cached_keys, a frame's fast
     * locals (3.10: PyFrameObject's f_localsplus; then _PyInterpreterFrame's
     * localsplus), their names (3.10: co_varnames, co_cellvars, co_freevars;
     * then co_localsplusnames, co_cellvars 0) and count (an int: 3.10's
     * co_nlocals, then co_nlocalsplus) */
    uint16_t interp_modules, ht_cached_keys, fr_localsplus;
    uint16_t interp_threads; /* its first thread state (3.10: tstate_head) */
    uint16_t co_names, co_cellvars, co_freevars, co_nnames;
    uint16_t tuple_items; /* PyTupleObject's ob_item (3.14 on: past ob_hash) */
};
#define PY_TP_MEMBERS 240
#define PY_TP_BASE 256
#define PY_TP_DICTOFFSET 288
#define PY_TPF_INLINE_VALUES (1ul << 2) /* 3.13 on: a class's values in the object */
#define PY_TP_NAME 24
#define PY_TP_BASICSIZE 32
#define PY_TP_ITEMSIZE 40
#define PY_TP_FLAGS 168
#define PY_TP_DICT 264
#define PY_TP_DEL 376
#define PY_TP_FINALIZE 392
#define PY_TPF_READY (1ul << 12)
#define PY_TPF_HAVE_GC (1ul << 14)
#define PY_TPF_LONG_SUBCLASS (1ul << 24) /* int, bool */
#define PY_TPF_BYTES_SUBCLASS (1ul << 27)
#define PY_TPF_UNICODE_SUBCLASS (1ul << 28)
#define PY_TPF_HEAPTYPE (1ul << 9)
#define PY_TPF_TYPE_SUBCLASS (1ul << 31)
#define PY_GC_HEAD 16 /* sizeof(PyGC_Head) */
/* PyFunctionObject's func_defaults, then func_kwdefaults and func_closure
 * (3.10-3.13: layout_check.c): getsets, no members, but __closure__ */
#define PY_FUNC_DEFAULTS 56
/* The row for version, or NULL: no object types then; once
 * py_obj_layout_publish has read the interpreter's, that one. */
const struct py_obj_layout *py_obj_layout_find(uint32_t version);
/* The row for version with the fields the interpreter's _Py_DebugOffsets
 * (runtime: _PyRuntime) publish taken from them (3.14 on), for
 * py_obj_layout_find: 1 the same as the row, 0 not (the interpreter's
 * taken), -1 none published, or out of range (the row stays). */
int py_obj_layout_publish(const void *runtime, uint32_t version);
/* code.c: the UTF-8 text of the compact str object at s into out (cap
 * bytes); its length (0: none, or not a compact str). */
uint32_t py_str(const char *s, char *out, uint32_t cap);

/* pygraph.c: the reference graph of the objects pytype.c found, at a
 * snapshot.  How a type's objects are walked: */
enum { PYG_OTHER,    /* its own block */
       PYG_LIST,     /* ... and ob_item[0, ob_size) */
       PYG_DICT,     /* ... and its keys table (combined) or values */
       PYG_SET,      /* ... and its table when it is not the small one */
       PYG_WEAKREF,  /* wr_callback only (the referent and the list are borrowed) */
       PYG_INSTANCE  /* a class's instance: its block, and the values array its
                        pre-header names (3.11, 3.12) */ };
#define PYG_NONE UINT32_MAX
struct pyg_type {          /* what the walk keeps of a type, by id */
    uint64_t flags;        /* tp_flags */
    int64_t basic, item;   /* tp_basicsize, tp_itemsize */
    uintptr_t addr;
    uint8_t kind;          /* PYG_* */
    int64_t dictoffset;    /* tp_dictoffset (3.10's instance __dict__) */
    uintptr_t cached_keys; /* a class's ht_cached_keys: its instances'
                              values arrays' names (3.11 on), or 0 */
};
struct pyg_block {         /* a live block, in address order: 8 bytes */
    uint64_t addr : 48;    /* a user address (pytype.c takes none above) */
    uint64_t size : 16;    /* bytes; PYG_BIG: in pyg_heap's big (pyg_size) */
};
#define PYG_BIG 0xffffu
#define PYG_ADDR_MAX (1ull << 48)
struct pyg_big {           /* a block of PYG_BIG bytes or more */
    uint64_t addr, size;
};
/* Which blocks hold an object, 64 blocks a word: the objects come in
 * block order (pytype.c), so a block's object is its rank among them. */
struct pyg_rank {
    uint64_t bits;         /* block 64 * word + k holds one: bit k */
    uint64_t before;       /* the objects in the blocks before the word's */
};
struct pyg_obj {             /* 8 bytes: a million objects, 8 MiB */
    uint64_t refcnt : 32;    /* ob_refcnt as read, PYG_REFCNT_MAX at most (an
                                immortal's, 3.12 on, and any larger) */
    uint64_t off : 6;        /* the object's start in its block: 0, 16 or 32 */
    uint64_t tracked : 1;    /* a gc object the collector tracks */
    uint64_t garbage : 1;    /* the collector's garbage (pyg_build's marking) */
    uint64_t external : 1;   /* referenced from outside (pyg_build's marking) */
    uint64_t reached : 1;    /* the marking's: reached from a root */
    uint64_t parent : 1;     /* the marking put its parent (struct pyg_parent) */
    uint64_t type : 21;      /* below PYG_TYPES_MAX (pytype.c gives the graph up) */
};                           /* its block: pyg_blk_of, pyg_next */
#define PYG_REFCNT_MAX 0xffffffffull
#define PYG_TYPES_MAX (1u << 21)
struct pyg_heap {          /* arena_map'd arrays, grown by pytype.c */
    struct pyg_block *blk;
    struct pyg_obj *obj;
    uint64_t nblk;
    struct pyg_big *big;   /* ascending */
    uint64_t nbig, capbig;
    struct pyg_rank *rank; /* by block / 64 (pyg_obj_of) */
    uint32_t *sel;         /* by object / 64: the block of object 64 * k */
    uint64_t nrank, caprank; /* the words whose before is set; mapped */
    uint64_t capsel;
    int want;              /* the arrays are being filled (0: given up) */
};
/* Block b's size (b in h). */
uint64_t pyg_big_size(const struct pyg_heap *h, uint64_t addr);
static inline uint64_t pyg_size(const struct pyg_heap *h, const struct pyg_block *b)
{
    return b->size != PYG_BIG ? b->size : pyg_big_size(h, b->addr);
}
/* The object block bj of h holds (its index), or PYG_NONE. */
static inline uint32_t pyg_obj_of(const struct pyg_heap *h, uint64_t bj)
{
    const struct pyg_rank *r = &h->rank[bj / 64];
    uint64_t bit = 1ull << (bj % 64);
    return r->bits & bit ? (uint32_t)(r->before + hs_popcount64(r->bits & (bit - 1)))
                         : PYG_NONE;
}
/* The objects in the blocks of h before block bj; bj less those: its
 * index among the blocks without one (when it has none). */
static inline uint64_t pyg_objs_below(const struct pyg_heap *h, uint64_t bj)
{
    const struct pyg_rank *r = &h->rank[bj / 64];
    return r->before + (uint64_t)hs_popcount64(r->bits & ((1ull << (bj % 64)) - 1));
}
/* Block bj of h holds object i: the objects come in block order, so
 * the words up to bj's have all the objects before i (pyg_rank_end:
 * nobj in all, for the words after the last object's). */
static inline void pyg_rank_set(struct pyg_heap *h, uint64_t bj, uint64_t i)
{
    for (; h->nrank <= bj / 64; h->nrank++)
        h->rank[h->nrank].before = i;
    h->rank[bj / 64].bits |= 1ull << (bj % 64);
    if (!(i % 64))
        h->sel[i / 64] = (uint32_t)bj;
}
/* The block of h's object i (< the objects): from the block of object
 * 64 * (i / 64), the words' counts, then the set bits of one word. */
static inline uint64_t pyg_blk_of(const struct pyg_heap *h, uint64_t i)
{
    uint64_t w = h->sel[i / 64] / 64;
    while (w + 1 < h->nrank && h->rank[w + 1].before <= i)
        w++;
    uint64_t bits = h->rank[w].bits;
    for (uint64_t k = i - h->rank[w].before; k; k--)
        bits &= bits - 1;
    return w * 64 + (uint64_t)__builtin_ctzll(bits);
}
/* The objects in order with their blocks: from {0, UINT64_MAX}, each
 * call sets it->i (its object's index, counted) and it->bj; 0 at the end. */
struct pyg_it {
    uint64_t n, bj; /* objects seen; the last one's block */
};
static inline int pyg_next(const struct pyg_heap *h, uint64_t nobj, struct pyg_it *it,
                           uint64_t *i)
{
    if (it->n >= nobj)
        return 0;
    uint64_t b = it->bj + 1, w = b / 64;
    uint64_t bits = w < h->nrank ? h->rank[w].bits & (~0ull << (b % 64)) : 0;
    while (!bits && ++w < h->nrank)
        bits = h->rank[w].bits;
    if (!bits)
        return 0;
    it->bj = w * 64 + (uint64_t)__builtin_ctzll(bits);
    *i = it->n++;
    return 1;
}
static inline void pyg_rank_end(struct pyg_heap *h, uint64_t nobj)
{
    for (; h->nblk && h->nrank <= (h->nblk - 1) / 64; h->nrank++)
        h->rank[h->nrank].before = nobj;
}
/* The block of h with no object that starts exactly at addr, or PYG_NONE
 * (what an object's field owns: pynumpy.c's buffers, pyfields.c's). */
static inline uint32_t pyg_bare_block_at(const struct pyg_heap *h, uint64_t addr)
{
    uint64_t lo = 0, hi = h->nblk;
    while (lo < hi) {
        uint64_t mid = lo + (hi - lo) / 2;
        if (h->blk[mid].addr < addr)
            lo = mid + 1;
        else
            hi = mid;
    }
    return lo < h->nblk && h->blk[lo].addr == addr && pyg_obj_of(h, lo) == PYG_NONE
               ? (uint32_t)lo : PYG_NONE;
}
/* The kind of the type at t (tb: its first PY_TP_FINALIZE + 8 bytes). */
uint8_t pyg_kind(uintptr_t t, const char *tb, uint64_t flags);
/* pyplain.c: the words of an object of kind kind (its type's flags)
 * that hold a number, as bits by word from its start (the first 64). */
uint64_t py_plain_words(unsigned kind, uint64_t flags);
/* Whether its instances hold numbers inline (an int's or bytes' subclass);
 * then the span [*lo, *hi) bytes from the object that does, from its
 * size word (at 16) and the scan's limit max. */
int py_plain_inline(uint64_t flags);
void py_plain_inline_span(uint64_t flags, uint64_t size, uint64_t max, uint64_t *lo,
                          uint64_t *hi);
/* A reached object's parent, the link by which the marking reached it
 * first (a struct hsnap_pylink to the object, which is left out: the
 * objects whose pyg_obj.parent is set, in their order), as
 * pym_parent_next reads it back: 8 to 20 bytes where the section's link
 * takes 24, for the stop's peak. */
struct pyg_parent {
    uint32_t from, value, name_off;
    uint32_t label_len; /* HSNAP_PYLABEL_* (| HSNAP_PYLINK_REPR) | the name's length << 4 */
};
/* The graph over h's nobj objects (types ty): each object's marks
 * (struct pyg_obj's garbage and external), the garbage's links (struct
 * hsnap_pylink) into links, the reached ones' parents (struct
 * pyg_parent) into parents, and into *owner the owners' array (by block
 * without an object, bj - pyg_objs_below: its owner + 1, 0 for none;
 * PYG_OWNERS entries from arena_map, the caller's to give back).  0, or
 * -1 (out of memory: no marks, *owner untouched). */
#define PYG_OWNERS(h, nobj) ((h)->nblk - (nobj) + 1)
/* pyowned.c, for pyg_build: the owners' array *owner (cap entries),
 * which the marking does not read, packed in a byte an owner or so (*owner
 * NULL; left as it is without room), and made whole again (0, or -1: out
 * of memory, *owner NULL). */
void pyo_pack(uint32_t **owner, uint64_t cap);
int pyo_unpack(uint32_t **owner, uint64_t cap);
struct sbuf;
int pyg_build(const struct pyg_heap *h, uint64_t nobj, const struct pyg_type *ty,
              struct sbuf *links, struct sbuf *parents, struct sbuf *names, uint32_t **owner);
/* pygraph.c, for pyroots.c while pyg_build runs: the tracked object
 * that starts at w, the object whose block holds address at (PYG_NONE:
 * none), and a named root: obj is referenced from what the description
 * name[0, n) names (kind: HSNAP_PYROOT_*); exact: a reference its count
 * holds that no edge of the graph is (it is subtracted as the graph's). */
uint32_t pyg_tracked_at(uint64_t w);
/* Of the n words w (n <= PYG_WORDS), those pyg_tracked_at finds an
 * object at: their places into at[], the objects into obj[], in order;
 * how many. */
#define PYG_WORDS 512u
size_t pyg_tracked_all(const uint64_t *w, size_t n, uint32_t *at, uint32_t *obj);
uint32_t pyg_object_at(uint64_t w); /* an object starting at w, tracked or not */
uint32_t pyg_object_holding(uint64_t at);
void pyg_root(uint32_t obj, uint32_t kind, const char *name, uint32_t n, int exact);
struct pyg_root {               /* a named root, as pyg_root took it */
    uint32_t dst, kind;         /* kind: HSNAP_PYROOT_* | PYG_EXACT */
    uint32_t name_off, name_len;
};
#define PYG_EXACT 0x100u           /* a root's kind: its reference is counted */
#define PYG_IMMORTAL 0xffffffffull /* 3.12 on: such a count is an immortal's */
/* pygraph.c, for pymark.c: the link of an edge, its name put once. */
struct pyg_edge;
struct hsnap_pylink pyg_link_of(const struct pyg_edge *e);
/* pymark.c, for pygraph.c: h's nobj objects' garbage and external marks
 * from the nroot named roots, the garbage's links (struct hsnap_pylink)
 * into links and the reached ones' parents (struct pyg_parent) into
 * parents; each obj's parent bit set where one was put.  0, or -1 (out of
 * memory). */
int pym_mark(const struct pyg_heap *h, uint64_t nobj, const struct pyg_root *root, uint64_t nroot,
             struct sbuf *links, struct sbuf *parents);
/* The parents pym_mark put into b: their count, and the next one from
 * *at (0 at first; moved past it). */
uint64_t pym_nparents(const struct sbuf *b);
void pym_parent_next(const struct sbuf *b, uint64_t *at, struct pyg_parent *p);
/* pycycle.c, for pygraph.c's marking: each garbage object's link (via,
 * an edge's place in c; PYG_NONE on entry) among c's objects' edges, so
 * that the link from one object of each garbage group (site, type) is a
 * cycle through it; the rest keep their first reference to garbage. */
struct pye_csr;
void pyc_links(const struct pyg_heap *h, const struct pye_csr *c, uint32_t *via);
/* pylink.c, for pygraph.c: a link (src holds dst by label, value: a
 * field's offset, an item's index; key: KEY's str, or a keys object | 1)
 * with its name put in names once; pyg_link_begin at each graph's start. */
void pyg_link_begin(struct sbuf *names);
struct hsnap_pylink pyg_link(const struct pyg_heap *h, const struct pyg_type *ty, uint32_t src,
                             uint32_t dst, uint32_t label, uint32_t value, uint64_t key);
/* pynumpy.c: the blocks numpy arrays among h's nobj objects (types ty,
 * nty of them) own (a data buffer, dimensions) set in owner (the owners'
 * array, pyg_build's: the graph's entries kept); how many were added. */
int pynp_owned(const struct pyg_heap *h, uint64_t nobj, const struct pyg_type *ty, uint32_t nty,
               uint32_t *owner);
/* pyfields.c: the blocks the fields of h's objects of non-gc types hold
 * (at their start, owned by no one yet) set in owner the same way; how
 * many were added, or -1 (out of memory). */
int pyfl_owned(const struct pyg_heap *h, uint64_t nobj, const struct pyg_type *ty,
               uint32_t *owner);
/* The graph's walk lends its copies (pygraph.c): pyfl_begin before it
 * (h's blocks and objects, of types ty); pyfl_wants: whether object i
 * (in block bj) has fields read, their span [*at, *at + *len); pyfl_see:
 * that span's copy p (NULL: unreadable); pyfl_owned then claims what it
 * saw.  pyfl_drop: what pyfl_begin kept, given back (no claim). */
void pyfl_begin(const struct pyg_heap *h, const struct pyg_type *ty);
int pyfl_wants(uint64_t i, uint64_t bj, uint64_t *at, uint32_t *len);
void pyfl_see(uint32_t i, uint64_t at, const char *p, uint32_t len); /* under pyf_build */
void pyfl_drop(void);
/* pyowned.c: PYOWNED from owner (pyg_build's owners' array over h's
 * nobj objects, taken over, NULL: none), once numpy's arrays and the
 * other objects' fields have set theirs in it (pynp_owned, pyfl_owned);
 * pyo_records puts the section into owned (not streamed); pyo_free gives
 * the array back. */
void pyo_make(const struct pyg_heap *h, uint64_t nobj, const struct pyg_type *ty, uint32_t nty,
              uint32_t *owner);
void pyo_records(struct sbuf *owned);
void pyo_free(void);
/* pycstack.c: the live part of thread tid's C stack [lo, hi): 1 when it
 * is blocked in a system call, *from its stack pointer less the red zone
 * and *pc its pc; 0 (*from = lo, *pc = 0) when not known (it runs).  The
 * code address in the function whose frame holds the stack's word at at
 * (from: the live part's start; pc: the innermost frame's), or 0. */
int pycs_live(int tid, uintptr_t lo, uintptr_t hi, uintptr_t *from, uintptr_t *pc);
uintptr_t pycs_frame_pc(uintptr_t at, uintptr_t from, uintptr_t pc);
/* pycstack.c: the general registers of blocked thread tid (pycs_live's
 * from and pc) as the leak check's stop found them, while it still waits
 * there (stop_kept_regs): *n words, or NULL. */
const uintptr_t *pycs_regs(int tid, uintptr_t from, uintptr_t pc, size_t *n);
/* pyroots.c: the named roots (modules' globals, sys.modules, each thread's
 * frames' locals) handed to pyg_root. */
void pyroot_collect(void);
/* pyroots.c: fn(lo, hi, arg) for each writable segment of the C
 * extensions (and their libraries) loaded, not the interpreter's nor the
 * shim's: their static data. */
void pyroot_statics(void (*fn)(uintptr_t lo, uintptr_t hi, void *arg), void *arg);
/* pyroots.c: entry i of the dict keys object at keys (read safely): its
 * key, and its value into *value (may be NULL); 0 when none. */
uintptr_t pyroot_keys_entry(uintptr_t keys, uint64_t i, uintptr_t *value);
/* pymember.c: the name of the field at offset off of an object of the type
 * at t (its tp_members, those of its bases, a class's and a function's
 * known fields), into out (cap bytes); its length. */
uint32_t pymem_name(uintptr_t t, uint64_t off, char *out, uint32_t cap);
/* pyknown.c: fields a type's layout holds that its members do not name.
 * pykn_kind: the kind of the type at t (flags: its tp_flags), PYKN_*;
 * pykn_name: the name of the field at offset value of the object at obj
 * (basic: its tp_basicsize) into out (cap bytes, at least 128): its
 * length, 0: none; *key: nonzero when the name is the object's own (a
 * frame's local: by its code and index), not its type's.  pykn_begin at
 * each graph (the types' cache). */
enum { PYKN_NONE, PYKN_EXC, PYKN_FUTURE, PYKN_FRAME, PYKN_TRACEBACK, PYKN_ARRAY };
void pykn_begin(void);
unsigned pykn_kind(uintptr_t t, uint64_t flags);
uint32_t pykn_name(uintptr_t t, uint64_t flags, int64_t basic, uint64_t obj, uint32_t value,
                   char *out, uint32_t cap, uint64_t *key);
/* pytname.c: the str at s as UTF-8 into out (cap bytes), read safely; its
 * length (0: none). */
uint32_t py_str_peek(uintptr_t s, char *out, uint32_t cap);
/* pytname.c: the name of the type at t whose first PY_TP_FINALIZE + 8
 * bytes are tb, into out (PY_TYPE_NAME_MAX bytes): tp_name, or for a class
 * __module__.__qualname__; its length, 0: none readable.  Each snapshot
 * calls py_type_names_begin first. */
#define PY_TYPE_NAME_MAX 512u
uint32_t py_type_name(const struct py_obj_layout *ol, uintptr_t t, const char *tb, uint64_t flags,
                      char *out);
void py_type_names_begin(void);
/* The arrays unmapped (capacities in elements); want cleared. */
void pyg_heap_free(struct pyg_heap *h, uint64_t capblk, uint64_t capobj);

#include "pyreads.h" /* pyfind.c, pyread.c, pypage.c */

/* The interpreter's functions, from dlsym(RTLD_DEFAULT) (domain.c). */
struct py_syms {
    void *(*this_thread)(void); /* PyGILState_GetThisThreadState */
    void *(*gil_holder)(void);  /* _PyThreadState_UncheckedGet */
    int (*finalizing)(void);    /* _Py_IsFinalizing */
    uintptr_t eval_lo, eval_hi; /* _PyEval_EvalFrameDefault's text */
    uintptr_t eval2_lo, eval2_hi; /* its loop split off by the compiler, or 0 */
    /* the interpreter's own text (stack.c's trim): [0] the executable
     * segments of the module that holds the evaluation loop (libpython,
     * or a static python executable), [1] a shared build's python
     * executable (its main); lo == hi: none */
    uintptr_t interp_lo[2], interp_hi[2];
    uintptr_t data_lo[4], data_hi[4]; /* [0]'s writable segments (pyroots.c) */
    uintptr_t code_type;        /* &PyCode_Type */
    uintptr_t str_type;         /* &PyUnicode_Type */
    uintptr_t type_type;        /* &PyType_Type */
    /* list, dict, set, frozenset; weakref's ref, proxy, callable proxy */
    uintptr_t list_type, dict_type, set_type, frozenset_type, weakref_type[3];
    uintptr_t cell_type, module_type, bytes_type, tuple_type, long_type;
    /* the roots (pyroots.c): the main interpreter (a field of _PyRuntime,
     * read without a lock) */
    void *(*interp_main)(void);
    uint32_t version;           /* Py_Version (or HEAPSNAP_PYTHON's) */
};
extern struct py_syms py_sym;
extern int py_trim; /* HEAPSNAP_PYTHON_NATIVE=trim (stack.c) */
extern _Atomic unsigned py_frames_max; /* heapsnap_python_frames' cap, 0: none (stack.c) */
extern _Atomic unsigned py_frames_gen; /* ... moved at each change (recent.c) */

static inline uintptr_t py_ptr(const char *base, uint16_t off)
{
    uintptr_t v;
    __builtin_memcpy(&v, base + off, sizeof v);
    return v;
}

/* A frame's code object: from 3.14 on f_executable is a _PyStackRef, its
 * low bit a tag (Py_TAG_REFCNT); objects are 16-aligned, so the tag bits
 * are cleared on every version. */
#define PY_CODE_TAGS ((uintptr_t)7)
static inline uintptr_t py_frame_code(const char *fr)
{
    return py_ptr(fr, py_lay->fr_code) & ~PY_CODE_TAGS;
}

/* code.c: the code object at co (alive: a frame of this thread names it)
 * as a small id for a trace word, copying it the first time; UINT32_MAX
 * when it cannot.  The table's own answer, under py_code_lock (taken
 * here), kept in this thread's cache; py_code_quick asks the cache first. */
uint32_t py_code_id(const char *co);
/* pyarray.c: a record array doubled in the arena by a copy; a graph's
 * array given room in its own mapping, moved */
void *py_array_double(void *old, uint32_t n, uint32_t *cap, size_t elem, uint32_t first);
int py_map_room(void **a, uint64_t need, uint64_t *cap, size_t elem, uint64_t first);

/* A thread's answer of the code table: the code object at addr is id, as
 * long as py_code_gen is gen.  py_code_gen moves whenever a code object
 * dies (domain.c's free of the OBJ domain sees its type) and whenever the
 * table gives an address a newer id, so while it stands, the object at
 * addr is the one the answer was given for: no code object can be born
 * at an address before the one there died. */
#define PY_CODE_CACHE 128u /* answers per thread (power of two) */
struct py_code_hit {
    uintptr_t addr;        /* 0: empty */
    uint32_t id, gen;
};
extern __thread struct py_code_hit *py_code_hits; /* NULL: none */
extern _Atomic uint32_t py_code_gen;

static inline struct py_code_hit *py_code_hit_of(const char *co)
{
    return &py_code_hits[((uintptr_t)co * 0x9e3779b97f4a7c15ull) >> 40 & (PY_CODE_CACHE - 1)];
}

/* py_code_id, from this thread's cache when it can (no lock).  The
 * identity check py_code_id makes is not repeated here: that one cost a
 * third of the Python frames' time (seven loads from the code object and
 * its line table, each frame of each allocation); the generation says as
 * much (above). */
static inline __attribute__((always_inline)) uint32_t py_code_quick(const char *co)
{
    if (HS_LIKELY(py_code_hits)) {
        const struct py_code_hit *h = py_code_hit_of(co);
        if (h->addr == (uintptr_t)co &&
            h->gen == atomic_load_explicit(&py_code_gen, memory_order_relaxed))
            return h->id;
    }
    return py_code_id(co);
}

/* domain.c's free of the OBJ domain: the object at p is going; if it may
 * be a code object, every thread's answers are void (py_code_hit).  Its
 * type is read where it cannot leave the block: size, the block's size
 * when it was in the books (0: not known).  A block of unknown size that
 * starts in a page's last 16 bytes is taken for a code object (every
 * PyObject has 16 bytes, but a raw buffer of the OBJ domain may be
 * shorter). */
static inline void py_code_maybe_dies(const char *p, uint64_t size)
{
    if (size ? size >= 16 && py_ptr(p, py_lay->ob_type) == py_sym.code_type
             : (((uintptr_t)p & 4095) > 4096 - 16 ||
                py_ptr(p, py_lay->ob_type) == py_sym.code_type))
        atomic_fetch_add_explicit(&py_code_gen, 1, memory_order_relaxed);
}

void py_code_thread_end(void); /* code.c: this thread's cache goes back */

/* A word of a trace naming a Python frame: HSNAP_PY_TAG | id | offset. */
static inline uint64_t py_frame_word(uint32_t code, uint32_t off)
{
    return HSNAP_PY_TAG | ((uint64_t)code << HSNAP_PY_CODE_SHIFT) |
           (off & HSNAP_PY_OFF_MASK);
}

/* A frame's instruction as read (3.10: the int f_lasti; then a pointer
 * into its code's co_code): with its code object, what its word is made
 * of (py_word_of).  The functions below that take the frame model
 * (PY_FRAMES_*) are always inlined, so that recent.c's walk, made for
 * every allocation, is compiled once per model with none of its tests;
 * py_lay->frames is the model to pass. */
static inline __attribute__((always_inline)) intptr_t py_frame_at(const char *fr, int model)
{
    const struct py_layout *l = py_lay;
    if (model == PY_FRAMES_OBJECT)
        return *(const int *)(fr + l->fr_instr);
    return (intptr_t)py_ptr(fr, l->fr_instr);
}

/* The word of a frame running code co at instruction at (py_frame_at),
 * or 0 when its code cannot be kept. */
static inline __attribute__((always_inline)) uint64_t py_word_of(const char *co, intptr_t at,
                                                                int model)
{
    if (!co)
        return 0;
    uint32_t id = py_code_quick(co);
    if (id == UINT32_MAX)
        return 0;
    intptr_t lasti = model == PY_FRAMES_OBJECT ? at : (at - (intptr_t)(co + py_lay->co_code)) / 2;
    if (lasti < -1 || lasti >= (intptr_t)HSNAP_PY_OFF_MASK)
        lasti = -1;
    return py_frame_word(id, (uint32_t)(lasti + 1));
}

/* From 3.12 on, a native call of the evaluation loop puts a frame of its
 * own (owned by the C stack, no code of the program's) below the first it
 * runs: fr, or the first frame out of it that is not one of those. */
static inline __attribute__((always_inline)) const char *py_frame_skip(const char *fr, int model)
{
    const struct py_layout *l = py_lay;
    if (model == PY_FRAMES_OWNER)
        while (fr && *(const uint8_t *)(fr + l->fr_entry) == l->cstack)
            fr = (const char *)py_ptr(fr, l->fr_previous);
    return fr;
}

/* The innermost Python frame of the thread whose state is ts, or NULL. */
static inline __attribute__((always_inline)) const char *py_frame_top(const char *ts, int model)
{
    const struct py_layout *l = py_lay;
    if (l->ts_cframe) {
        ts = (const char *)py_ptr(ts, l->ts_cframe);
        if (!ts)
            return NULL;
    }
    return py_frame_skip((const char *)py_ptr(ts, l->cf_current), model);
}

/* The Python frame out of fr, or NULL; *entry: fr was the first frame of
 * its native evaluation call (the next one is another call's). */
static inline __attribute__((always_inline)) const char *py_frame_next(const char *fr,
                                                                         int *entry, int model)
{
    const struct py_layout *l = py_lay;
    const char *up = (const char *)py_ptr(fr, l->fr_previous);
    if (model == PY_FRAMES_OBJECT) {
        *entry = 1;
        return up;
    }
    if (model == PY_FRAMES_ENTRY) {
        *entry = *(const uint8_t *)(fr + l->fr_entry) != 0;
        return up;
    }
    *entry = !up || *(const uint8_t *)(up + l->fr_entry) == l->cstack;
    return py_frame_skip(up, model);
}

/* recent.c: one walk of the thread's Python frames, innermost first, as
 * the splice (stack.c) and the thread's recent splices read it: made once
 * an allocation (py_again's walk is py_trace's), never past lim frames
 * with a word (no splice writes more), nor past PY_WALK_MAX frames.  A
 * frame's word is the last walk's where that walk had the same code and
 * instruction at the same place from the outermost frame walked (and no
 * code object died since: py_code_gen). */
#define PY_WALK_MAX (TRACE_DEPTH_MAX + 64)
#define PY_CHAIN_MAX 64u /* Python frames of a splice the recent splices keep */
struct py_walk {
    uint64_t hash;           /* of n, the entry flags and frames 1 .. n - 1's words */
    uint32_t n, lim;         /* frames walked; the frames with a word it stops at */
    uint8_t more;            /* frames beyond the walk */
    uint8_t cut;             /* ... and it stopped at PY_WALK_MAX, short of lim */
    uint8_t zero;            /* some frame's word is 0 */
    uint8_t keep;            /* a chain to keep: n <= PY_CHAIN_MAX, no word 0 */
    uint8_t valid;           /* py_again's walk, for py_trace (name, top) */
    uint8_t ext;             /* frames past lim walked (recent.c's py_walk_m) */
    uint32_t name;           /* py_again's native name */
    uintptr_t top;           /* the innermost frame's address */
    uint64_t entry;          /* bit n - 1 - i (n <= 64): frame i is an entry frame */
    uint32_t gen;            /* py_code_gen before its words were made */
    uint64_t w[PY_WALK_MAX]; /* their words (0: a frame whose code cannot be kept) */
    /* ... made of frame i's code object fa[2i] and instruction fa[2i + 1]
     * (py_frame_at): side by side, so that two walks' outer frames compare
     * as one run of words (ftree_tail_same) */
    uintptr_t fa[2 * PY_WALK_MAX];
    uint64_t ph[PY_WALK_MAX];  /* the hash over frames n - 1 .. i (recent.c) */
    uint8_t first[PY_WALK_MAX]; /* 1: frame i is the first of its native call */
};
/* The walk of this thread's frames (state ts), lim frames with a word at
 * most: this thread's new last walk (py_walk_last). */
struct py_walk *py_walk_take(const char *ts, uint32_t lim);
/* This thread's last walk (beside its recent splices), or NULL (no
 * memory); its lim is TRACE_DEPTH_MAX before the first walk. */
struct py_walk *py_walk_last(void);
/* 1 and *id: the native stack name with wk's frames spliced before. */
int py_recent_find(const struct py_walk *wk, uint32_t name, uint32_t *id);
void py_recent_keep(const struct py_walk *wk, uint32_t name, uint32_t id); /* ... is id */
void py_recent_thread_end(void);                            /* the thread's tables go back */

/* native.c: the name of the native stack ip[0..depth) (truncated: it was
 * deeper) for the unwinder's memo, UNWIND_NAME_FRAMES | its number; the
 * same frames always get the same name.  UNWIND_NO_NAME when out of
 * memory.  Takes py_code_lock. */
uint32_t py_native_name(const uintptr_t *ip, unsigned depth, int truncated);



/* code.c: the ids (at most max, into ids) of the codes known by this
 * filename and qualname; how many (0 too when the code lock stays held:
 * a bounded wait, never a hang). */
uint32_t py_code_named(const char *filename, const char *qualname, uint32_t *ids, uint32_t max);

/* pyinit.c: whether trace ip[0, n) made its block in a C extension's
 * initialisation (single- or multi-phase), by the importer's frames. */
int py_init_made(const uintptr_t *ip, unsigned n);

#endif
