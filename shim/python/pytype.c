/*
 * pytype.c - the type of each Python object among the live blocks, read at
 * a snapshot (never on the allocation path) for the PYTYPES section: the
 * snapshot writer hands the blocks over in address order, and each one is
 * an object when a word where an object's ob_type would be (at its start,
 * past the PyGC_Head, or past the pre-header and the PyGC_Head) names a
 * type whose flags put the object exactly there and whose size fits the
 * block.  A type is named without running Python code: a builtin's
 * tp_name ("dict", "_io.TextIOWrapper"), a class's __module__ (found in
 * its tp_dict) and __qualname__ ("app.Node").
 *   Nothing here trusts the memory it reads: the other threads run while
 * the snapshot is written, so a block may be freed (and unmapped) under
 * the walk and a type torn down.  Blocks are copied a window at a time
 * (pyread.c), the words they name as types a batch of heads at a time
 * (pyt_pre) and types a field at a time (peek.h) with process_vm_readv,
 * which fails where a load would fault; a name must be a short printable
 * string.
 * State is one struct, used under the snapshot lock only.
 */
#include <errno.h>
#include <string.h>

#include "pyreads.h"
#include "pyframes.h"
#include "pygraph.h"
#include "pyleakref.h"
#include "pyobjects.h"
#include "peek.h"
#include "pyretain.h"

#define PYT_HEAD 64        /* bytes read of a block: an object at 0, 16 or 32, and
                              a dict's ma_values */
#define PYT_SLOTS 1024u    /* the cache of candidate type addresses, at first (power of
                              two; doubled when half full: pyt_slots_grow): small, as
                              its pages are touched at random, so a short run maps few */
#define PYT_BAD UINT32_MAX /* a cached address that is no type */
/* A cache slot: a candidate's address / 8 (a type object is 8-aligned and
 * below 2^48: 45 bits) and its type id above it, PYT_SLOT_BAD for none,
 * PYT_SLOT_ASK for one pyt_pre left to pyt_new_type (so type ids stay
 * below PYT_SLOT_ASK: pyt_new_type); 0 is an empty
 * slot.  8 bytes where an address and an id took 16: a big heap's exit
 * tries a word of each block, most of them distinct. */
#define PYT_SLOT_ID_SHIFT 45
#define PYT_SLOT_KEY(t) ((uint64_t)(t) >> 3)
#define PYT_SLOT_KEY_OF(x) ((x) & ((1ull << PYT_SLOT_ID_SHIFT) - 1)) /* a slot's key */
#define PYT_SLOT_BAD ((1u << (64 - PYT_SLOT_ID_SHIFT)) - 1)
#define PYT_SLOT_ASK (PYT_SLOT_BAD - 1)
#define PYT_REFCNT_MAX (1ull << 40) /* a larger "count" is a pointer: no object */


static struct {
    const struct pylay_obj_layout *ol;
    struct sbuf *out;          /* the section: head, objects; types and names at the end */
    struct sbuf types, names, links, parents;
    uint64_t *slot;            /* nslots, by address hash (PYT_SLOT_KEY) */
    struct pyh_type *ty;
    uint32_t nty, capty, nslot, nslots;
    struct pyh_heap heap;      /* every block and object, for the graph (pyg_build) */
    uint64_t capblk, capobj;
    uint64_t nobj, last_blk;   /* the last object's block (they ascend) */
    struct hsnap_block *starts; /* py_object_starts: the blocks to mark, not a section */
    uint64_t nstarts;
    int retain;                /* py_types_end built the graph: py_types_retain's pass */
    int built;                 /* py_types_build ran: flags and owner are its */
    uint32_t flags, *owner;
    int wmap;                  /* the writable ranges were loaded (pyrd_wmap_load) */
    uint64_t tried, unwritten; /* words tried as types; those outside writable memory */
} pyt;

/* A new type id for the type at t, or PYT_BAD: not a type (its own type
 * is not `type` or a metaclass, it is not ready, its sizes are absurd, or
 * it has no name to read). */
