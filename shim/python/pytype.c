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
 * (pyread.c) and types a field at a time (peek.h) with process_vm_readv,
 * which fails where a load would fault; a name must be a short printable
 * string.
 * State is one struct, used under the snapshot lock only.
 */
#include <errno.h>
#include <string.h>

#include "inner.h"
#include "peek.h"
#include "pyretain.h"

#define PYT_HEAD 64        /* bytes read of a block: an object at 0, 16 or 32, and
                              a dict's ma_values */
#define PYT_SLOTS 16384u   /* the cache of candidate type addresses (power of two) */
#define PYT_BAD UINT32_MAX /* a cached address that is no type */
#define PYT_NAME_MAX 512u  /* bytes of a type's name */
#define PYT_KEYS_MAX 512u  /* entries of a class's dict looked at for __module__ */
#define PYT_REFCNT_MAX (1ull << 40) /* a larger "count" is a pointer: no object */


static struct {
    const struct py_obj_layout *ol;
    struct sbuf *out;          /* the section: head, objects; types and names at the end */
    struct sbuf types, names, links, parents;
    struct { uintptr_t addr; uint32_t id; } *slot; /* PYT_SLOTS, by address hash */
    struct pyg_type *ty;
    uint32_t nty, capty, nslot;
    struct pyg_heap heap;      /* every block and object, for the graph (pygraph.c) */
    uint64_t capblk, capobj;
    uint64_t nobj, last_blk;   /* the last object's block (they ascend) */
    uintptr_t module_key;      /* the interned "__module__", once found */
    struct hsnap_block *starts; /* py_object_starts: the blocks to mark, not a section */
    uint64_t nstarts;
    int retain;                /* py_types_end built the graph: py_types_retain's pass */
} pyt;

static uint64_t pyt_u64(const char *p, size_t off)
{
    uint64_t v;
    memcpy(&v, p + off, sizeof v);
    return v;
}

static int pyt_peek(void *dst, uintptr_t src, size_t n)
{
    return src >= 4096 && !(src & 7) && pypg_peek(dst, src, n);
}

/* The str object at s as UTF-8 into out (cap bytes), read safely; its
 * length, 0 when it is no compact str (or empty). */
static uint32_t pyt_str(uintptr_t s, char *out, uint32_t cap)
{
    const struct py_layout *l = py_lay;
    char copy[96 + 4 * PYT_NAME_MAX];
    size_t head = l->str_compact_data;
    if (!pyt_peek(copy, s, head) || pyt_u64(copy, l->ob_type) != py_sym.str_type)
        return 0;
    uint32_t state;
    memcpy(&state, copy + l->str_state, sizeof state);
    unsigned kind = (state >> 2) & 7, ascii = (state >> 6) & 1;
    uint64_t len = pyt_u64(copy, l->str_length);
    size_t at = ascii ? l->str_ascii_data : l->str_compact_data;
    if (kind != 1 && kind != 2 && kind != 4)
        return 0;
    if (len > PYT_NAME_MAX)
        len = PYT_NAME_MAX;
    memcpy(copy + l->str_length, &len, sizeof len); /* py_str reads no further */
    if (len && !pypg_peek(copy + at, s + at, len * kind))
        return 0;
    return py_str(copy, out, cap);
}

uint32_t py_str_peek(uintptr_t s, char *out, uint32_t cap)
{
    return pyt_str(s, out, cap);
}

/* Whether name[0..n) reads as a type's name (printable, no quotes). */
static int pyt_printable(const char *name, uint32_t n)
{
    for (uint32_t i = 0; i < n; i++)
        if ((unsigned char)name[i] < 0x20 || name[i] == 0x7f || name[i] == '"')
            return 0;
    return n > 0;
}

