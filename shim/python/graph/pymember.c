/*
 * pymember.c - what a field of an object is called (pyg_member_name): the
 * name a Python developer reads it by, at an offset of an object of a
 * type, for the links of the graph's paths ("Node.__mro__", "f.__code__",
 * "x.__class__").  A type's PyMemberDef table names most, up its bases;
 * a class's own fields, the fields only a getset names (a function's,
 * a classmethod's) and a few C types' unnamed ones (lru_cache's, an ABC's)
 * are known by their places, 3.10-3.13 on 64 bits.
 * Every read is a bounded copy (peek.h).
 */
#include <string.h>

#include "pylayout.h"
#include "pyreads.h"
#include "pygraph.h"
#include "peek.h"

static int pymem_peek(void *dst, uintptr_t src, size_t n)
{
    return src >= 4096 && pyrd_pg_peek(dst, src, n);
}

static uintptr_t pymem_word(uintptr_t at)
{
    uintptr_t v = 0;
    return pymem_peek(&v, at, sizeof v) ? v : 0;
}

/* A class's own fields that no member of type names on every version
 * (3.12 made __mro__ a getset; __bases__, a class's subclasses, its
 * heap type's name and slots were never members): the name a Python
 * developer reads them by, at off of a type (or a metaclass's instance);
 * 0 when none.  PyTypeObject's places (3.10-3.13, 64-bit); a heap type's
 * from its __qualname__'s (ht_name, ht_slots before it, ht_module after
 * ht_cached_keys). */
static uint32_t pymem_type_field(uint64_t off, char *out, uint32_t cap)
{
    static const struct {
        int16_t off; /* from PyTypeObject's start, or (< 0) from ht_qualname */
        const char *name;
    } f[] = {{256, "__base__"}, {264, "__dict__"}, {336, "__bases__"}, {344, "__mro__"},
             {360, "__subclasses__()"}, {-16, "__name__"}, {-8, "__slots__"},
             {0, "__qualname__"}, {16, "__module__"}};
    const struct pylay_obj_layout *ol = pylay_lay ? pylay_obj_layout_find(pylay_lay->version) : NULL;
    uint64_t q = ol ? ol->ht_qualname : 0;
    for (unsigned i = 0; i < sizeof f / sizeof *f; i++) {
        int heap = f[i].off <= 16 && i >= 5;
        if (heap ? !q || off != q + (uint64_t)(int64_t)f[i].off : off != (uint64_t)f[i].off)
            continue;
        uint32_t n = (uint32_t)strlen(f[i].name);
        if (n >= cap)
            return 0;
        memcpy(out, f[i].name, n);
        return n;
    }
    return 0;
}

static uint32_t pymem_member_at(uintptr_t t, uint64_t off, char *out, uint32_t cap);

/* A field no member names but a getset does, told by a member the type
 * has (3.10-3.13 share these places): a function's (its __closure__ at
 * 72) __name__, __qualname__, __code__, __dict__, __annotations__; a
 * classmethod's or staticmethod's (its __func__ at 16) __dict__. */
static uint32_t pymem_getset_field(uintptr_t t, uint64_t off, char *out, uint32_t cap)
{
    static const struct {
        uint16_t at;
        const char *member, *field;
        uint16_t off;
    } f[] = {{72, "__closure__", "__name__", 32},     {72, "__closure__", "__qualname__", 40},
             {72, "__closure__", "__code__", 48},     {72, "__closure__", "__dict__", 88},
             {72, "__closure__", "__annotations__", 112}, {16, "__func__", "__dict__", 24}};
    char c[16];
    for (unsigned i = 0; i < sizeof f / sizeof *f; i++) {
        uint32_t n = (uint32_t)strlen(f[i].member), k = (uint32_t)strlen(f[i].field);
        if (off != f[i].off || k >= cap || pymem_member_at(t, f[i].at, c, sizeof c) != n ||
            memcmp(c, f[i].member, n))
            continue;
        memcpy(out, f[i].field, k);
        return k;
    }
    return 0;
}

/* The fields of the standard library's C types that neither a member
 * nor a getset names, by the type's tp_name (they are heap types from
 * 3.12 on, with no symbol to know them by): lru_cache's cache dict, its
 * wrapped function and a bounded cache's list entries, and an ABC's three
 * weak sets.  The names are the C struct's fields, as _abc._get_dump and
 * functools.py's pure-Python lru_cache call them; the places are
 * 3.10-3.13's (64-bit), pinned by python_paths_name_c_fields_and_int_keys. */
static uint32_t pymem_ctype_field(uintptr_t t, uint64_t off, char *out, uint32_t cap)
{
    static const struct {
        const char *type, *field;
        uint16_t off;
    } f[] = {{"functools._lru_cache_wrapper", "cache", 72},
             {"functools._lru_cache_wrapper", "__wrapped__", 88},
             {"functools._lru_list_elem", "key", 40},
             {"functools._lru_list_elem", "result", 48},
             {"_abc._abc_data", "_abc_registry", 16},
             {"_abc._abc_data", "_abc_cache", 24},
             {"_abc._abc_data", "_abc_negative_cache", 32}};
    char name[32];
    uintptr_t at = pymem_word(t + PY_TP_NAME);
    uint32_t n = 0;
    while (at && n + 1 < sizeof name && pymem_peek(name + n, at + n, 1) && name[n])
        n++;
    name[n] = 0;
    for (unsigned i = 0; n && i < sizeof f / sizeof *f; i++) {
        uint32_t k = (uint32_t)strlen(f[i].field);
        if (off != f[i].off || k >= cap || strcmp(name, f[i].type))
            continue;
        memcpy(out, f[i].field, k);
        return k;
    }
    return 0;
}

uint32_t pyg_member_name(uintptr_t t, uint64_t off, char *out, uint32_t cap)
{
    if (off == 8 && cap > 9) { /* ob_type: a heap type's instance holds its class */
        memcpy(out, "__class__", 9);
        return 9;
    }
    uint32_t n = pymem_member_at(t, off, out, cap);
    if (!n)
        n = pymem_getset_field(t, off, out, cap);
    return n ? n : pymem_ctype_field(t, off, out, cap);
}

static uint32_t pymem_member_at(uintptr_t t, uint64_t off, char *out, uint32_t cap)
{
    uintptr_t m[5 * 8];
    for (int depth = 0; t && depth < 16; depth++, t = pymem_word(t + PY_TP_BASE)) {
        if (t == pylay_sym.type_type) /* a class: its fields by their Python names */
            return pymem_type_field(off, out, cap);
        uintptr_t at = pymem_word(t + PY_TP_MEMBERS);
        /* PyMemberDef: name, type (int), offset, flags (int), doc */
        for (unsigned k = 0; at && k < 32; k++, at += sizeof m) {
            if (!pymem_peek(m, at, sizeof m))
                break;
            for (unsigned j = 0; j < 8; j++) {
                if (!m[5 * j])
                    goto next_type;
                if (m[5 * j + 2] != off)
                    continue;
                uint32_t n = 0;
                while (n + 1 < cap && pymem_peek(out + n, m[5 * j] + n, 1) && out[n])
                    n++;
                return n;
            }
        }
    next_type:;
    }
    return 0;
}