static uint32_t pyt_new_type(uintptr_t t)
{
    char tb[PY_TP_FINALIZE + 8], mb[PY_TP_FLAGS + 8], name[PY_TYPE_NAME_MAX];
    /* a type object is written memory (pymaps.c): a word into code or
     * read-only data (a C++ object's vtable, a string literal) is none,
     * and its read would fault in the library's pages for nothing */
    pyt.tried++;
    if (pyt.wmap && !pyrd_map_writable(t, sizeof tb)) {
        pyt.unwritten++;
        return PYT_BAD;
    }
    /* its head first: most words tried are no type, and their type's
     * type tells so without the rest */
    if (!pyrd_pg_peek8(tb, t, 16) || !pyrd_pg_u64(tb, 0))
        return PYT_BAD;
    uintptr_t meta = pyrd_pg_u64(tb, 8);
    if (meta != pylay_sym.type_type) { /* a metaclass: a type whose type is `type` */
        if ((pyt.wmap && !pyrd_map_writable(meta, sizeof mb)) ||
            !pyrd_pg_peek8(mb, meta, sizeof mb) || pyrd_pg_u64(mb, 8) != pylay_sym.type_type ||
            !(pyrd_pg_u64(mb, PY_TP_FLAGS) & PY_TPF_TYPE_SUBCLASS))
            return PYT_BAD;
    }
    if (!pyrd_pg_peek8(tb, t, sizeof tb) || !pyrd_pg_u64(tb, 0) || pyrd_pg_u64(tb, 8) != meta)
        return PYT_BAD;
    uint64_t flags = pyrd_pg_u64(tb, PY_TP_FLAGS);
    int64_t basic = (int64_t)pyrd_pg_u64(tb, PY_TP_BASICSIZE), item = (int64_t)pyrd_pg_u64(tb, PY_TP_ITEMSIZE);
    if (!(flags & PY_TPF_READY) || basic < 16 || basic > (1 << 20) || item < -64 || item > 4096)
        return PYT_BAD;
    uint32_t n = pyfr_type_name(pyt.ol, t, tb, flags, name);
    if (!n || pyt.nty >= HSNAP_PY_CODE_MAX || pyt.nty >= PYT_SLOT_ASK)
        return PYT_BAD;
    if (pyt.nty == pyt.capty) {
        struct pyh_type *r = pyrd_array_double(pyt.ty, pyt.nty, &pyt.capty, sizeof *r, 256);
        if (!r)
            return PYT_BAD;
        pyt.ty = r;
    }
    uintptr_t ck = 0;
    if ((flags & PY_TPF_HEAPTYPE) && !pyrd_pg_peek8(&ck, t + pyt.ol->ht_cached_keys, sizeof ck))
        ck = 0;
    pyt.ty[pyt.nty] = (struct pyh_type){flags, basic, item, t, pyg_kind(t, tb, flags),
                                        (int64_t)pyrd_pg_u64(tb, PY_TP_DICTOFFSET), ck};
    struct hsnap_pytype rec = {
        .name_off = (uint32_t)pyt.names.len, .name_len = n,
        .flags = ((flags & PY_TPF_HAVE_GC) ? HSNAP_PYTYPE_GC : 0) |
                 ((flags & PY_TPF_HEAPTYPE) ? HSNAP_PYTYPE_CLASS : 0) |
                 (pyrd_pg_u64(tb, PY_TP_FINALIZE) || pyrd_pg_u64(tb, PY_TP_DEL) ? HSNAP_PYTYPE_FINALIZER
                                                                        : 0)};
    sbuf_put(&pyt.types, &rec, sizeof rec);
    sbuf_put(&pyt.names, name, n);
    return pyt.nty++;
}

/* The first of key's 16 slots (PYT_SLOT_KEY) that holds it or nothing;
 * NULL: all taken. */
static uint64_t *pyt_slot_of(uint64_t *slot, uint32_t nslots, uint64_t key)
{
    uint32_t s = (uint32_t)((key * 0x9e3779b97f4a7c15ull) >> 40) & (nslots - 1);
    for (uint32_t k = 0; k < 16; k++, s = (s + 1) & (nslots - 1))
        if (!slot[s] || PYT_SLOT_KEY_OF(slot[s]) == key)
            return &slot[s];
    return NULL;
}

/* The cache doubled, its addresses placed anew: a heap whose blocks hold
 * more distinct candidate words than the cache has room for would make
 * a new type record each time a type missing from it is met again.  No
 * memory: it stays as it is. */
static void pyt_slots_grow(void)
{
    uint32_t n = pyt.nslots * 2;
    uint64_t *t = n ? arena_map_full((size_t)n * sizeof *t) : NULL; /* all rehashed */
    if (!t)
        return;
    for (uint32_t i = 0; i < pyt.nslots; i++) {
        uint64_t *d, x = pyt.slot[i];
        if (x && (d = pyt_slot_of(t, n, PYT_SLOT_KEY_OF(x))) != NULL)
            *d = x;
    }
    arena_unmap(pyt.slot, (size_t)pyt.nslots * sizeof *pyt.slot);
    pyt.slot = t;
    pyt.nslots = n;
}

/* The id of the type at t (PYT_BAD: none), from the cache when it can.
 * t: a word 8-aligned and not 0 (pyt_block's test, which the key needs);
 * past 2^48 it is no type's address. */
static uint32_t pyt_type(uintptr_t t)
{
    if (t >> 48)
        return PYT_BAD;
    if (!pyt.slot) /* let go (py_types_blocks_end): none is asked after it */
        return pyt_new_type(t);
    uint64_t key = PYT_SLOT_KEY(t), *s = pyt_slot_of(pyt.slot, pyt.nslots, key);
    if (s && *s) {
        uint32_t id = (uint32_t)(*s >> PYT_SLOT_ID_SHIFT);
        if (id != PYT_SLOT_ASK)
            return id == PYT_SLOT_BAD ? PYT_BAD : id;
        id = pyt_new_type(t); /* its head read by pyt_pre: the rest now */
        *s = key | (uint64_t)(id == PYT_BAD ? PYT_SLOT_BAD : id) << PYT_SLOT_ID_SHIFT;
        return id;
    }
    uint32_t id = pyt_new_type(t);
    if (pyt.nslot >= pyt.nslots / 2) {
        pyt_slots_grow();
        s = pyt_slot_of(pyt.slot, pyt.nslots, key);
    }
    if (s && pyt.nslot < pyt.nslots / 2) { /* a crowded neighbourhood (s NULL): not kept */
        *s = key | (uint64_t)(id == PYT_BAD ? PYT_SLOT_BAD : id) << PYT_SLOT_ID_SHIFT;
        pyt.nslot++;
    }
    return id;
}

