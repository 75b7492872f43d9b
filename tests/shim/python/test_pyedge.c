// link: shim/python/pyedge.c shim/base/arena.c shim/base/lock.c
/*
 * test_pyedge.c - the graph's 16-byte edges (pyedge.h, pyedge.c): a
 * reference's label, rank and value come back from its packed word at
 * the limits of each field, a value past the largest is kept as the
 * largest (not wrapped into the rank or the label), the keys' slots
 * give the keys back (the same key in a row takes the same slot, 0
 * none), a million edges grow the store with every one kept, and
 * pye_sort puts them by source, then rank, each rank's in the order
 * added, every edge once (pye_src finds its source again).
 */
#include <string.h>

#include "hsnap_pyformat.h"
#include "python/pyedge.h"
#include "unit.h"

/* The arena's out-of-memory path calls this; the tests never run out. */
void degrade_now(const char *why) { printf("degrade: %s\n", why); }

TEST_BEGIN(an_edge_is_sixteen_bytes)
    expect_true(sizeof(struct pyg_edge) == 16, "sizeof(struct pyg_edge) == 16");
TEST_END

TEST_BEGIN(label_rank_and_value_come_back_at_their_limits)
    static const uint32_t labels[] = {HSNAP_PYLABEL_OTHER, HSNAP_PYLABEL_FIELD,
                                      HSNAP_PYLABEL_INDEX, HSNAP_PYLABEL_KEY,
                                      HSNAP_PYLABEL_ATTR, HSNAP_PYLABEL_DICT, 15};
    static const uint64_t values[] = {0, 1, 8, 4095, (1u << 23) - 1, PYE_VALUE_MAX - 1,
                                      PYE_VALUE_MAX};
    for (unsigned l = 0; l < sizeof labels / sizeof *labels; l++)
        for (uint32_t r = 0; r < 4; r++)
            for (unsigned v = 0; v < sizeof values / sizeof *values; v++) {
                uint32_t h = pye_how(labels[l], r, values[v]);
                expect_true(pye_label(h) == labels[l], "pye_label(h) == labels[l]");
                expect_true(pye_rank(h) == r, "pye_rank(h) == r");
                expect_true(pye_value(h) == values[v], "pye_value(h) == values[v]");
            }
TEST_END

TEST_BEGIN(a_value_of_a_whole_read_fits)
    /* pygraph.c reads 64 MiB of a block at most: its byte offsets */
    expect_true(PYE_VALUE_MAX == (64u << 20) - 1, "PYE_VALUE_MAX == (64u << 20) - 1");
TEST_END

TEST_BEGIN(a_value_past_the_largest_is_kept_as_the_largest)
    uint32_t h = pye_how(HSNAP_PYLABEL_INDEX, 2, (uint64_t)PYE_VALUE_MAX + 1);
    expect_true(pye_label(h) == HSNAP_PYLABEL_INDEX, "pye_label(h) == HSNAP_PYLABEL_INDEX");
    expect_true(pye_rank(h) == 2, "pye_rank(h) == 2");
    expect_true(pye_value(h) == PYE_VALUE_MAX, "pye_value(h) == PYE_VALUE_MAX");
    h = pye_how(HSNAP_PYLABEL_FIELD, 1, UINT64_MAX);
    expect_true(pye_label(h) == HSNAP_PYLABEL_FIELD && pye_rank(h) == 1, "pye_label(h) == HSNAP_PYLABEL_FIELD && pye_rank(h) == 1");
    expect_true(pye_value(h) == PYE_VALUE_MAX, "pye_value(h) == PYE_VALUE_MAX");
TEST_END

TEST_BEGIN(keys_come_back_from_their_slots)
    uint32_t a, b, c, z;
    pye_free();
    expect_true(pye_key_slot(0, &z) == 0 && z == 0, "pye_key_slot(0, &z) == 0 && z == 0");
    expect_true(pye_key(0) == 0, "pye_key(0) == 0");
    expect_true(pye_key_slot(0x7f0000001001ull, &a) == 0 && a != 0, "pye_key_slot(0x7f0000001001ull, &a) == 0 && a != 0");
    expect_true(pye_key_slot(0x7f0000001001ull, &b) == 0 && b == a, "pye_key_slot(0x7f0000001001ull, &b) == 0 && b == a"); /* a run of one keys object */
    expect_true(pye_key_slot(0x55550000a0f0ull, &c) == 0 && c != a, "pye_key_slot(0x55550000a0f0ull, &c) == 0 && c != a");
    expect_true(pye_key(a) == 0x7f0000001001ull, "pye_key(a) == 0x7f0000001001ull");
    expect_true(pye_key(c) == 0x55550000a0f0ull, "pye_key(c) == 0x55550000a0f0ull");
    expect_true(pye_key(c + 1) == 0, "pye_key(c + 1) == 0"); /* past the last */
    pye_free();
