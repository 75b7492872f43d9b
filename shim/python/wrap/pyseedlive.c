/*
 * pyseedlive.c - the live lists, dicts, small tuples and keys tables made
 * before the shim wrapped the allocator domains.  One that dies later goes
 * onto its free list without an allocator call and is handed out again
 * the same way (pyseed.c has the lists' sizes): never a block of ours, so
 * no object of the graph, and what it holds then is held "from outside"
 * (`BIG = {"a": {"c": [...]}}`: an inner dict from the free list, made
 * before the wrap).  The dead ones at the wrap are pyw_seed_each's;
 * pyw_seed_live names the live ones the collector tracks (its generations'
 * lists, and the permanent one) with a list's item array and a dict's
 * combined keys table when pymalloc made them, and the untracked dicts
 * and tuples such a dict, list or tuple holds (3.10: also an object's
 * __dict__); fn gets each block and the size the interpreter asked.
 * Called under the GIL (dom_poll), while no collection runs (the lists
 * and what they hold are then the interpreter's consistent own), so the
 * reads are plain loads, each address first found readable (pyrd_map_readable)
 * and the walks bounded (a peek, a system call each, would cost a start-up
 * tens of milliseconds).  The generations' heads are found and verified
 * (pyw_gens_find), never computed from another field.
 * Not named: an untracked one no tracked container holds, the immortal and
 * the static ones (they never die), subclasses (no free list), a split
 * dict's values.
 */
#include <string.h>

#include "pylayout.h"
#include "pyreads.h"
#include "pywrap.h"
#include "peek.h"

#define PYSL_MAX (1u << 22)   /* objects a generation, at most */
#define PYSL_DICTOFFSET 288u  /* PyTypeObject's tp_dictoffset */
#define PYSL_SMALL 512u       /* pymalloc's largest; larger ones are malloc's */

/* A heap address an object may sit at: aligned, not libpython's data. */
static int pysl_heap(uintptr_t p)
{
    if (p < 4096 || (p & 7))
        return 0;
    for (int k = 0; k < 4; k++)
        if (p - pylay_sym.data_lo[k] < pylay_sym.data_hi[k] - pylay_sym.data_lo[k])
            return 0;
    return 1;
}

/* The type's tp_basicsize (tp_itemsize: 8 for a tuple; 0 for a list and
 * a dict), or 0 when out of range; read with peek once. */
static uint64_t pysl_basic(uintptr_t t)
{
    uint64_t s[2] = {0, 0};
    return t && peek(s, t + 32, sizeof s) && s[0] <= 4096 && s[1] <= 64 ? s[0] : 0;
}

/* A live dict's combined keys table at k: its block and the size asked
 * for it (new_keys_object: its header, its indices, and USABLE_FRACTION
 * of its slots' entries; pyseed.c's formula at 8 slots), else nothing.
 * One past pymalloc's sizes came from malloc, a block already. */
static unsigned pysl_keys(uintptr_t k, pyw_seed_fn fn, void *arg)
{
    const uint8_t *h = (const uint8_t *)k;
    int64_t refs;
    uint64_t slots, size;
    if (!pysl_heap(k))
        return 0;
    if (!pyrd_map_readable(k, 40))
        return 0;
    memcpy(&refs, h, sizeof refs);
    if (refs <= 0 || refs > (1 << 30))
        return 0;
    if (pylay_lay->version < 0x030b0000u) { /* dk_size; 1, 2, 4 or 8 bytes an index */
        memcpy(&slots, h + 8, sizeof slots);
        if (slots < 8 || slots > 128 || (slots & (slots - 1)))
            return 0;
        size = 40 + slots + 24 * (2 * slots / 3);
    } else {
        if (h[8] < 3 || h[8] > 7 || h[9] != h[8] || h[10] > 1) /* dk_kind 2: split */
            return 0;
        slots = 1ull << h[8];
        size = 32 + slots + (h[10] ? 16 : 24) * (2 * slots / 3);
    }
    if (size > PYSL_SMALL)
        return 0;
    fn(k, size, arg);
    return 1;
}

/* A live list's item array at a of n slots (allocated), when pymalloc's. */
static unsigned pysl_items(uintptr_t a, uint64_t n, pyw_seed_fn fn, void *arg)
{
    if (!n || 8 * n > PYSL_SMALL || !pysl_heap(a))
        return 0;
    fn(a, 8 * n, arg);
    return 1;
}