/* The value of "__module__" in the dict at d (a class's tp_dict), or 0. */
static uintptr_t pyt_module_of(uintptr_t d)
{
    char dict[48], keys[48], ent[24 * 32], name[16];
    if (!pyt_peek(dict, d, sizeof dict) || pyt_u64(dict, 40) /* split: not a class's */ ||
        !pyt_peek(keys, pyt_u64(dict, 32), sizeof keys))
        return 0;
    uintptr_t k = pyt_u64(dict, 32), at;
    uint64_t n;
    size_t esz = 24, kat = 8;
    if (pyt.ol->keys == PY_KEYS_310) {
        uint64_t size = pyt_u64(keys, 8);
        unsigned ib = size <= 0xff ? 1 : size <= 0xffff ? 2 : size <= 0xffffffffu ? 4 : 8;
        n = pyt_u64(keys, 32);
        at = k + 40 + size * ib;
        if (size > (1u << 24))
            return 0;
    } else {
        unsigned log2ib = (uint8_t)keys[9], kind = (uint8_t)keys[10];
        n = pyt_u64(keys, 24);
        at = k + 32 + ((uint64_t)1 << (log2ib & 31));
        if (kind != 0)
            esz = 16, kat = 0; /* PyDictUnicodeEntry: key, value */
    }
    if (n > PYT_KEYS_MAX)
        n = PYT_KEYS_MAX;
    for (uint64_t i = 0; i < n; i += 32) {
        size_t m = n - i < 32 ? n - i : 32;
        if (!pyt_peek(ent, at + i * esz, m * esz))
            return 0;
        for (size_t j = 0; j < m; j++) {
            uintptr_t key = pyt_u64(ent, j * esz + kat);
            if (!key)
                continue;
            if (key != pyt.module_key &&
                (pyt_str(key, name, sizeof name) != 10 || memcmp(name, "__module__", 10)))
                continue;
            pyt.module_key = key;
            return pyt_u64(ent, j * esz + kat + 8);
        }
    }
    return 0;
}

/* The name of the type whose first PY_TP_FINALIZE + 8 bytes are tb (at t)
 * into out: tp_name, or for a class __module__.__qualname__; length. */
static uint32_t pyt_name(uintptr_t t, const char *tb, uint64_t flags, char *out)
{
    uint32_t n = 0;
    if (flags & PY_TPF_HEAPTYPE) {
        uintptr_t q;
        char mod[PYT_NAME_MAX];
        uint32_t m = 0;
        if (!pyt_peek(&q, t + pyt.ol->ht_qualname, sizeof q) ||
            !(n = pyt_str(q, out, PYT_NAME_MAX)))
            return 0;
        uintptr_t mo = pyt_module_of(pyt_u64(tb, PY_TP_DICT));
        if (mo)
            m = pyt_str(mo, mod, sizeof mod);
        if (m && !(m == 8 && !memcmp(mod, "builtins", 8)) && m + 1 + n <= PYT_NAME_MAX) {
            memmove(out + m + 1, out, n);
            memcpy(out, mod, m);
            out[m] = '.';
            n += m + 1;
        }
        return pyt_printable(out, n) ? n : 0;
    }
    char s[PYT_NAME_MAX];
    uintptr_t p = pyt_u64(tb, PY_TP_NAME);
    if (!p || !peek(s, p, 8))
        return 0;
    /* read on while the name goes on, a page at a time stops short of it */
    for (size_t k = 8; k < PYT_NAME_MAX && !memchr(s, 0, k); k += 8)
        if (!peek(s + k, p + k, 8))
            return 0;
    const char *z = memchr(s, 0, PYT_NAME_MAX);
    n = z ? (uint32_t)(z - s) : 0;
    memcpy(out, s, n);
    return pyt_printable(out, n) ? n : 0;
}

/* A new type id for the type at t, or PYT_BAD: not a type (its own type
 * is not `type` or a metaclass, it is not ready, its sizes are absurd, or
 * it has no name to read). */