/* Room in the array *a (of *cap elements of elem bytes, mapped) for
 * element n: 0, or -1 (out of memory). */
static int pyt_room(void **a, uint64_t n, uint64_t *cap, size_t elem)
{
    if (n < *cap)
        return 0;
    if (n >= UINT32_MAX - 1)
        return -1;
    return pyrd_map_room(a, n + 1, cap, elem, 65536);
}

/* The next PYT_AHEAD elements of an array filled in order (elem bytes
 * each, room for cap) made resident in one call as its i-th is reached:
 * the blocks' and objects' records of `import torch`'s exit snapshot
 * (650k blocks) took 2.5k faults, a page each, two where a field was
 * or'ed into a fresh page. */
#define PYT_AHEAD 8192u
static void pyt_ahead(void *a, uint64_t i, uint64_t cap, size_t elem)
{
    if (i % PYT_AHEAD == 0 && i < cap)
        arena_populate((char *)a + i * elem,
                       (size_t)((cap - i < PYT_AHEAD ? cap - i : PYT_AHEAD) * elem));
}

/* Whether the words before an object at off in block b (its PyGC_Head
 * and pre-header) read as pointers or nothing, as they must: the bytes
 * of a dict's values array (its insertion order) do not. */
static int pyt_links(const char *b, unsigned off)
{
    for (unsigned k = 0; k < off; k += 8) {
        uint64_t w = pyrd_pg_u64(b, k) & ~7ull; /* _gc_prev's flags, a tagged values pointer */
        if (w && (w < 65536 || w >> 47))
            return 0;
    }
    return 1;
}

/* The leak check: a class instance's values array (3.11, 3.12) is named
 * by its pre-header past the array's prefix (the insertion order): that
 * place in the array's block (one with no object) is its start.  v is the
 * word as kept: 3.12 keeps values - 1 (odd), and that is what the scan
 * meets. */
static void pyt_values_start(uint64_t v)
{
    uint64_t lo = 0, hi = pyt.nstarts;
    if (!v || ((v & 7) && (v & 7) != 7) || !hi)
        return;
    while (hi - lo > 1) {
        uint64_t mid = lo + (hi - lo) / 2;
        if (pyt.starts[mid].addr <= v)
            lo = mid;
        else
            hi = mid;
    }
    struct hsnap_block *b = &pyt.starts[lo];
    /* the array's prefix is not written past its last two bytes: what an
     * object left there can read as a dead one (a str at 0, its "text"
     * marked): a live instance's word says better, but for a gc object's
     * start (a __dict__) */
    if (v > b->addr && v - b->addr < b->size && v - b->addr < 256 &&
        b->reserved != PY_GC_HEAD && b->reserved != PY_GC_HEAD + 16)
        b->reserved = (uint16_t)(v - b->addr);
}

/* The leak check: where a str's or bytes' text starts in its block (b, len
 * bytes of it read), or 0.  C keeps a char * to it (PyUnicode_AsUTF8 of
 * an ASCII str, PyBytes_AS_STRING) while it holds the object: numpy's
 * add_docstring keeps its docstrings so (274 blocks "possibly lost"). */
static uint16_t pyt_text_start(uintptr_t t, const char *b, size_t len)
{
    uint32_t state = 0;
    if (t == pylay_sym.str_type && pylay_lay->str_state + 4u <= len)
        memcpy(&state, b + pylay_lay->str_state, sizeof state);
    return pylay_text_at(t, state);
}

/* The graph's arrays given up (out of memory): the objects they hold go
 * into the section as records (no flags), the later ones as they come. */
static void pyt_give_up(void)
{
    uint64_t i;
    for (struct pyh_it it = {0, UINT64_MAX};
         pyt.heap.want && pyt.heap.obj && pyh_next(&pyt.heap, pyt.nobj, &it, &i);) {
        const struct pyh_obj *h = &pyt.heap.obj[i];
        struct hsnap_pyobj o = {.addr = pyt.heap.blk[it.bj].addr, .type = h->type,
                                .offset = (uint16_t)h->off};
        sbuf_put(pyt.out, &o, sizeof o);
    }
    pyh_heap_free(&pyt.heap, pyt.capblk, pyt.capobj);
}

/* Object i's record (PYTYPES' objects; bj its block), with its marks
 * when graph (pyg_build made them). */
static struct hsnap_pyobj pyt_record(uint64_t i, uint64_t bj, int graph)
{
    const struct pyh_obj *h = &pyt.heap.obj[i];
    uint16_t f = 0;
    if (graph)
        f = (h->tracked ? HSNAP_PYOBJ_TRACKED : 0) | (h->external ? HSNAP_PYOBJ_EXTERNAL : 0) |
            (h->garbage ? HSNAP_PYOBJ_GARBAGE : 0);
    return (struct hsnap_pyobj){pyt.heap.blk[bj].addr, h->type, (uint16_t)h->off, f};
}