TEST_END

TEST_BEGIN(a_million_edges_are_kept_in_order)
    pye_free();
    for (uint32_t i = 0; i < 1000000; i++) {
        uint32_t slot;
        expect_true(pye_key_slot(i % 3 ? 0 : ((uint64_t)i << 4) | 1, &slot) == 0, "pye_key_slot(i %% 3 ? 0 : ((uint64_t)i << 4) | 1, &slot) == 0");
        expect_true(pye_add(i, ~i, pye_how(i % 7, i % 3, i), slot) == 0, "pye_add(i, ~i, pye_how(i %% 7, i %% 3, i), slot) == 0");
    }
    uint64_t n = pye_count();
    expect_true(n == 1000000, "n == 1000000");
    int bad = 0;
    for (uint32_t i = 0; i < n && !bad; i++) {
        struct pyg_edge e = pye_edge(i);
        bad = e.src != i || e.dst != ~i || pye_label(e.how) != i % 7 ||
              pye_rank(e.how) != i % 3 || pye_value(e.how) != i ||
              pye_key(e.key) != (i % 3 ? 0 : ((uint64_t)i << 4) | 1);
    }
    expect_true(!bad, "an edge differs from the one added");
    uint32_t third = pye_edge(3).key;
    pye_free_edges();
    expect_true(pye_count() == 0, "pye_count() == 0");
    expect_true(pye_key(third) == (3ull << 4 | 1), "the keys kept for the links");
    pye_free();
TEST_END

/* Edge k of 300,000: source (k * 7) % 1000, rank 2 - k % 3, its index
 * as its value (the order added) and as its target. */
TEST_BEGIN(sorted_by_source_then_rank_in_the_order_added)
    pye_free();
    enum { NE = 300000, NO = 1000 };
    for (uint32_t k = 0; k < NE; k++)
        expect_true(pye_add((k * 7) % NO, k, pye_how(HSNAP_PYLABEL_INDEX, 2 - k % 3, k), k % 5) == 0,
                    "pye_add");
    struct pye_csr c;
    expect_true(pye_sort(NO + 1, &c) == 0, "pye_sort == 0"); /* the last object has none */
    expect_true(c.nedge == NE && c.nobj == NO + 1, "c.nedge == NE && c.nobj == NO + 1");
    expect_true(c.start[0] == 0 && c.start[NO] == NE && c.start[NO + 1] == NE, "the starts' ends");
    int bad = 0;
    static uint8_t seen[NE];
    memset(seen, 0, sizeof seen);
    for (uint32_t v = 0; v <= NO && !bad; v++)
        for (uint32_t e = c.start[v]; e < c.start[v + 1] && !bad; e++) {
            uint32_t k = c.dst[e];
            bad = k >= NE || seen[k] || (k * 7) % NO != v || pye_value(c.how[e]) != k ||
                  c.key[e] != k % 5 || pye_src(&c, e) != v;
            if (!bad && e > c.start[v]) { /* rank, then the order added */
                uint32_t p = c.dst[e - 1];
                bad = pye_rank(c.how[e - 1]) > pye_rank(c.how[e]) ||
                      (pye_rank(c.how[e - 1]) == pye_rank(c.how[e]) && p >= k);
            }
            if (!bad)
                seen[k] = 1;
        }
    expect_true(!bad, "an edge out of its place");
    pye_free_targets();
    expect_true(c.start[NO] == NE, "the starts kept past the targets");
    pye_free();
TEST_END

int main(void)
{
    an_edge_is_sixteen_bytes();
    label_rank_and_value_come_back_at_their_limits();
    a_value_of_a_whole_read_fits();
    a_value_past_the_largest_is_kept_as_the_largest();
    keys_come_back_from_their_slots();
    a_million_edges_are_kept_in_order();
    sorted_by_source_then_rank_in_the_order_added();
    return 0;
}