static uint32_t pyt_new_type(uintptr_t t)
{
    char tb[PY_TP_FINALIZE + 8], mb[PY_TP_FLAGS + 8], name[PYT_NAME_MAX];
    /* its head first: most words tried are no type, and their type's
     * type tells so without the rest */
    if (!pyt_peek(tb, t, 16) || !pyt_u64(tb, 0))
        return PYT_BAD;
    uintptr_t meta = pyt_u64(tb, 8);
    if (meta != py_sym.type_type) { /* a metaclass: a type whose type is `type` */
        if (!pyt_peek(mb, meta, sizeof mb) || pyt_u64(mb, 8) != py_sym.type_type ||
            !(pyt_u64(mb, PY_TP_FLAGS) & PY_TPF_TYPE_SUBCLASS))
            return PYT_BAD;
    }
    if (!pyt_peek(tb, t, sizeof tb) || !pyt_u64(tb, 0) || pyt_u64(tb, 8) != meta)
        return PYT_BAD;
    uint64_t flags = pyt_u64(tb, PY_TP_FLAGS);
    int64_t basic = (int64_t)pyt_u64(tb, PY_TP_BASICSIZE), item = (int64_t)pyt_u64(tb, PY_TP_ITEMSIZE);
    if (!(flags & PY_TPF_READY) || basic < 16 || basic > (1 << 20) || item < -64 || item > 4096)
        return PYT_BAD;
    uint32_t n = pyt_name(t, tb, flags, name);
    if (!n || pyt.nty >= HSNAP_PY_CODE_MAX)
        return PYT_BAD;
    if (pyt.nty == pyt.capty) {
        struct pyg_type *r = py_array_double(pyt.ty, pyt.nty, &pyt.capty, sizeof *r, 256);
        if (!r)
            return PYT_BAD;
        pyt.ty = r;
    }
    uintptr_t ck = 0;
    if ((flags & PY_TPF_HEAPTYPE) && !pyt_peek(&ck, t + pyt.ol->ht_cached_keys, sizeof ck))
        ck = 0;
    pyt.ty[pyt.nty] = (struct pyg_type){flags, basic, item, t, pyg_kind(t, tb, flags),
                                        (int64_t)pyt_u64(tb, PY_TP_DICTOFFSET), ck};
    struct hsnap_pytype rec = {
        .name_off = (uint32_t)pyt.names.len, .name_len = n,
        .flags = ((flags & PY_TPF_HAVE_GC) ? HSNAP_PYTYPE_GC : 0) |
                 ((flags & PY_TPF_HEAPTYPE) ? HSNAP_PYTYPE_CLASS : 0) |
                 (pyt_u64(tb, PY_TP_FINALIZE) || pyt_u64(tb, PY_TP_DEL) ? HSNAP_PYTYPE_FINALIZER
                                                                        : 0)};
    sbuf_put(&pyt.types, &rec, sizeof rec);
    sbuf_put(&pyt.names, name, n);
    return pyt.nty++;
}

/* The id of the type at t (PYT_BAD: none), from the cache when it can. */
static uint32_t pyt_type(uintptr_t t)
{
    uint32_t s = (uint32_t)((t * 0x9e3779b97f4a7c15ull) >> 40) & (PYT_SLOTS - 1);
    for (uint32_t k = 0; k < 16; k++, s = (s + 1) & (PYT_SLOTS - 1)) {
        if (pyt.slot[s].addr == t)
            return pyt.slot[s].id;
        if (!pyt.slot[s].addr) {
            uint32_t id = pyt_new_type(t);
            if (pyt.nslot < PYT_SLOTS / 2) {
                pyt.slot[s].addr = t, pyt.slot[s].id = id;
                pyt.nslot++;
            }
            return id;
        }
    }
    return pyt_new_type(t); /* a crowded neighbourhood: not kept */
}

/* Room in the array *a (of *cap elements of elem bytes, mapped) for
 * element n: 0, or -1 (out of memory). */
static int pyt_room(void **a, uint64_t n, uint64_t *cap, size_t elem)
{
    if (n < *cap)
        return 0;
    if (n >= UINT32_MAX - 1)
        return -1;
    return py_map_room(a, n + 1, cap, elem, 65536);
}

/* Whether the words before an object at off in block b (its PyGC_Head
 * and pre-header) read as pointers or nothing, as they must: the bytes
 * of a dict's values array (its insertion order) do not. */