/* The objects' records from the graph's arrays into the section. */
static void pyt_put_objects(int graph)
{
    if (sbuf_reserve_all(pyt.out, pyt.nobj * sizeof(struct hsnap_pyobj)) != 0)
        return;
    struct hsnap_pyobj *out = (struct hsnap_pyobj *)(pyt.out->p + pyt.out->len);
    uint64_t i;
    for (struct pyh_it it = {0, UINT64_MAX}; pyh_next(&pyt.heap, pyt.nobj, &it, &i);)
        out[i] = pyt_record(i, it.bj, graph);
    pyt.out->len += pyt.nobj * sizeof(struct hsnap_pyobj);
}

/* The section's head, its counts as they stand (flags: HSNAP_PYTYPES_*). */
static struct hsnap_pytypes_head pyt_head(uint32_t flags)
{
    return (struct hsnap_pytypes_head){
        .ntypes = pyt.nty, .flags = flags, .nobjects = pyt.nobj, .names_len = pyt.names.len,
        .nlinks = flags ? pyt.links.len / sizeof(struct hsnap_pylink) : 0,
        .nparents = flags ? pyg_mark_nparents(&pyt.parents) : 0};
}

/* The parents' links (struct pyg_parent, made whole) to put(arg, p, n),
 * a few at a time: the section's form is never held. */
static void pyt_parents(void (*put)(void *, const void *, size_t), void *arg)
{
    uint64_t np = pyg_mark_nparents(&pyt.parents), k = 0, at = 0;
    struct hsnap_pylink l[256];
    struct pyg_parent p;
    uint32_t n = 0;
    for (uint64_t i = 0; i < pyt.nobj && k < np; i++) {
        if (!pyt.heap.obj[i].parent)
            continue;
        pyg_mark_parent_next(&pyt.parents, &at, &p);
        l[n++] = (struct hsnap_pylink){p.from, (uint32_t)i, p.label_len & 15, p.value,
                                       p.name_off, p.label_len >> 4};
        k++;
        if (n == 256 || k == np)
            put(arg, l, n * sizeof *l), n = 0;
    }
}

static void pyt_sbuf_put(void *arg, const void *p, size_t n)
{
    sbuf_put(arg, p, n);
}

/* PYTYPES whole to sink s, the objects' records made a few at a time
 * from the graph's arrays: the section is never held. */
static void pyt_stream(const struct sec_sink *s, uint32_t flags)
{
    struct hsnap_pytypes_head h = pyt_head(flags);
    struct hsnap_pyobj rec[256];
    uint64_t links = flags ? pyt.links.len + (uint64_t)h.nparents * sizeof(struct hsnap_pylink)
                           : 0;
    s->begin(s->arg, sizeof h + pyt.nobj * sizeof *rec + pyt.types.len + pyt.names.len + links);
    s->put(s->arg, &h, sizeof h);
    s->run(s->arg, sizeof *rec);
    uint64_t i;
    uint32_t k = 0;
    for (struct pyh_it it = {0, UINT64_MAX}; pyh_next(&pyt.heap, pyt.nobj, &it, &i);) {
        rec[k++] = pyt_record(i, it.bj, flags & HSNAP_PYTYPES_GRAPH);
        if (k == 256)
            s->put(s->arg, rec, k * sizeof *rec), k = 0;
    }
    s->put(s->arg, rec, k * sizeof *rec);
    s->run(s->arg, sizeof(struct hsnap_pytype));
    s->put(s->arg, pyt.types.p, pyt.types.len);
    s->run(s->arg, 1);
    s->put(s->arg, pyt.names.p, pyt.names.len);
    s->run(s->arg, sizeof(struct hsnap_pylink));
    if (flags) {
        s->put(s->arg, pyt.links.p, pyt.links.len);
        pyt_parents(s->put, s->arg);
    }
    s->end(s->arg);
}

/* Whether an object of type t whose first word is w is dead, kept on a
 * free list to be handed out again: 3.10-3.13 leave its count 0; from
 * 3.14 on a struct _Py_freelist links its objects through their first
 * word, so w is the next one's address (an object of the same type: its
 * ob_type read there) or 0 at the list's end.  A link into an mmapped
 * heap reads as no count at all (PYT_REFCNT_MAX); one into the brk heap
 * as a count of a billion. */
static int pyt_dead(uint64_t w, uint64_t t)
{
    char nb[16];
    if (!w)
        return 1;
    if (pylay_lay->version < 0x030e0000u || (w & 7) || w < 65536 || w >> 47)
        return 0;
    return pyrd_pg_peek8(nb, w, sizeof nb) && pyrd_pg_u64(nb, 8) == t;
}

/* The object in the block at addr (size bytes; b its first len bytes), if
 * it is one, into the graph's arrays (the section's record is made from
 * them, pyt_put_objects), or without them into the section. */
