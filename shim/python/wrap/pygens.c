/*
 * pygens.c - where the cycle collector's generation lists are in the
 * interpreter's state: found and verified, never computed from another
 * field.  A point release moved them (CPython 3.13.5 declares PyGC_Head
 * 4-aligned, which puts the generations at gc+20 where 3.13.0 has gc+24),
 * and a walk started at a wrong head loads through a word that is no
 * pointer: the host dies.  What 3.10-3.13 keep, in order: the array of
 * three gc_generation (a head and two ints: 24 bytes), generation0 (a
 * pointer to the first head, a little way back into the same state), and
 * the permanent generation.  A candidate counts only when all four heads
 * are the circular lists the collector keeps; every read is a peek, as
 * nothing here is trusted yet.  test_pygens runs it on
 * both layouts; layout_check.c checks the order against each version's
 * headers.  3.14 moved generation0 past gc.collecting: from there the
 * row names the generations' place, and pyw_gens_at verifies the four
 * heads there alike.
 */
#include <stdint.h>

#include "pywrap.h"
#include "peek.h"

#define PYGENS_SEARCH 256u /* the generations lie this close before gc.collecting */

/* A collector's list head at h: its next node's prev is h and its prev
 * node's next is h, or both are h itself (an empty list); the low two
 * bits of each link are flags.  Read with peek: h is not trusted yet. */
static int pygens_head_ok(uintptr_t h)
{
    uintptr_t w[2], n[2], p[2], next, prev;
    if (!peek(w, h, sizeof w))
        return 0;
    next = w[0] & ~(uintptr_t)3, prev = w[1] & ~(uintptr_t)3;
    if (next == h || prev == h)
        return next == h && prev == h;
    return !(next & 7) && !(prev & 7) && peek(n, next, sizeof n) && (n[1] & ~(uintptr_t)3) == h &&
           peek(p, prev, sizeof p) && (p[0] & ~(uintptr_t)3) == h;
}

int pyw_gens_at(uintptr_t interp, uint32_t gens, uintptr_t heads[4])
{
    uintptr_t g = interp + gens;
    if (!gens || (g & 7))
        return -1;
    for (int i = 0; i < 4; i++)
        if (!pygens_head_ok(heads[i] = g + 24 * (uintptr_t)i))
            return -1;
    return 0;
}

/* Candidates from the nearest to gc.collecting back; the first whose
 * four heads verify wins.  0, or -1: not found (the walk does not run). */
int pyw_gens_find(uintptr_t interp, uint32_t collecting, uintptr_t heads[4])
{
    uintptr_t lo = interp + collecting - PYGENS_SEARCH, at = interp + collecting;
    if (collecting < PYGENS_SEARCH)
        return -1;
    for (uintptr_t o = (at - 8) & ~(uintptr_t)7; o >= lo + 72; o -= 8) {
        uintptr_t v;
        if (!peek(&v, o, sizeof v) || v < lo || v + 72 > o || v + 80 <= o)
            continue;
        heads[0] = v, heads[1] = v + 24, heads[2] = v + 48, heads[3] = o + 8;
        if (pygens_head_ok(heads[0]) && pygens_head_ok(heads[1]) && pygens_head_ok(heads[2]) &&
            pygens_head_ok(heads[3]))
            return 0;
    }
    return -1;
}
