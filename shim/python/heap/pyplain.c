/*
 * pyplain.c - which words of a Python object hold a number, never a
 * reference, for the graph's conservative scan (pyg_scan):
 * a word that happens to fall inside a native block would be taken for a
 * reference to it, and the block charged to no one (top --retained).  A
 * heap type's tp_flags, a dict's version tag, a set's hash of an int (an
 * id(), an address), an IntFlag's digits were seen to.  The offsets are
 * the same from 3.10 to 3.13.  Pure functions of a type's kind and flags;
 * within the Python room only.
 */
#include "pylayout.h"
#include "pyheap.h"

/* ob_refcnt, ob_size; a type's basic and item sizes, vectorcall offset,
 * flags, weaklist and dict offsets, version tag; a dict's ma_used and
 * version; a list's allocated; a set's fill, used, mask, hash, finger and
 * its small table's hashes (its entries from word 8: key, hash). */
uint64_t pyh_plain_words(unsigned kind, uint64_t flags)
{
    uint64_t m = 1; /* ob_refcnt */
    if (flags & PY_TPF_TYPE_SUBCLASS)
        return m | 1u << 2 | 1u << 4 | 1u << 5 | 1u << 7 | 1u << (PY_TP_FLAGS / 8) | 1ull << 26 |
               1ull << (PY_TP_DICTOFFSET / 8) | 1ull << 48;
    if (kind == PYG_DICT)
        return m | 1u << 2 | 1u << 3;
    if (kind == PYG_LIST)
        return m | 1u << 2 | 1u << 4;
    if (kind == PYG_SET)
        return m | 0x00aaaa00ull | 1u << 2 | 1u << 3 | 1u << 4 | 1u << 6 | 1u << 7;
    return m;
}

int pyh_plain_inline(uint64_t flags)
{
    return (flags & (PY_TPF_LONG_SUBCLASS | PY_TPF_BYTES_SUBCLASS)) != 0;
}

/* An instance of a class derived from int or bytes (an IntEnum's member,
 * an IntFlag's): the digits, or the hash and the bytes, inline after its
 * head; its other words (its __dict__ after them) are references. */
void pyh_plain_inline_span(uint64_t flags, uint64_t size, uint64_t max, uint64_t *lo,
                          uint64_t *hi)
{
    if (flags & PY_TPF_BYTES_SUBCLASS) { /* ob_shash, ob_sval[ob_size + 1] */
        *lo = 24, *hi = 33 + (size < max ? size : max);
        return;
    }
    /* 3.12 on: lv_tag, the digits' count << 3; before: +-ob_size */
    uint64_t n = pylay_lay->version >= 0x030c0000u ? size >> 3
                 : (int64_t)size < 0               ? (uint64_t) - (int64_t)size
                                                   : size;
    *lo = 24, *hi = 24 + 4 * (n < max ? n : max);
}