static void pyt_block(uint64_t addr, uint64_t size, uint64_t blk, const char *b, size_t len)
{
    for (unsigned off = 0; off <= 32 && off + 16 <= len; off += 16) {
        uint64_t refcnt = pyrd_pg_u64(b, off), t = pyrd_pg_u64(b, off + 8);
        if (!t || (t & 7) || !pyt_links(b, off))
            continue;
        /* a dead object (pyt_dead): one the interpreter keeps on a free
         * list to hand out again, linked by its start */
        int dead = pyt_dead(refcnt, t);
        if (!dead && refcnt >= PYT_REFCNT_MAX)
            continue;
        uint32_t id = pyt_type(t);
        if (id == PYT_BAD)
            continue;
        const struct pyh_type *ty = &pyt.ty[id];
        unsigned pre = (ty->flags & PY_TPF_HAVE_GC ? PY_GC_HEAD : 0) +
                       (ty->flags & pyt.ol->preheader ? 16 : 0);
        /* a str is made smaller than its type's size (a compact one) */
        if (pre != off || (ty->item == 0 && size < off + (uint64_t)ty->basic &&
                           ty->addr != pylay_sym.str_type))
            continue;
        /* The graph has only the live, and a dead one's words past its
         * head are no object (3.14's dead PyCFunction, on its free list,
         * holds a class in m_self where an instance's ob_type would be). */
        if (dead && !pyt.starts)
            return;
        if (pyt.starts && dead && pyt.starts[blk].reserved)
            return; /* a dead one's remains in a values array's prefix */
        if (pyt.starts) {
            pyt.starts[blk].reserved = (uint16_t)off;
            if (!off) /* no PyGC_Head: its start needs no mark; its text's may */
                pyt.starts[blk].reserved = pyt_text_start(ty->addr, b, len);
            for (unsigned k = 0; k + PY_GC_HEAD < off; k += 8) { /* the pre-header's */
                pyt_values_start(pyrd_pg_u64(b, k));
            }
            if (ty->kind == PYG_DICT && off + 48 <= len) /* a split dict's values */
                pyt_values_start(pyrd_pg_u64(b, off + 40));
            return;
        }
        if (pyt.heap.want && (pyt_room((void **)&pyt.heap.obj, pyt.nobj, &pyt.capobj,
                                       sizeof *pyt.heap.obj) != 0 ||
                              pyt_room((void **)&pyt.heap.sel, pyt.nobj / 64, &pyt.heap.capsel,
                                       sizeof *pyt.heap.sel) != 0 ||
                              (pyt.nobj && pyt.last_blk >= blk) || id >= PYG_TYPES_MAX))
            pyt_give_up(); /* out of memory; out of block order (pyh_obj_of); too many types */
        if (!pyt.heap.want) {
            struct hsnap_pyobj o = {.addr = addr, .type = id, .offset = (uint16_t)off};
            sbuf_put(pyt.out, &o, sizeof o);
        } else {
            /* tracked by the gc: its PyGC_Head's _gc_next is set */
            int tracked = (ty->flags & PY_TPF_HAVE_GC) && pyrd_pg_u64(b, off - PY_GC_HEAD) != 0;
            uint64_t rc = refcnt < PYG_REFCNT_MAX ? refcnt : PYG_REFCNT_MAX;
            pyt_ahead(pyt.heap.obj, pyt.nobj, pyt.capobj, sizeof *pyt.heap.obj);
            pyt.heap.obj[pyt.nobj] = (struct pyh_obj){.refcnt = rc, .off = off,
                                                      .tracked = tracked != 0, .type = id};
            pyh_rank_set(&pyt.heap, blk, pyt.nobj);
            pyt.last_blk = blk;
        }
        pyt.nobj++;
        return;
    }
}

/* The words a flush's blocks hold where an object's type would be, their
 * heads read together.  A big heap's blocks hold a hundred thousand
 * distinct words there (a C++ object's pointers: import torch's exit
 * tried 141k), each tried by pyt_new_type with a read of its own, most of
 * them a system call that copied a page (pypage.c): 32k calls at
 * torchtrain.py's exit.  Here a flush's new words are read 16 bytes each,
 * one call a batch (pyrd_peek_many), and the heads of the types they name
 * where that is not `type` likewise; a word whose head says no type, as
 * pyt_new_type's first reads would say, is cached as none, and the rest
 * are left to it (PYT_SLOT_ASK), which reads them whole.  The batch's
 * room is mapped once and kept (its pages as used). */
#define PYT_PRE 2048u /* words a batch */
static struct pyt_pre_room {
    uint64_t t[PYT_PRE], meta[PYT_PRE];
    char head[PYT_PRE][16];
    uint8_t ok[PYT_PRE];
} *pyt_pre_room;

/* t is no type: the cache says so (pyt_new_type is not asked). */
static void pyt_pre_none(uint64_t t)
{
    uint64_t key = PYT_SLOT_KEY(t), *s = pyt_slot_of(pyt.slot, pyt.nslots, key);
    pyt.tried++; /* pyt_new_type's count */
    if (s && *s) /* else dropped by a growth: pyt_type asks pyt_new_type */
        *s = key | (uint64_t)PYT_SLOT_BAD << PYT_SLOT_ID_SHIFT;
}

/* The k words of q->t, in the cache as PYT_SLOT_ASK: their heads read,
 * then the heads of the types they name where that is not `type`. */
