/*
 * pythreads.c - the Python names of the threads, read at a snapshot: the
 * module threading's _active dict (ident -> Thread) and each Thread's
 * _name and _native_id attributes (3.8 on), so that THREADS names a
 * thread as threading names it on every version (3.14 on gives the name
 * to the OS at start, but not a rename made from another thread; 3.10-3.13
 * give it to no one).  Each name goes to the thread's record
 * (athr_py_name), which keeps it after the thread ends.
 *   No Python code runs: the dicts and the instance's attributes are read
 * where each version keeps them (3.10: the __dict__ at tp_dictoffset;
 * 3.11: the pre-header's values or dict; 3.12: its dict or tagged values;
 * 3.13 on: the inline values, or the pre-header's dict once made), every
 * read a safe copy (pyrd_pg_peek), every object's type checked before its
 * fields are used.  The other threads run meanwhile: what reads wrong is
 * left out (the thread keeps the name it had).  Called by the snapshot
 * writer under the snapshot lock, not on the fatal path.  Prefix pyth_.
 */
#include <string.h>

#include "pyframes.h"
#include "pygraph.h"
#include "pylayout.h"
#include "pyreads.h"
#include "pyobjects.h"
#include "python.h"
#include "record.h"

#define PYTH_THREADS 1024u /* entries of _active looked at */
#define PYTH_ATTRS 64u     /* entries of an instance's attributes looked at */
#define PYTH_MODULES 65536u /* entries of sys.modules and of a module's dict */

static struct {
    const struct pylay_obj_layout *ol;
    uint32_t v; /* pylay_lay->version */
} pyth;

static uintptr_t pyth_word(uintptr_t at)
{
    uintptr_t w = 0;
    return pyrd_pg_peek8(&w, at, sizeof w) ? w : 0;
}

/* Whether the str at s reads as want (n bytes, n < 32). */
static int pyth_is(uintptr_t s, const char *want, uint32_t n)
{
    char t[32];
    return s && pyfr_str_peek(s, t, sizeof t) == n && !memcmp(t, want, n);
}

/* The entries of the dict keys object at keys (dk_nentries: 3.10's at
 * 32, then at 24), at most max; 0 when it does not read. */
static uint64_t pyth_nentries(uintptr_t keys, uint64_t max)
{
    uint64_t n = pyth_word(keys + (pyth.ol->keys == PY_KEYS_310 ? 32 : 24));
    return n < max ? n : max;
}

/* The value under the str key want (n bytes) of the dict at d, or 0. */
static uintptr_t pyth_dict_get(uintptr_t d, const char *want, uint32_t n, uint64_t max)
{
    uintptr_t dict[6];
    if (!pyrd_pg_peek8(dict, d, sizeof dict) || dict[1] != pylay_sym.dict_type || !dict[4])
        return 0;
    /* ma_values: a split dict's (3.13 on: past a header), named by the
     * keys' entries */
    uintptr_t values = dict[5] ? dict[5] + (pyth.v >= 0x030d0000u ? 8 : 0) : 0;
    for (uint64_t i = 0, e = pyth_nentries(dict[4], max); i < e; i++) {
        uintptr_t val = 0, key = pyg_roots_keys_entry(dict[4], i, &val);
        if (pyth_is(key, want, n))
            return values ? pyth_word(values + 8 * i) : val;
    }
    return 0;
}

/* The value of the attribute want of the class instance at obj kept in
 * its values array at values (named by keys: its class's ht_cached_keys),
 * or 0. */
static uintptr_t pyth_values_get(uintptr_t values, uintptr_t keys, const char *want, uint32_t n)
{
    uint64_t e = keys && values ? pyth_nentries(keys, PYTH_ATTRS) : 0;
    for (uint64_t i = 0; i < e; i++) {
        uintptr_t key = pyg_roots_keys_entry(keys, i, NULL);
        if (pyth_is(key, want, n))
            return pyth_word(values + 8 * i);
    }
    return 0;
}

/* Where the class instance at obj keeps its attributes: its __dict__
 * (*dict) or its values array and their names (*values, *keys); 0 when
 * neither reads. */
