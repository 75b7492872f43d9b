/*
 * pylink.c - the names of the graph's links (struct hsnap_pylink): a dict
 * key's text, an attribute's or a member's name (a function's
 * __defaults__ too), a class's __dict__ and its fields (__mro__) by the
 * class's qualified name, each put in the section's names once and found
 * again by a small cache by address (a str object, a keys object's entry,
 * a type's member), for pygraph.c's garbage links and parents.  A field no
 * member names may be one pyknown.c knows by its type's layout (an
 * exception's __traceback__, a Task's result(), a frame's local).
 *   Lock: none; pyg_build's, under the snapshot lock.
 */
#include <string.h>

#include "pyreads.h"
#include "pyframes.h"
#include "pygraph.h"
#include "peek.h"

#define PYG_NAMES 1024u /* names remembered by address (power of two) */

static struct {
    struct sbuf *names;       /* the section's names */
    uint64_t addr[PYG_NAMES]; /* what each name was put for */
    uint32_t off[PYG_NAMES], len[PYG_NAMES];
} lk;

void pyg_link_begin(struct sbuf *names)
{
    memset(&lk, 0, sizeof lk);
    lk.names = names;
}

/* The text n bytes at t into the names, once for address addr (a str
 * object, a C string, even or odd: the cache is by address): its place. */
static void pyg_name(uint64_t addr, const char *t, uint32_t n, struct hsnap_pylink *l)
{
    uint32_t s = (uint32_t)((addr * 0x9e3779b97f4a7c15ull) >> 50) & (PYG_NAMES - 1);
    if (!n)
        return;
    if (lk.addr[s] != addr || lk.len[s] != n) {
        lk.addr[s] = addr, lk.off[s] = (uint32_t)lk.names->len, lk.len[s] = n;
        sbuf_put(lk.names, t, n);
    }
    l->name_off = lk.off[s];
    l->name_len = n;
}

/* Whether address addr's name is in the cache: then into l. */
static int pyg_name_cached(uint64_t addr, struct hsnap_pylink *l)
{
    uint32_t s = (uint32_t)((addr * 0x9e3779b97f4a7c15ull) >> 50) & (PYG_NAMES - 1);
    if (lk.addr[s] != addr || !lk.len[s])
        return 0;
    l->name_off = lk.off[s];
    l->name_len = lk.len[s];
    return 1;
}

/* A function's __defaults__ or __kwdefaults__ (getsets: its members name
 * __closure__ alone), by their place before func_closure's: a function
 * is a type whose member at PY_FUNC_DEFAULTS + 16 is __closure__. */
static uint32_t pyg_func_field(uintptr_t t, uint32_t value, char *k, uint32_t cap)
{
    static const char *const names[2] = {"__defaults__", "__kwdefaults__"};
    char c[16];
    if ((value != PY_FUNC_DEFAULTS && value != PY_FUNC_DEFAULTS + 8) ||
        pyg_member_name(t, PY_FUNC_DEFAULTS + 16, c, sizeof c) != 11 ||
        memcmp(c, "__closure__", 11))
        return 0;
    const char *name = names[value != PY_FUNC_DEFAULTS];
    uint32_t n = (uint32_t)strlen(name);
    if (n >= cap)
        return 0;
    memcpy(k, name, n);
    return n;
}

/* The int object at o (PyLong_Type's, of at most two 30-bit digits) as
 * decimal digits into k (cap bytes): their count, 0 when it is none.
 * 3.12 on keep the digits' count and the sign in lv_tag (sign in its
 * low two bits: 0 positive, 1 zero, 2 negative); before, ob_size is
 * the signed count. */
static uint32_t pyg_int_text(uint64_t o, char *k, uint32_t cap)
{
    uint64_t w[4];
    uint32_t d[2];
    if (!pylay_sym.long_type || (o & 7) || !pyrd_pg_peek(w, o, sizeof w) || w[1] != pylay_sym.long_type)
        return 0;
    int64_t size = (int64_t)w[2];
    uint64_t nd = (uint64_t)(size < 0 ? -size : size);
    int neg = size < 0;
    if (pylay_lay->version >= 0x030c0000u)
        nd = w[2] >> 3, neg = (w[2] & 3) == 2;
    if (nd > 2)
        return 0;
    memcpy(d, &w[3], sizeof d);
    uint64_t v = nd ? (d[0] & 0x3fffffffu) | (nd > 1 ? (uint64_t)(d[1] & 0x3fffffffu) << 30 : 0)
                    : 0;
    if (cap < 24)
        return 0;
    k[0] = '-';
    return (uint32_t)(neg + opt_fmt_u64(k + neg, v));
}