static void pyt_pre_read(struct pyt_pre_room *q, unsigned k)
{
    unsigned m = 0;
    pyrd_peek_many(q->t, k, 16, q->head[0], q->ok);
    for (unsigned j = 0; j < k; j++) {
        uint64_t meta = q->ok[j] ? pyrd_pg_u64(q->head[j], 8) : 0;
        if (!q->ok[j] || q->t[j] < 4096 || !pyrd_pg_u64(q->head[j], 0) ||
            (meta != pylay_sym.type_type &&
             ((pyt.wmap && !pyrd_map_writable(meta, PY_TP_FLAGS + 8)) || meta < 4096 ||
              (meta & 7)))) {
            pyt_pre_none(q->t[j]);
        } else if (meta != pylay_sym.type_type) { /* a metaclass's instance, or none */
            q->t[m] = q->t[j];
            q->meta[m++] = meta;
        }
    }
    pyrd_peek_many(q->meta, m, 16, q->head[0], q->ok);
    for (unsigned j = 0; j < m; j++)
        if (!q->ok[j] || pyrd_pg_u64(q->head[j], 8) != pylay_sym.type_type)
            pyt_pre_none(q->t[j]);
}

/* Whether pyt_block, at block p's word for an object at off, goes on to
 * the next place: none is there (its first tests), or the cache says the
 * word is no type.  Else 0, and *ask is the word where the cache knows
 * nothing of it yet (pyt_block asks pyt_type). */
static int pyt_pre_passes(const char *p, unsigned off, uint64_t *ask)
{
    uint64_t refcnt = pyrd_pg_u64(p, off), t = pyrd_pg_u64(p, off + 8);
    *ask = 0;
    if (!t || (t & 7) || !pyt_links(p, off))
        return 1;
    if (refcnt >= PYT_REFCNT_MAX) /* no count, unless 3.14's free-list link: pyt_dead's */
        return pylay_lay->version < 0x030e0000u;
    if (t >> 48)
        return 1;
    const uint64_t *s = pyt_slot_of(pyt.slot, pyt.nslots, PYT_SLOT_KEY(t));
    if (s && *s)
        return (uint32_t)(*s >> PYT_SLOT_ID_SHIFT) == PYT_SLOT_BAD;
    *ask = s ? t : 0; /* no room near its slot: pyt_type's, uncached */
    return 0;
}

/* pyrd_pre's: the words of a flush's n blocks that pyt_block will try as
 * types and the cache knows nothing of, read a batch at a time; a place
 * in a block (0, 16, 32) only once every place before it is known to be
 * passed over, so that no word is read that pyt_block would not try. */
static void pyt_pre(void *arg, unsigned n, const char *const *p, const uint32_t *len)
{
    (void)arg;
    if (!pyt.slot || (!pyt_pre_room && !(pyt_pre_room = arena_map(sizeof *pyt_pre_room))))
        return;
    struct pyt_pre_room *q = pyt_pre_room;
    for (unsigned off = 0; off <= 32; off += 16) {
        unsigned k = 0;
        for (unsigned i = 0; i < n; i++) {
            uint64_t t;
            unsigned o = 0;
            if (!p[i] || off + 16 > len[i])
                continue;
            while (o < off && pyt_pre_passes(p[i], o, &t))
                o += 16;
            if (o < off || pyt_pre_passes(p[i], off, &t) || !t)
                continue;
            if (pyt.nslot >= pyt.nslots / 2)
                pyt_slots_grow();
            uint64_t key = PYT_SLOT_KEY(t), *s = pyt_slot_of(pyt.slot, pyt.nslots, key);
            if (!s || *s || pyt.nslot >= pyt.nslots / 2)
                continue; /* asked already in this batch, or no room: pyt_type's */
            pyt.nslot++;
            if (pyt.wmap && !pyrd_map_writable(t, PY_TP_FINALIZE + 8)) { /* pyt_new_type's */
                *s = key | (uint64_t)PYT_SLOT_BAD << PYT_SLOT_ID_SHIFT;
                pyt.tried++, pyt.unwritten++;
                continue;
            }
            *s = key | (uint64_t)PYT_SLOT_ASK << PYT_SLOT_ID_SHIFT;
            q->t[k++] = t;
            if (k == PYT_PRE)
                pyt_pre_read(q, k), k = 0;
        }
        if (k)
            pyt_pre_read(q, k);
    }
}

/* A block's first bytes as read (pyrd_flush; p NULL: unreadable, no
 * object): typed.  tag: its index, aux: its size. */
static void pyt_got(void *arg, uint32_t tag, uint64_t aux, const char *p, uint64_t addr,
                    uint32_t len)
{
    (void)arg;
    if (p)
        pyt_block(addr, aux, tag, p, len);
}

int py_types_can(void)
{
    return pyfr_on && pylay_lay && pylay_sym.type_type && pylay_sym.str_type &&
           pylay_obj_layout_find(pylay_lay->version);
}

