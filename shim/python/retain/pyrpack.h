/*
 * pyrpack.h - the retained sizes' edges (pyretain.c) packed as they come,
 * each target as its difference from a guess, zigzagged (the sign in the
 * low bit), in 7-bit groups (LEB128), with two bits below it: 0, and
 * whether its source is the one after the source before; any other new
 * source first, as its difference from the one before with a 1 bit
 * below.  The
 * guess for a source's k-th edge is the k-th target of the source before
 * (for its first PYRP_PREV), else its own edge before, else the source:
 * the walk goes through the blocks in address order, where runs of one
 * kind (a pool of instances, each with its values array and its class;
 * a pool of lists, each with its item array) point the same way, and a
 * list's item array holds its items in address order as a rule, so most
 * edges take one byte (WebGraph's reference lists, in small).  The edges
 * fill chunks of PYRP_CHUNK bytes, an edge (with its new source) never
 * split across two, each chunk's first 4 bytes the bytes it uses.  Read
 * in the order put, from the first, as often as needed.  Within the
 * Python room only.
 */
#ifndef SHIM_PYRPACK_H
#define SHIM_PYRPACK_H

#include <stdint.h>
#include <string.h>

#include "pyvar.h"

#define PYRP_CHUNK (1u << 22) /* bytes a chunk */
#define PYRP_HEAD 4u          /* a chunk's bytes used, first */
#define PYRP_EDGE_MAX 12u     /* bytes an edge takes at most, with its source */
#define PYRP_PREV 8u          /* targets of the source before that guess */

/* The state that both the writer and a reader keep: the source now, its
 * targets so far (the first PYRP_PREV in t[cur]) and the last, the
 * source before's first ones (t[!cur], nprev of them). */
struct pyrp_st {
    uint32_t src, k, nprev, last, cur;
    uint32_t t[2][PYRP_PREV];
};

/* The guess for the current source's next target. */
static inline uint32_t pyrp_guess(const struct pyrp_st *s)
{
    return s->k < s->nprev ? s->t[!s->cur][s->k] : s->k ? s->last : s->src;
}

/* A new source src. */
static inline void pyrp_source(struct pyrp_st *s, uint32_t src)
{
    s->nprev = s->k < PYRP_PREV ? s->k : PYRP_PREV;
    s->cur ^= 1, s->k = 0, s->src = src;
}

/* Target dst taken by the current source. */
static inline void pyrp_target(struct pyrp_st *s, uint32_t dst)
{
    if (s->k < PYRP_PREV)
        s->t[s->cur][s->k] = dst;
    s->k++, s->last = dst;
}

/* The edge src -> dst into b (PYRP_EDGE_MAX bytes free), s the writer's
 * state ({0} at first): the bytes taken.  An edge's low bits: 00 the
 * current source's, 10 the next source's (the one after it, as a rule
 * in the walk's order); x1, a new source record first. */
static inline uint32_t pyrp_put(uint8_t *b, struct pyrp_st *s, uint32_t src, uint32_t dst)
{
    uint32_t n = 0, next = 0;
    if (src != s->src && src == s->src + 1) {
        next = 2;
        pyrp_source(s, src);
    } else if (src != s->src) {
        n = pyvar_put(b, pyvar_zig((int64_t)src - s->src) << 1 | 1);
        pyrp_source(s, src);
    }
    n += pyvar_put(b + n, pyvar_zig((int64_t)dst - pyrp_guess(s)) << 2 | next);
    pyrp_target(s, dst);
    return n;
}

/* A reader over the chunks chunk[0, nchunk) (NULL: none more), from {0}:
 * at 0 until a chunk is entered, end its bytes used. */
struct pyrp_it {
    uint64_t c;
    uint32_t at, end;
    struct pyrp_st s;
};

/* The next edge into *src, *dst: 1, or 0 at the end. */
static inline __attribute__((always_inline)) int pyrp_next(uint8_t *const *chunk, uint64_t nchunk, struct pyrp_it *it,
                            uint32_t *src, uint32_t *dst)
{
    for (;;) {
        while (!it->at || it->at >= it->end) {
            if (it->at)
                it->c++, it->at = 0;
            if (it->c >= nchunk || !chunk[it->c])
                return 0;
            memcpy(&it->end, chunk[it->c], sizeof it->end);
            it->at = PYRP_HEAD;
        }
        uint64_t v;
        it->at += pyvar_get(chunk[it->c] + it->at, &v);
        if (v & 1) {
            pyrp_source(&it->s, (uint32_t)((int64_t)it->s.src + pyvar_unzig(v >> 1)));
            continue;
        }
        if (v & 2)
            pyrp_source(&it->s, it->s.src + 1);
        *src = it->s.src;
        *dst = (uint32_t)((int64_t)pyrp_guess(&it->s) + pyvar_unzig(v >> 2));
        pyrp_target(&it->s, *dst);
        return 1;
    }
}

#endif
