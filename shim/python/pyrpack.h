/*
 * pyrpack.h - the retained sizes' edges (pyretain.c) packed as they come:
 * a reference from block src to block dst is dst's difference from src,
 * zigzagged (the sign in the low bit) with a 0 bit below it, in 7-bit
 * groups (LEB128); a new source first, as its difference from the one
 * before with a 1 bit below.  The walk goes through the blocks in
 * address order and a block points near itself as a rule (its item
 * array, its values), so an edge takes a few bytes where a pair of
 * indices took 8.  The edges fill chunks of PYRP_CHUNK bytes, an edge
 * (with its new source) never split across two: a chunk ends at its
 * first 0 byte (no record starts with one: an edge's difference is never
 * 0, a source's record is odd) or at its end.  Read in the order put,
 * as often as needed.  Within the Python room only.
 */
#ifndef SHIM_PYRPACK_H
#define SHIM_PYRPACK_H

#include <stdint.h>

#include "pyvar.h"

#define PYRP_CHUNK (1u << 22) /* bytes a chunk (zeroed when mapped) */
#define PYRP_EDGE_MAX 12u     /* bytes an edge takes at most, with its source */

/* The edge src -> dst (src != dst) into b (PYRP_EDGE_MAX bytes free),
 * *last the source put before (0 at first, updated): the bytes taken. */
static inline uint32_t pyrp_put(uint8_t *b, uint32_t *last, uint32_t src, uint32_t dst)
{
    uint32_t n = 0;
    if (src != *last)
        n = pyvar_put(b, pyvar_zig((int64_t)src - *last) << 1 | 1);
    *last = src;
    return n + pyvar_put(b + n, pyvar_zig((int64_t)dst - src) << 1);
}

/* A reader over the chunks chunk[0, nchunk) (NULL: none more). */
struct pyrp_it {
    uint64_t c;
    uint32_t at, src;
};

/* The next edge into *src, *dst: 1, or 0 at the end. */
static inline int pyrp_next(uint8_t *const *chunk, uint64_t nchunk, struct pyrp_it *it,
                            uint32_t *src, uint32_t *dst)
{
    while (it->c < nchunk && chunk[it->c]) {
        const uint8_t *b = chunk[it->c];
        if (it->at >= PYRP_CHUNK || !b[it->at]) {
            it->c++, it->at = 0;
            continue;
        }
        uint64_t v;
        it->at += pyvar_get(b + it->at, &v);
        int64_t d = (int64_t)(v >> 2) ^ -(int64_t)((v >> 1) & 1);
        if (v & 1) {
            it->src = (uint32_t)((int64_t)it->src + d);
            continue;
        }
        *src = it->src;
        *dst = (uint32_t)((int64_t)it->src + d);
        return 1;
    }
    return 0;
}

#endif