int py_types_begin(struct sbuf *b)
{
    memset(&pyt, 0, sizeof pyt);
    if (!pyfr_on || !pylay_lay || !pylay_sym.type_type || !pylay_sym.str_type ||
        !(pyt.ol = pylay_obj_layout_find(pylay_lay->version)))
        return -1;
    pyt.slot = arena_map(PYT_SLOTS * sizeof *pyt.slot);
    if (!pyt.slot)
        return -1;
    pyt.nslots = PYT_SLOTS;
    pyfr_type_names_begin();
    pyrd_hold(1); /* the window kept for the graph's passes: pyrd_hold(0) below */
    if (pyrd_begin(pyt_got, NULL) != 0) {
        pyrd_hold(0);
        arena_unmap(pyt.slot, (size_t)pyt.nslots * sizeof *pyt.slot);
        return -1;
    }
    pyrd_pre(pyt_pre); /* the blocks' candidate types read a batch at a time */
    pyrd_pg_open(); /* the pass's field reads: a page copied once (pyrd_pg_close) */
    pyt.wmap = pyrd_wmap_load() == 0; /* else every word is read, as before */
    pyt.out = b;
    pyt.heap.want = 1; /* the graph: its arrays grow with the blocks */
    struct hsnap_pytypes_head h = {0};
    sbuf_put(b, &h, sizeof h);
    return b->err ? -1 : 0;
}

void py_types_block(uint64_t addr, uint64_t size)
{
    uint64_t blk = pyt.heap.nblk;
    if (pyt.heap.want && addr < PYG_ADDR_MAX &&
        pyt_room((void **)&pyt.heap.blk, blk, &pyt.capblk, sizeof *pyt.heap.blk) == 0 &&
        pyt_room((void **)&pyt.heap.rank, blk / 64, &pyt.heap.caprank,
                 sizeof *pyt.heap.rank) == 0) {
        pyt_ahead(pyt.heap.blk, blk, pyt.capblk, sizeof *pyt.heap.blk);
        pyt.heap.blk[blk] = (struct pyh_block){addr, size < PYG_BIG ? size : PYG_BIG};
        pyt.heap.nblk++;
        if (size >= PYG_BIG && pyt_room((void **)&pyt.heap.big, pyt.heap.nbig, &pyt.heap.capbig,
                                        sizeof *pyt.heap.big) == 0)
            pyt.heap.big[pyt.heap.nbig++] = (struct pyh_big){addr, size};
        else if (size >= PYG_BIG)
            pyt_give_up();
    } else if (pyt.heap.want) {
        pyt_give_up(); /* no graph, the types still */
    }
    if (size >= 16 && blk < UINT32_MAX)
        pyrd_add(addr, size < PYT_HEAD ? (uint32_t)size : PYT_HEAD, (uint32_t)blk, size);
}

int py_types_blocks_are(const uint64_t (*w)[2], uint64_t n)
{
    if (!pyt.heap.want || pyt.heap.nblk != n)
        return 0;
    for (uint64_t i = 0, k = 0; i < n; i++) {
        const struct pyh_block *b = &pyt.heap.blk[i];
        if (b->addr != w[i][0] || b->size != (w[i][1] < PYG_BIG ? w[i][1] : PYG_BIG))
            return 0;
        if (b->size == PYG_BIG && (k >= pyt.heap.nbig || pyt.heap.big[k++].size != w[i][1]))
            return 0;
    }
    return 1;
}

/* The cache grows with the distinct words tried, most of them no type
 * (a C++ heap's): held through STATS and PEAK, it was part of a big
 * heap's exit peak, and nothing asks it once the blocks' heads are read. */
void py_types_blocks_end(void)
{
    pyrd_flush();
    arena_unmap(pyt.slot, (size_t)pyt.nslots * sizeof *pyt.slot);
    pyt.slot = NULL;
    pyt.nslots = pyt.nslot = 0;
}

void py_types_build(struct sbuf *b)
{
    if (pyt.built)
        return;
    pyt.built = 1;
    pyrd_end();
    if (pyt.heap.want)
        pyh_rank_end(&pyt.heap, pyt.nobj);
    if (pyt.heap.want && !b->err)
        pyr_begin(&pyt.heap, pyt.nobj);
    if (pyt.heap.want && !b->err &&
        pyg_build(&pyt.heap, pyt.nobj, pyt.ty, &pyt.links, &pyt.parents, &pyt.names,
                  &pyt.owner) == 0 &&
        !pyt.links.err && !pyt.parents.err)
        pyt.flags |= HSNAP_PYTYPES_GRAPH;
}

void py_types_count_early(void)
{
    if (pyt.built && (pyt.flags & HSNAP_PYTYPES_GRAPH))
        pyr_count_early(pyl_count_early);
}