static unsigned pysl_dict(uintptr_t o, const uintptr_t *w, const uintptr_t basic[3],
                          pyw_seed_fn fn, void *arg);

/* The value at v, when an untracked (gc_next 0) dict or small tuple: a
 * dict or tuple of atomic items only, found in a tracked container. */
static unsigned pysl_untracked(uintptr_t v, const uintptr_t basic[3], uint64_t tuple_max,
                               pyw_seed_fn fn, void *arg)
{
    if (!pysl_heap(v) || !pyrd_map_readable(v - PY_GC_HEAD, PY_GC_HEAD + 24))
        return 0;
    const uintptr_t *w = (const uintptr_t *)(v - PY_GC_HEAD);
    int64_t refs = (int64_t)w[2];
    if (w[0] || refs <= 0 || (pylay_lay->version >= 0x030c0000u && (int32_t)refs < 0))
        return 0;
    if (w[3] == pylay_sym.dict_type && basic[1])
        return pysl_dict(v - PY_GC_HEAD, w, basic, fn, arg);
    if (w[3] == pylay_sym.tuple_type && basic[2] && w[4] >= 1 && w[4] <= tuple_max) {
        fn(v - PY_GC_HEAD, PY_GC_HEAD + ((basic[2] + 8 * w[4] + 7) & ~7ull), arg);
        return 1;
    }
    return 0;
}

/* The words [at, at + 8n), stride words apart, each looked at as a value
 * (pysl_untracked); n bounded by the caller's container. */
static unsigned pysl_values(uintptr_t at, uint64_t n, unsigned stride, const uintptr_t basic[3],
                            uint64_t tuple_max, pyw_seed_fn fn, void *arg)
{
    unsigned seen = 0;
    if (!pysl_heap(at) || n > (1u << 20) || !pyrd_map_readable(at, 8 * stride * n))
        return 0;
    for (uint64_t i = 0; i < n; i++) {
        uintptr_t v;
        memcpy(&v, (const void *)(at + 8 * stride * i), sizeof v);
        seen += pysl_untracked(v, basic, tuple_max, fn, arg);
    }
    return seen;
}

/* A live dict (its PyGC_Head at g, words w from it): it, its combined
 * keys table (pysl_keys); when tracked, also its entries' untracked
 * dicts and tuples. */
static unsigned pysl_dict(uintptr_t g, const uintptr_t *w, const uintptr_t basic[3],
                          pyw_seed_fn fn, void *arg)
{
    uint64_t tuple_max = 19 + (pylay_lay->version >= 0x030b0000u), n;
    fn(g, PY_GC_HEAD + basic[1], arg);
    if (w[7]) { /* ma_values: split, its keys the class's (their entries' count) */
        if (!w[0] || !pysl_heap(w[6]) || !pyrd_map_readable(w[6], 40))
            return 1;
        memcpy(&n, (const void *)(w[6] + (pylay_lay->version < 0x030b0000u ? 32 : 24)), 8);
        return 1 + pysl_values(w[7] + (pylay_lay->version >= 0x030d0000u ? 8 : 0), n, 1, basic,
                               tuple_max, fn, arg);
    }
    unsigned seen = 1 + pysl_keys(w[6], fn, arg);
    if (!w[0] || !seen || !pysl_heap(w[6]))
        return seen;
    const uint8_t *h = (const uint8_t *)w[6];
    uint64_t at, esz;
    if (pylay_lay->version < 0x030b0000u) {
        uint64_t slots;
        memcpy(&slots, h + 8, 8), memcpy(&n, h + 32, 8);
        at = w[6] + 40 + slots, esz = 3;
        if (slots > 128)
            return seen;
    } else {
        memcpy(&n, h + 24, 8);
        at = w[6] + 32 + (1ull << (h[9] & 31)), esz = h[10] ? 2 : 3;
        if (h[9] > 7)
            return seen;
    }
    /* an entry: [hash,] key, value: the keys and the values */
    seen += pysl_values(at + 8 * (esz - 2), n, (unsigned)esz, basic, tuple_max, fn, arg);
    return seen + pysl_values(at + 8 * (esz - 1), n, (unsigned)esz, basic, tuple_max, fn, arg);
}

