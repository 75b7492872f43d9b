// link: shim/python/wrap/pygens.c shim/base/peek.c
/*
 * test_pygens.c - pyw_gens_find on synthetic collector states: the
 * generations at gc+24 (CPython 3.10-3.13.0) and at gc+20 (3.13.5, whose
 * PyGC_Head is 4-aligned), with objects on some lists and others empty;
 * a word that points back into the state but heads no list is passed
 * over; a state with no generation0 at all, and one whose lists are
 * broken, give -1 (the walk does not run) instead of a guess; pyw_gens_at
 * (3.14 on) takes the row's place and verifies it the same way.
 */
#include <stdint.h>
#include <string.h>
#include <sys/mman.h>

#include "pywrap.h"
#include "unit.h"

#define GC 256u                /* the gc state in the interpreter's state */
#define COLLECTING (GC + 200u) /* gc.collecting, as 3.10-3.13 place it */

struct fake {
    uint8_t *interp;  /* the interpreter's state; its gc state at GC */
    uintptr_t *nodes; /* PyGC_Heads of a few objects */
};

static void put(uint8_t *at, uintptr_t v)
{
    memcpy(at, &v, sizeof v);
}

/* An empty head at h, or one holding n objects from nodes (flags set on
 * their prev links, as the collector's). */
static void head(uintptr_t h, uintptr_t *nodes, unsigned n)
{
    if (!n) {
        put((uint8_t *)h, h), put((uint8_t *)h + 8, h);
        return;
    }
    uintptr_t prev = h;
    for (unsigned i = 0; i < n; i++) {
        uintptr_t g = (uintptr_t)&nodes[2 * i];
        put((uint8_t *)prev, g); /* prev's next */
        nodes[2 * i + 1] = prev | 2;
        prev = g;
    }
    put((uint8_t *)prev, h);
    put((uint8_t *)h + 8, prev);
}

/* A state with the generations at gens (20 or 24); its generation0 at
 * the next 8-aligned word past them, the permanent one after it. */
static struct fake make(unsigned gens)
{
    struct fake f;
    f.interp = mmap(NULL, 8192, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
    f.nodes = (uintptr_t *)(f.interp + 4096);
    uintptr_t b = (uintptr_t)f.interp + GC, g0 = (gens + 72 + 7) & ~7u;
    head(b + gens, f.nodes, 3);
    head(b + gens + 24, NULL, 0);
    head(b + gens + 48, f.nodes + 6, 2);
    put((uint8_t *)b + g0, b + gens);
    head(b + g0 + 8, NULL, 0);
    return f;
}

TEST_BEGIN(gens_found_at_gc_24_as_3_13_0)
{
    struct fake f = make(24);
    uintptr_t h[4], b = (uintptr_t)f.interp, g = b + GC;
    expect_eq_u64(pyw_gens_find(b, COLLECTING, h), 0);
    expect_eq_u64(h[0] - g, 24);
    expect_eq_u64(h[2] - g, 72);
    expect_eq_u64(h[3] - g, 104);
}
TEST_END

TEST_BEGIN(gens_found_at_gc_20_as_3_13_5)
{
    struct fake f = make(20);
    uintptr_t h[4], b = (uintptr_t)f.interp, g = b + GC;
    expect_eq_u64(pyw_gens_find(b, COLLECTING, h), 0);
    expect_eq_u64(h[0] - g, 20);
    expect_eq_u64(h[1] - g, 44);
    expect_eq_u64(h[3] - g, 104);
}
TEST_END

TEST_BEGIN(gens_a_word_pointing_back_that_heads_no_list_passed_over)
{
    struct fake f = make(20);
    uintptr_t h[4], b = (uintptr_t)f.interp, g = b + GC;
    put((uint8_t *)g + 176, g + 100); /* 76 bytes back, as generation0 would be */
    expect_eq_u64(pyw_gens_find(b, COLLECTING, h), 0);
    expect_eq_u64(h[0] - g, 20);
}
TEST_END

/* 3.14 on: the generations where the row says, the permanent one right
 * after them (generation0 past gc.collecting, not read). */
TEST_BEGIN(gens_at_the_rows_place_as_3_14)
{
    struct fake f = make(24);
    uintptr_t h[4], b = (uintptr_t)f.interp, g = b + GC;
    head(g + 24 + 72, NULL, 0); /* the permanent generation after the three */
    expect_eq_u64(pyw_gens_at(b, GC + 24, h), 0);
    expect_eq_u64(h[0] - g, 24);
    expect_eq_u64(h[3] - g, 24 + 72);
    expect_eq_u64(pyw_gens_at(b, GC + 20, h), (uint64_t)-1); /* not 8-aligned */
    expect_eq_u64(pyw_gens_at(b, GC + 32, h), (uint64_t)-1); /* no heads there */
    expect_eq_u64(pyw_gens_at(b, 0, h), (uint64_t)-1);
}
TEST_END

TEST_BEGIN(gens_no_generation0_not_found)
{
    struct fake f = make(24);
    uintptr_t h[4], b = (uintptr_t)f.interp, g = b + GC;
    put((uint8_t *)g + 96, 0x6b6b6b6b6b6b6b6bull); /* no pointer */
    expect_eq_u64(pyw_gens_find(b, COLLECTING, h), (uint64_t)-1);
}
TEST_END

TEST_BEGIN(gens_a_broken_list_not_found)
{
    struct fake f = make(24);
    uintptr_t h[4], b = (uintptr_t)f.interp, g = b + GC;
    f.nodes[1] = 0x1000; /* the first object's prev: not its head */
    expect_eq_u64(pyw_gens_find(b, COLLECTING, h), (uint64_t)-1);
    f.nodes[1] = (g + 24) | 2;
    put((uint8_t *)g + 48, 0xdead0000); /* the second head's next: unmapped */
    expect_eq_u64(pyw_gens_find(b, COLLECTING, h), (uint64_t)-1);
}
TEST_END

int main(void)
{
    gens_found_at_gc_24_as_3_13_0();
    gens_found_at_gc_20_as_3_13_5();
    gens_a_word_pointing_back_that_heads_no_list_passed_over();
    gens_no_generation0_not_found();
    gens_a_broken_list_not_found();
    gens_at_the_rows_place_as_3_14();
    return 0;
}