int py_types_end(struct sbuf *b, struct sbuf *owned, const struct sec_sink *sink)
{
    int streamed = 0;
    py_types_build(b);
    uint32_t flags = pyt.flags, *owner = pyt.owner;
    pyt.owner = NULL;
    if (sink && pyt.heap.want && !b->err && !pyt.types.err && !pyt.names.err) {
        /* streamed now, before PYOWNED is made: the stop's peak holds
         * neither the objects' records nor the links */
        pyt_stream(sink, flags);
        streamed = 1;
        sbuf_free(b);
        sbuf_free(&pyt.links);
        sbuf_free(&pyt.parents);
    } else if (pyt.heap.want) { /* the objects' records, made now: not held through the graph */
        pyt_put_objects(flags & HSNAP_PYTYPES_GRAPH);
    }
    /* PYOWNED's owners: numpy's and the fields' set in the graph's array */
    pyg_owned_make(&pyt.heap, pyt.nobj, pyt.ty, pyt.nty,
                   (flags & HSNAP_PYTYPES_GRAPH) ? owner : NULL);
    if (owner && !(flags & HSNAP_PYTYPES_GRAPH))
        arena_unmap(owner, PYG_OWNERS(&pyt.heap, pyt.nobj) * sizeof *owner);
    pyrd_hold(0);
    pyrd_pg_close();
    opt_debug_count("python: words tried as types: ", pyt.tried);
    opt_debug_count("python: ... outside writable memory, not read: ", pyt.unwritten);
    if (!sink) /* else streamed (py_types_owned) */
        pyg_owned_records(owned);
    pyt.retain = (flags & HSNAP_PYTYPES_GRAPH) != 0;
    if (!streamed) {
        sbuf_put(b, pyt.types.p, pyt.types.len);
        sbuf_put(b, pyt.names.p, pyt.names.len);
        if (flags & HSNAP_PYTYPES_GRAPH) {
            sbuf_put(b, pyt.links.p, pyt.links.len);
            pyt_parents(pyt_sbuf_put, b);
        }
        if (pyt.types.err || pyt.names.err)
            b->err = 1;
        if (!b->err) {
            struct hsnap_pytypes_head h = pyt_head(flags);
            memcpy(b->p, &h, sizeof h);
        }
    }
    sbuf_free(&pyt.types);
    sbuf_free(&pyt.names);
    sbuf_free(&pyt.links);
    sbuf_free(&pyt.parents);
    arena_unmap(pyt.slot, (size_t)pyt.nslots * sizeof *pyt.slot);
    pyt.slot = NULL;
    if (pyt.ty)
        arena_free(pyt.ty, pyt.capty * sizeof *pyt.ty);
    pyt.ty = NULL;
    return streamed;
}

void py_types_hand_off(void)
{
    pyrd_pg_hand_off();
}

void py_types_take_on(void)
{
    pyrd_pg_take();
}

int py_types_owned(const struct sec_sink *s)
{
    return pyg_owned_stream(s);
}

/* pyr_end's: the objects' array given back. */
static void pyt_drop_objs(void)
{
    if (pyt.heap.obj)
        arena_unmap(pyt.heap.obj, pyt.capobj * sizeof *pyt.heap.obj);
    pyt.heap.obj = NULL;
}

void py_types_retain(void)
{
    pyg_owned_free();
    if (pyt.retain) /* the retained sizes, for PYRETAIN */
        pyr_end(pyt_drop_objs, pyl_count, pyl_count_settle);
    else
        pyr_begin(&pyt.heap, 0); /* none: the graph's edges dropped */
    pyh_heap_free(&pyt.heap, pyt.capblk, pyt.capobj);
    memset(&pyt, 0, sizeof pyt);
}

void py_types_drop(struct sbuf *b)
{
    if (pyt.owner) /* built (py_types_build), not yet handed to PYOWNED */
        arena_unmap(pyt.owner, PYG_OWNERS(&pyt.heap, pyt.nobj) * sizeof *pyt.owner);
    pyg_owned_free();
    pyg_fields_drop();
    pyrd_end();
    pyrd_hold(0);
    pyrd_pg_close();
    pyr_begin(&pyt.heap, 0); /* the graph's edges, if any, dropped */
    pyh_heap_free(&pyt.heap, pyt.capblk, pyt.capobj);
    sbuf_free(&pyt.types);
    sbuf_free(&pyt.names);
    sbuf_free(&pyt.links);
    sbuf_free(&pyt.parents);
    if (pyt.slot)
        arena_unmap(pyt.slot, (size_t)pyt.nslots * sizeof *pyt.slot);
    if (pyt.ty)
        arena_free(pyt.ty, pyt.capty * sizeof *pyt.ty);
    memset(&pyt, 0, sizeof pyt);
    sbuf_free(b);
}

void py_object_starts(struct hsnap_block *b, uint64_t n)
{
    memset(&pyt, 0, sizeof pyt);
    if (!pyfr_on || !pylay_lay || !pylay_sym.type_type || !pylay_sym.str_type ||
        !(pyt.ol = pylay_obj_layout_find(pylay_lay->version)) ||
        !(pyt.slot = arena_map(PYT_SLOTS * sizeof *pyt.slot)))
        return;
    pyt.nslots = PYT_SLOTS;
    pyfr_type_names_begin();
    pyt.starts = b;
    pyt.nstarts = n;
    if (pyrd_begin(pyt_got, NULL) == 0) {
        for (uint64_t i = 0; i < n && i < UINT32_MAX; i++)
            if (b[i].size >= 16)
                pyrd_add(b[i].addr, b[i].size < PYT_HEAD ? (uint32_t)b[i].size : PYT_HEAD,
                         (uint32_t)i, b[i].size);
        pyrd_end();
    }
    sbuf_free(&pyt.types); /* the types' records, unused here */
    sbuf_free(&pyt.names);
    arena_unmap(pyt.slot, (size_t)pyt.nslots * sizeof *pyt.slot);
    if (pyt.ty)
        arena_free(pyt.ty, pyt.capty * sizeof *pyt.ty);
    memset(&pyt, 0, sizeof pyt);
}