/* The objects of one generation's list (its head at head): how many. */
static unsigned pysl_gen(uintptr_t head, const uintptr_t basic[3], uint64_t tuple_max,
                         pyw_seed_fn fn, void *arg)
{
    const struct pylay_obj_layout *ol = pylay_obj_layout_find(pylay_lay->version);
    unsigned seen = 0, n = 0, items = ol ? ol->tuple_items : 0; /* ob_item */
    uintptr_t g;
    memcpy(&g, (const void *)head, sizeof g);
    for (; g != head && n < PYSL_MAX; n++) {
        if (!pysl_heap(g) || !pyrd_map_readable(g, 7 * sizeof(uintptr_t)))
            return seen;
        const uintptr_t *w = (const uintptr_t *)g; /* _gc_next, _gc_prev, refcnt, type */
        uintptr_t next = w[0] & ~(uintptr_t)3, type = w[3];
        int64_t refs = (int64_t)w[2];
        int mortal = pylay_lay->version < 0x030c0000u || (int32_t)refs >= 0;
        if (refs > 0 && mortal) {
            if (type == pylay_sym.list_type && basic[0]) {
                fn(g, PY_GC_HEAD + basic[0], arg), seen++;
                seen += pysl_items(w[5], w[6], fn, arg); /* ob_item, allocated */
                if (w[4] <= w[6])
                    seen += pysl_values(w[5], w[4], 1, basic, tuple_max, fn, arg);
            } else if (type == pylay_sym.dict_type && basic[1]) {
                seen += pysl_dict(g, w, basic, fn, arg);
            } else if (type == pylay_sym.tuple_type && basic[2] && w[4] >= 1 &&
                       w[4] <= tuple_max) {
                fn(g, PY_GC_HEAD + ((basic[2] + 8 * w[4] + 7) & ~7ull), arg), seen++;
            }
            if (pylay_lay->version < 0x030b0000u && type >= 4096 && !(type & 7)) { /* 3.10: __dict__ */
                int64_t off = 0;
                if (pyrd_map_readable(type + PYSL_DICTOFFSET, sizeof off))
                    memcpy(&off, (const void *)(type + PYSL_DICTOFFSET), sizeof off);
                if (off >= 16 && off < 4096 && !(off & 7) &&
                    pyrd_map_readable(g + PY_GC_HEAD + (uintptr_t)off, sizeof(uintptr_t))) {
                    uintptr_t d;
                    memcpy(&d, (const void *)(g + PY_GC_HEAD + (uintptr_t)off), sizeof d);
                    seen += pysl_untracked(d, basic, tuple_max, fn, arg);
                }
            }
            if (type == pylay_sym.tuple_type && basic[2] && items && w[4] <= (1u << 20))
                seen += pysl_values(g + PY_GC_HEAD + items, w[4], 1, basic, tuple_max, fn, arg);
        }
        g = next;
    }
    return seen;
}

unsigned pyw_seed_live(pyw_seed_fn fn, void *arg)
{
    struct pylay_gc_layout gl;
    void *runtime = pylay_sym.runtime;
    uintptr_t interp = pylay_sym.interp_main ? (uintptr_t)pylay_sym.interp_main() : 0, heads[4];
    int32_t collecting = 1;
    if (!interp || !pylay_lay || pylay_gc_layout_find(pylay_sym.version, runtime, &gl) != 0 ||
        !peek(&collecting, interp + gl.collecting, sizeof collecting) || collecting ||
        (gl.gens ? pyw_gens_at(interp, gl.gens, heads)
                 : pyw_gens_find(interp, gl.collecting, heads)) != 0 ||
        pyrd_map_load() != 0)
        return 0;
    const uintptr_t basic[3] = {pysl_basic(pylay_sym.list_type), pysl_basic(pylay_sym.dict_type),
                                pysl_basic(pylay_sym.tuple_type)};
    uint64_t tuple_max = 19 + gl.tuple_base; /* the tuple free lists' largest */
    unsigned seen = 0;
    for (unsigned i = 0; i < 4; i++)
        seen += pysl_gen(heads[i], basic, tuple_max, fn, arg);
    return seen;
}