static int pyth_attrs(uintptr_t obj, uintptr_t *dict, uintptr_t *values, uintptr_t *keys)
{
    uintptr_t t = pyth_word(obj + 8);
    uint64_t tb[PY_TP_DICTOFFSET / 8 + 1];
    *dict = *values = *keys = 0;
    if (!t || !pyrd_pg_peek8(tb, t, sizeof tb))
        return 0;
    uint64_t flags = tb[PY_TP_FLAGS / 8];
    int64_t basic = (int64_t)tb[PY_TP_BASICSIZE / 8], off = (int64_t)tb[PY_TP_DICTOFFSET / 8];
    if (!(flags & PY_TPF_HEAPTYPE) || basic < 16 || basic > 4096)
        return 0;
    *keys = pyth_word(t + pyth.ol->ht_cached_keys);
    if (!pyth.ol->preheader || !(flags & pyth.ol->preheader)) { /* 3.10's way */
        if (off <= 0 || off >= basic)
            return 0;
        *dict = pyth_word(obj + (uint64_t)off);
        return *dict != 0;
    }
    uintptr_t pre[2]; /* the two words before the PyGC_Head */
    if (!pyrd_pg_peek8(pre, obj - PY_GC_HEAD - sizeof pre, sizeof pre))
        return 0;
    if (pyth.v < 0x030c0000u) { /* 3.11: values, dict */
        *dict = pre[1], *values = pre[1] ? 0 : pre[0];
    } else if (pyth.v < 0x030d0000u) { /* 3.12: weakrefs, dict or values - 1 */
        if (pre[1] & 1)
            *values = pre[1] + 1;
        else
            *dict = pre[1];
    } else { /* 3.13 on: weakrefs, dict; the values inline while valid */
        uint8_t hdr[4];
        *dict = pre[1];
        if (!*dict && (flags & PY_TPF_INLINE_VALUES) &&
            pyrd_pg_peek(hdr, obj + (uint64_t)basic, sizeof hdr) && hdr[3])
            *values = obj + (uint64_t)basic + 8;
    }
    return *dict || *values;
}

/* The attribute want of the class instance at obj, or 0. */
static uintptr_t pyth_attr(uintptr_t obj, const char *want, uint32_t n)
{
    uintptr_t dict, values, keys;
    if (!pyth_attrs(obj, &dict, &values, &keys))
        return 0;
    return dict ? pyth_dict_get(dict, want, n, PYTH_ATTRS) : pyth_values_get(values, keys, want, n);
}

/* The int at o as a thread id (0 < it < 2^31), or 0. */
static int32_t pyth_tid(uintptr_t o)
{
    uint64_t w[4];
    if (!pyrd_pg_peek8(w, o, sizeof w) || w[1] != pylay_sym.long_type)
        return 0;
    uint64_t nd, neg;
    if (pyth.v < 0x030c0000u) /* ob_size: the digits' count, signed */
        nd = (int64_t)w[2] < 0 ? (uint64_t)-(int64_t)w[2] : w[2], neg = (int64_t)w[2] < 0;
    else /* lv_tag: digits << 3 | sign (0 positive, 1 zero, 2 negative) */
        nd = w[2] >> 3, neg = (w[2] & 3) != 0;
    if (neg || nd < 1 || nd > 2)
        return 0;
    uint64_t v = (uint32_t)w[3] & 0x3fffffffu;
    if (nd == 2)
        v |= (uint64_t)((uint32_t)(w[3] >> 32) & 0x3fffffffu) << 30;
    return v && v < 0x7fffffffu ? (int32_t)v : 0;
}

/* Each Thread of the dict _active at active named to its record. */
static void pyth_active(uintptr_t active)
{
    uintptr_t dict[6];
    if (!active || !pyrd_pg_peek8(dict, active, sizeof dict) || dict[1] != pylay_sym.dict_type ||
        !dict[4] || dict[5]) /* keyed by ints: never split */
        return;
    for (uint64_t i = 0, e = pyth_nentries(dict[4], PYTH_THREADS); i < e; i++) {
        uintptr_t th = 0;
        char name[HSNAP_THREAD_NAME];
        int32_t tid = pyg_roots_keys_entry(dict[4], i, &th) && th
                          ? pyth_tid(pyth_attr(th, "_native_id", 10))
                          : 0;
        /* cut as the kernel's comm is, at a character's end */
        uint32_t len = tid ? pyfr_str_peek(pyth_attr(th, "_name", 5), name, sizeof name - 1) : 0;
        if (len)
            athr_py_name(tid, name, len);
    }
}

void py_thread_names(void)
{
    if (!pylay_lay || !pylay_sym.interp_main || !pylay_sym.long_type || !pylay_sym.module_type ||
        !(pyth.ol = pylay_obj_layout_find(pylay_lay->version)))
        return;
    pyth.v = pylay_lay->version;
    void *interp = pylay_sym.interp_main();
    if (!interp)
        return;
    int nested = pyrd_pg_is_open(); /* the exit snapshot's pass: its copies kept */
    if (!nested)
        pyrd_pg_open();
    uintptr_t mods = pyth_word((uintptr_t)interp + pyth.ol->interp_modules);
    uintptr_t mod = mods ? pyth_dict_get(mods, "threading", 9, PYTH_MODULES) : 0;
    if (mod && pyth_word(mod + 8) == pylay_sym.module_type) /* md_dict's _active */
        pyth_active(pyth_dict_get(pyth_word(mod + 16), "_active", 7, PYTH_MODULES));
    if (!nested)
        pyrd_pg_close();
}
