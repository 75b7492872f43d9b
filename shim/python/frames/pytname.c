/*
 * pytname.c - a Python type's name and a str object's text, read at a
 * snapshot without running Python code: a builtin's tp_name
 * ("_io.TextIOWrapper"), a class's __module__ (found in its tp_dict) and
 * __qualname__ ("app.Node").  Nothing read is trusted (pytype.c's top
 * says why): every read goes through pyrd_pg_peek or peek (process_vm_readv,
 * which fails where a load would fault), and a name must be a short
 * printable string.  pyt_new_type calls it under the snapshot lock.  Prefix
 * pytn_.
 */
#include <string.h>

#include "pyreads.h"
#include "pyframes.h"
#include "peek.h"

#define PYTN_KEYS_MAX 512u /* entries of a class's dict looked at for __module__ */

static uintptr_t pytn_module_key; /* the interned "__module__", once found */

/* A snapshot's first name: "__module__" is looked for afresh (its str
 * may have died since the last). */
void pyfr_type_names_begin(void)
{
    pytn_module_key = 0;
}

/* The str object at s as UTF-8 into out (cap bytes), read safely; its
 * length, 0 when it is no compact str (or empty). */
static uint32_t pytn_str(uintptr_t s, char *out, uint32_t cap)
{
    const struct pylay_layout *l = pylay_lay;
    char copy[96 + 4 * PY_TYPE_NAME_MAX];
    size_t head = l->str_compact_data;
    if (!pyrd_pg_peek8(copy, s, head) || pyrd_pg_u64(copy, l->ob_type) != pylay_sym.str_type)
        return 0;
    uint32_t state;
    memcpy(&state, copy + l->str_state, sizeof state);
    unsigned kind = (state >> 2) & 7, ascii = (state >> 6) & 1;
    uint64_t len = pyrd_pg_u64(copy, l->str_length);
    size_t at = ascii ? l->str_ascii_data : l->str_compact_data;
    if (kind != 1 && kind != 2 && kind != 4)
        return 0;
    if (len > PY_TYPE_NAME_MAX)
        len = PY_TYPE_NAME_MAX;
    memcpy(copy + l->str_length, &len, sizeof len); /* pyfr_str reads no further */
    if (len && !pyrd_pg_peek(copy + at, s + at, len * kind))
        return 0;
    return pyfr_str(copy, out, cap);
}

uint32_t pyfr_str_peek(uintptr_t s, char *out, uint32_t cap)
{
    return pytn_str(s, out, cap);
}

/* Whether name[0..n) reads as a type's name (printable, no quotes). */
static int pytn_printable(const char *name, uint32_t n)
{
    for (uint32_t i = 0; i < n; i++)
        if ((unsigned char)name[i] < 0x20 || name[i] == 0x7f || name[i] == '"')
            return 0;
    return n > 0;
}

/* The value of "__module__" in the dict at d (a class's tp_dict), or 0. */
static uintptr_t pytn_module_of(const struct pylay_obj_layout *ol, uintptr_t d)
{
    char dict[48], keys[48], ent[24 * 32], name[16];
    if (!pyrd_pg_peek8(dict, d, sizeof dict) || pyrd_pg_u64(dict, 40) /* split: not a class's */ ||
        !pyrd_pg_peek8(keys, pyrd_pg_u64(dict, 32), sizeof keys))
        return 0;
    uintptr_t k = pyrd_pg_u64(dict, 32), at;
    uint64_t n;
    size_t esz = 24, kat = 8;
    if (ol->keys == PY_KEYS_310) {
        uint64_t size = pyrd_pg_u64(keys, 8);
        unsigned ib = size <= 0xff ? 1 : size <= 0xffff ? 2 : size <= 0xffffffffu ? 4 : 8;
        n = pyrd_pg_u64(keys, 32);
        at = k + 40 + size * ib;
        if (size > (1u << 24))
            return 0;
    } else {
        unsigned log2ib = (uint8_t)keys[9], kind = (uint8_t)keys[10];
        n = pyrd_pg_u64(keys, 24);
        at = k + 32 + ((uint64_t)1 << (log2ib & 31));
        if (kind != 0)
            esz = 16, kat = 0; /* PyDictUnicodeEntry: key, value */
    }
    if (n > PYTN_KEYS_MAX)
        n = PYTN_KEYS_MAX;
    for (uint64_t i = 0; i < n; i += 32) {
        size_t m = n - i < 32 ? n - i : 32;
        if (!pyrd_pg_peek8(ent, at + i * esz, m * esz))
            return 0;
        for (size_t j = 0; j < m; j++) {
            uintptr_t key = pyrd_pg_u64(ent, j * esz + kat);
            if (!key)
                continue;
            if (key != pytn_module_key &&
                (pytn_str(key, name, sizeof name) != 10 || memcmp(name, "__module__", 10)))
                continue;
            pytn_module_key = key;
            return pyrd_pg_u64(ent, j * esz + kat + 8);
        }
    }
    return 0;
}

uint32_t pyfr_type_name(const struct pylay_obj_layout *ol, uintptr_t t, const char *tb, uint64_t flags,
                      char *out)
{
    uint32_t n = 0;
    if (flags & PY_TPF_HEAPTYPE) {
        uintptr_t q;
        char mod[PY_TYPE_NAME_MAX];
        uint32_t m = 0;
        if (!pyrd_pg_peek8(&q, t + ol->ht_qualname, sizeof q) ||
            !(n = pytn_str(q, out, PY_TYPE_NAME_MAX)))
            return 0;
        uintptr_t mo = pytn_module_of(ol, pyrd_pg_u64(tb, PY_TP_DICT));
        if (mo)
            m = pytn_str(mo, mod, sizeof mod);
        if (m && !(m == 8 && !memcmp(mod, "builtins", 8)) && m + 1 + n <= PY_TYPE_NAME_MAX) {
            memmove(out + m + 1, out, n);
            memcpy(out, mod, m);
            out[m] = '.';
            n += m + 1;
        }
        return pytn_printable(out, n) ? n : 0;
    }
    char s[PY_TYPE_NAME_MAX];
    uintptr_t p = pyrd_pg_u64(tb, PY_TP_NAME);
    if (!p || !peek(s, p, 8))
        return 0;
    /* read on while the name goes on, a page at a time stops short of it */
    for (size_t k = 8; k < PY_TYPE_NAME_MAX && !memchr(s, 0, k); k += 8)
        if (!peek(s + k, p + k, 8))
            return 0;
    const char *z = memchr(s, 0, PY_TYPE_NAME_MAX);
    n = z ? (uint32_t)(z - s) : 0;
    memcpy(out, s, n);
    return pytn_printable(out, n) ? n : 0;
}
