/*
 * pyvar.h - the variable-length integers the object graph packs its
 * arrays in (pyedge.c's edges, pyrpack.h's retained edges, pyowned.c's
 * owners, pyretain.c's queue): 7-bit groups, low first, the high bit set
 * on all but the last (LEB128), and zigzag for a signed difference (the
 * sign in the low bit).  Written here for the shim's own use: a handful
 * of lines, inlined into the snapshot's loops, with no library's state.
 * Within the Python room only.
 */
#ifndef SHIM_PYVAR_H
#define SHIM_PYVAR_H

#include <stdint.h>

#define PYVAR_MAX 10u /* bytes a 64-bit value takes at most */

/* v into b (PYVAR_MAX bytes free): the bytes taken. */
static inline uint32_t pyvar_put(uint8_t *b, uint64_t v)
{
    uint32_t n = 0;
    for (; v >= 0x80; v >>= 7)
        b[n++] = (uint8_t)(v | 0x80);
    b[n++] = (uint8_t)v;
    return n;
}

/* The value at b into *v: the bytes read (one, as a rule). */
static inline uint32_t pyvar_get(const uint8_t *b, uint64_t *v)
{
    uint64_t x = b[0];
    uint32_t n = 1;
    if (x & 0x80) {
        x &= 0x7f;
        for (unsigned s = 7;; s += 7) {
            uint64_t y = b[n++];
            x |= (y & 0x7f) << s;
            if (!(y & 0x80))
                break;
        }
    }
    *v = x;
    return n;
}

static inline uint64_t pyvar_zig(int64_t d)
{
    return ((uint64_t)d << 1) ^ (uint64_t)(d >> 63);
}

static inline int64_t pyvar_unzig(uint64_t z)
{
    return (int64_t)(z >> 1) ^ -(int64_t)(z & 1);
}

#endif