static int pyt_links(const char *b, unsigned off)
{
    for (unsigned k = 0; k < off; k += 8) {
        uint64_t w = pyt_u64(b, k) & ~7ull; /* _gc_prev's flags, a tagged values pointer */
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
    const struct py_layout *l = py_lay;
    if (t == py_sym.bytes_type)
        return l->bytes_data;
    if (t != py_sym.str_type || l->str_state + 4u > len)
        return 0;
    uint32_t state;
    memcpy(&state, b + l->str_state, sizeof state);
    /* compact (bit 5) and ASCII (bit 6): the text is the UTF-8 */
    return (state & 0x60) == 0x60 ? l->str_ascii_data : 0;
}

/* The graph's arrays given up (out of memory): the objects they hold go
 * into the section as records (no flags), the later ones as they come. */
static void pyt_give_up(void)
{
    uint64_t i;
    for (struct pyg_it it = {0, UINT64_MAX};
         pyt.heap.want && pyt.heap.obj && pyg_next(&pyt.heap, pyt.nobj, &it, &i);) {
        const struct pyg_obj *h = &pyt.heap.obj[i];
        struct hsnap_pyobj o = {.addr = pyt.heap.blk[it.bj].addr, .type = h->type,
                                .offset = (uint16_t)h->off};
        sbuf_put(pyt.out, &o, sizeof o);
    }
    pyg_heap_free(&pyt.heap, pyt.capblk, pyt.capobj);
}

/* Object i's record (PYTYPES' objects; bj its block), with its marks
 * when graph (pyg_build made them). */
static struct hsnap_pyobj pyt_record(uint64_t i, uint64_t bj, int graph)
{
    const struct pyg_obj *h = &pyt.heap.obj[i];
    uint16_t f = 0;
    if (graph)
        f = (h->tracked ? HSNAP_PYOBJ_TRACKED : 0) | (h->external ? HSNAP_PYOBJ_EXTERNAL : 0) |
            (h->garbage ? HSNAP_PYOBJ_GARBAGE : 0);
    return (struct hsnap_pyobj){pyt.heap.blk[bj].addr, h->type, (uint16_t)h->off, f};
}

/* The objects' records from the graph's arrays into the section. */
static void pyt_put_objects(int graph)
{
    if (sbuf_reserve(pyt.out, pyt.nobj * sizeof(struct hsnap_pyobj)) != 0)
        return;
    struct hsnap_pyobj *out = (struct hsnap_pyobj *)(pyt.out->p + pyt.out->len);
    uint64_t i;
    for (struct pyg_it it = {0, UINT64_MAX}; pyg_next(&pyt.heap, pyt.nobj, &it, &i);)
        out[i] = pyt_record(i, it.bj, graph);
    pyt.out->len += pyt.nobj * sizeof(struct hsnap_pyobj);
}

/* The section's head, its counts as they stand (flags: HSNAP_PYTYPES_*). */
static struct hsnap_pytypes_head pyt_head(uint32_t flags)
{
    return (struct hsnap_pytypes_head){
        .ntypes = pyt.nty, .flags = flags, .nobjects = pyt.nobj, .names_len = pyt.names.len,
        .nlinks = flags ? pyt.links.len / sizeof(struct hsnap_pylink) : 0,
        .nparents = flags ? pym_nparents(&pyt.parents) : 0};
}

/* The parents' links (struct pyg_parent, made whole) to put(arg, p, n),
 * a few at a time: the section's form is never held. */
static void pyt_parents(void (*put)(void *, const void *, size_t), void *arg)
{
    uint64_t np = pym_nparents(&pyt.parents), k = 0, at = 0;
    struct hsnap_pylink l[256];
    struct pyg_parent p;
    uint32_t n = 0;
    for (uint64_t i = 0; i < pyt.nobj && k < np; i++) {
        if (!pyt.heap.obj[i].parent)
            continue;
        pym_parent_next(&pyt.parents, &at, &p);
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
static void pyt_stream(const struct py_types_sink *s, uint32_t flags)
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
    for (struct pyg_it it = {0, UINT64_MAX}; pyg_next(&pyt.heap, pyt.nobj, &it, &i);) {
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

/* The object in the block at addr (size bytes; b its first len bytes), if
 * it is one, into the graph's arrays (the section's record is made from
 * them, pyt_put_objects), or without them into the section. */
static void pyt_block(uint64_t addr, uint64_t size, uint64_t blk, const char *b, size_t len)
{
    for (unsigned off = 0; off <= 32 && off + 16 <= len; off += 16) {
        uint64_t refcnt = pyt_u64(b, off), t = pyt_u64(b, off + 8);
        /* the leak check takes a dead object too (count 0): one the
         * interpreter keeps on a free list to hand out again, linked by its
         * start */
        if ((!refcnt && !pyt.starts) || refcnt >= PYT_REFCNT_MAX || !t || (t & 7) ||
            !pyt_links(b, off))
            continue;
        uint32_t id = pyt_type(t);
        if (id == PYT_BAD)
            continue;
        const struct pyg_type *ty = &pyt.ty[id];
        unsigned pre = (ty->flags & PY_TPF_HAVE_GC ? PY_GC_HEAD : 0) +
                       (ty->flags & pyt.ol->preheader ? 16 : 0);
        /* a str is made smaller than its type's size (a compact one) */
        if (pre != off || (ty->item == 0 && size < off + (uint64_t)ty->basic &&
                           ty->addr != py_sym.str_type))
            continue;
        if (pyt.starts && !refcnt && pyt.starts[blk].reserved)
            return; /* a dead one's remains in a values array's prefix */
        if (pyt.starts) {
            pyt.starts[blk].reserved = (uint16_t)off;
            if (!off) /* no PyGC_Head: its start needs no mark; its text's may */
                pyt.starts[blk].reserved = pyt_text_start(ty->addr, b, len);
            for (unsigned k = 0; k + PY_GC_HEAD < off; k += 8) { /* the pre-header's */
                pyt_values_start(pyt_u64(b, k));
            }
            if (ty->kind == PYG_DICT && off + 48 <= len) /* a split dict's values */
                pyt_values_start(pyt_u64(b, off + 40));
            return;
        }
        if (pyt.heap.want && (pyt_room((void **)&pyt.heap.obj, pyt.nobj, &pyt.capobj,
                                       sizeof *pyt.heap.obj) != 0 ||
                              pyt_room((void **)&pyt.heap.sel, pyt.nobj / 64, &pyt.heap.capsel,
                                       sizeof *pyt.heap.sel) != 0 ||
                              (pyt.nobj && pyt.last_blk >= blk) || id >= PYG_TYPES_MAX))
            pyt_give_up(); /* out of memory; out of block order (pyg_obj_of); too many types */
        if (!pyt.heap.want) {
            struct hsnap_pyobj o = {.addr = addr, .type = id, .offset = (uint16_t)off};
            sbuf_put(pyt.out, &o, sizeof o);
        } else {
            /* tracked by the gc: its PyGC_Head's _gc_next is set */
            int tracked = (ty->flags & PY_TPF_HAVE_GC) && pyt_u64(b, off - PY_GC_HEAD) != 0;
            uint64_t rc = refcnt < PYG_REFCNT_MAX ? refcnt : PYG_REFCNT_MAX;
            pyt.heap.obj[pyt.nobj] = (struct pyg_obj){.refcnt = rc, .off = off,
                                                      .tracked = tracked != 0, .type = id};
            pyg_rank_set(&pyt.heap, blk, pyt.nobj);
            pyt.last_blk = blk;
        }
        pyt.nobj++;
        return;
    }
}

/* A block's first bytes as read (pyread.c; p NULL: unreadable, no
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
    return py_on && py_lay && py_sym.type_type && py_sym.str_type &&
           py_obj_layout_find(py_lay->version);
}

int py_types_begin(struct sbuf *b)
{
    memset(&pyt, 0, sizeof pyt);
    if (!py_on || !py_lay || !py_sym.type_type || !py_sym.str_type ||
        !(pyt.ol = py_obj_layout_find(py_lay->version)))
        return -1;
    pyt.slot = arena_map(PYT_SLOTS * sizeof *pyt.slot);
    if (!pyt.slot)
        return -1;
    pyrd_hold(1); /* the window kept for the graph's passes: pyrd_hold(0) below */
    if (pyrd_begin(pyt_got, NULL) != 0) {
        pyrd_hold(0);
        arena_unmap(pyt.slot, PYT_SLOTS * sizeof *pyt.slot);
        return -1;
    }
    pypg_open(); /* the pass's field reads: a page copied once (pypg_close) */
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
        pyt.heap.blk[blk] = (struct pyg_block){addr, size < PYG_BIG ? size : PYG_BIG};
        pyt.heap.nblk++;
        if (size >= PYG_BIG && pyt_room((void **)&pyt.heap.big, pyt.heap.nbig, &pyt.heap.capbig,
                                        sizeof *pyt.heap.big) == 0)
            pyt.heap.big[pyt.heap.nbig++] = (struct pyg_big){addr, size};
        else if (size >= PYG_BIG)
            pyt_give_up();
    } else if (pyt.heap.want) {
        pyt_give_up(); /* no graph, the types still */
    }
    if (size >= 16 && blk < UINT32_MAX)
        pyrd_add(addr, size < PYT_HEAD ? (uint32_t)size : PYT_HEAD, (uint32_t)blk, size);
}

int py_types_end(struct sbuf *b, struct sbuf *owned, const struct py_types_sink *sink)
{
    uint32_t flags = 0, *owner = NULL;
    int streamed = 0;
    pyrd_end();
    if (pyt.heap.want)
        pyg_rank_end(&pyt.heap, pyt.nobj);
    if (pyt.heap.want && !b->err)
        pyr_begin(&pyt.heap, pyt.nobj);
    if (pyt.heap.want && !b->err &&
        pyg_build(&pyt.heap, pyt.nobj, pyt.ty, &pyt.links, &pyt.parents, &pyt.names, &owner) == 0 &&
        !pyt.links.err && !pyt.parents.err)
        flags |= HSNAP_PYTYPES_GRAPH;
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
    pyo_make(&pyt.heap, pyt.nobj, pyt.ty, pyt.nty, (flags & HSNAP_PYTYPES_GRAPH) ? owner : NULL);
    if (owner && !(flags & HSNAP_PYTYPES_GRAPH))
        arena_unmap(owner, PYG_OWNERS(&pyt.heap, pyt.nobj) * sizeof *owner);
    pyrd_hold(0);
    pypg_close();
    if (!sink) /* else streamed (py_owned_stream) */
        pyo_records(owned);
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
    arena_unmap(pyt.slot, PYT_SLOTS * sizeof *pyt.slot);
    pyt.slot = NULL;
    if (pyt.ty)
        arena_free(pyt.ty, pyt.capty * sizeof *pyt.ty);
    pyt.ty = NULL;
    return streamed;
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
    pyo_free();
    if (pyt.retain) /* the retained sizes, for PYRETAIN */
        pyr_end(pyt_drop_objs);
    else
        pyr_begin(&pyt.heap, 0); /* none: the graph's edges dropped */
    pyg_heap_free(&pyt.heap, pyt.capblk, pyt.capobj);
    memset(&pyt, 0, sizeof pyt);
}

void py_types_drop(struct sbuf *b)
{
    pyo_free();
    pyfl_drop();
    pyrd_end();
    pyrd_hold(0);
    pypg_close();
    pyr_begin(&pyt.heap, 0); /* the graph's edges, if any, dropped */
    pyg_heap_free(&pyt.heap, pyt.capblk, pyt.capobj);
    sbuf_free(&pyt.types);
    sbuf_free(&pyt.names);
    sbuf_free(&pyt.links);
    sbuf_free(&pyt.parents);
    if (pyt.slot)
        arena_unmap(pyt.slot, PYT_SLOTS * sizeof *pyt.slot);
    if (pyt.ty)
        arena_free(pyt.ty, pyt.capty * sizeof *pyt.ty);
    memset(&pyt, 0, sizeof pyt);
    sbuf_free(b);
}

void py_object_starts(struct hsnap_block *b, uint64_t n)
{
    memset(&pyt, 0, sizeof pyt);
    if (!py_on || !py_lay || !py_sym.type_type || !py_sym.str_type ||
        !(pyt.ol = py_obj_layout_find(py_lay->version)) ||
        !(pyt.slot = arena_map(PYT_SLOTS * sizeof *pyt.slot)))
        return;
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
    arena_unmap(pyt.slot, PYT_SLOTS * sizeof *pyt.slot);
    if (pyt.ty)
        arena_free(pyt.ty, pyt.capty * sizeof *pyt.ty);
    memset(&pyt, 0, sizeof pyt);
}

uint64_t pyg_big_size(const struct pyg_heap *h, uint64_t addr)
{
    uint64_t lo = 0, hi = h->nbig;
    while (lo < hi) {
        uint64_t mid = lo + (hi - lo) / 2;
        if (h->big[mid].addr == addr)
            return h->big[mid].size;
        if (h->big[mid].addr < addr)
            lo = mid + 1;
        else
            hi = mid;
    }
    return PYG_BIG; /* not kept: at least so much */
}

void pyg_heap_free(struct pyg_heap *h, uint64_t capblk, uint64_t capobj)
{
    if (h->big)
        arena_unmap(h->big, h->capbig * sizeof *h->big);
    if (h->blk)
        arena_unmap(h->blk, capblk * sizeof *h->blk);
    if (h->rank)
        arena_unmap(h->rank, h->caprank * sizeof *h->rank);
    if (h->sel)
        arena_unmap(h->sel, h->capsel * sizeof *h->sel);
    if (h->obj)
        arena_unmap(h->obj, capobj * sizeof *h->obj);
    memset(h, 0, sizeof *h);
}