/* The qualified name of the heap type at t into k (cap bytes): its
 * length, 0 when not one. */
static uint32_t pyg_class_name(uint64_t t, char *k, uint32_t cap)
{
    uint64_t w[2] = {0, 0};
    const struct pylay_obj_layout *ol = pylay_obj_layout_find(pylay_lay->version);
    if (ol && pyrd_pg_peek(w, t + PY_TP_FLAGS, 8) && (w[0] & PY_TPF_HEAPTYPE) &&
        pyrd_pg_peek(&w[1], t + ol->ht_qualname, 8))
        return pyfr_str_peek(w[1], k, cap);
    return 0;
}

struct hsnap_pylink pyg_link(const struct pyh_heap *h, const struct pyh_type *ty, uint32_t src,
                             uint32_t dst, uint32_t label, uint32_t value, uint64_t key)
{
    struct hsnap_pylink l = {src, dst, label, value, 0, 0};
    char k[128];
    if ((label == HSNAP_PYLABEL_KEY || label == HSNAP_PYLABEL_ATTR) && (key & 1)) {
        /* entry value of a keys object: by (keys, index) */
        uint64_t at = (key & ~1ull) ^ ((uint64_t)value << 48) ^ 2;
        if (pyg_name_cached(at, &l))
            return l;
        key = pyg_roots_keys_entry(key & ~1ull, value, NULL);
        uint32_t n = key ? pyfr_str_peek(key, k, sizeof k) : 0;
        pyg_name(at, k, n, &l);
    } else if (label == HSNAP_PYLABEL_KEY && key) {
        /* a str key by its text; an int's by its digits, at key | 2 */
        if (pyg_name_cached(key, &l))
            return l;
        if (pyg_name_cached(key | 2, &l)) {
            l.label |= HSNAP_PYLINK_REPR;
            return l;
        }
        uint32_t n = pyfr_str_peek(key, k, sizeof k);
        if (n) {
            pyg_name(key, k, n, &l);
        } else if ((n = pyg_int_text(key, k, sizeof k))) {
            pyg_name(key | 2, k, n, &l);
            l.label |= HSNAP_PYLINK_REPR;
        }
    } else if (label == HSNAP_PYLABEL_DICT &&
               (ty[h->obj[src].type].flags & PY_TPF_TYPE_SUBCLASS)) {
        /* a class's __dict__: the class's own name names it */
        const struct pyh_obj *o = &h->obj[src];
        uint64_t t = h->blk[pyh_blk_of(h, src)].addr + o->off;
        if (pyg_name_cached(t | 2, &l))
            return l;
        pyg_name(t | 2, k, pyg_class_name(t, k, sizeof k), &l);
    } else if (label == HSNAP_PYLABEL_FIELD) {
        const struct pyh_type *st = &ty[h->obj[src].type];
        uintptr_t t = st->addr;
        uint64_t own = 0, obj = h->blk[pyh_blk_of(h, src)].addr + h->obj[src].off;
        if (pyg_known_kind(t, st->flags) == PYKN_FRAME) { /* a local: named by its frame's code */
            uint32_t n = pyg_known_name(t, st->flags, st->basic, obj, value, k, sizeof k, &own);
            if (own && !pyg_name_cached(own, &l))
                pyg_name(own, k, n, &l);
            if (own)
                return l;
        }
        /* a class's field (__mro__, __bases__: pyg_member_name) by the
         * class's own name, "Node.__mro__", as its __dict__'s */
        uint64_t self = ty[h->obj[src].type].flags & PY_TPF_TYPE_SUBCLASS
                            ? h->blk[pyh_blk_of(h, src)].addr + h->obj[src].off : 0;
        uint64_t at = ((self ? self : t) ^ ((uint64_t)value << 48)) | 4;
        if (pyg_name_cached(at, &l))
            return l;
        uint32_t q = self ? pyg_class_name(self, k, sizeof k - 32) : 0;
        if (q)
            k[q++] = '.';
        uint32_t n = t == pylay_sym.cell_type && value == 16
                         ? (uint32_t)sizeof "cell_contents" - 1
                         : pyg_member_name(t, value, k + q, (uint32_t)sizeof k - q);
        if (t == pylay_sym.cell_type && value == 16)
            memcpy(k, "cell_contents", n);
        else if (!n)
            n = pyg_func_field(t, value, k, sizeof k);
        if (!n && !q) /* a field of a known layout: "result()", "__traceback__" */
            n = pyg_known_name(t, st->flags, st->basic, obj, value, k, sizeof k, &own);
        pyg_name(at, k, n ? n + q : 0, &l);
    }
    return l;
}
