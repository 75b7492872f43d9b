// link: shim/python/graph/pyedge.c shim/base/arena.c shim/base/lock.c shim/python/reads/pyarray.c
/*
 * test_pyedge.c - the graph's 16-byte edges (pyedge.h, pyedge.c): a
 * reference's label, rank and value come back from its packed word at
 * the limits of each field, a value past the largest is kept as the
 * largest (not wrapped into the rank or the label), the keys' slots
 * give the keys back (the same key in a row takes the same slot, 0
 * none), a million edges flushed a batch at a time are packed with
 * every one kept, and a batch is put by source, then rank, each rank's
 * in the order added, every edge once (pye_src finds its source again).
 */
#include <string.h>

#include "hsnap_pyformat.h"
#include "pyedge.h"
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
    pyg_edge_free();
    expect_true(pyg_edge_key_slot(0, &z) == 0 && z == 0, "pyg_edge_key_slot(0, &z) == 0 && z == 0");
    expect_true(pyg_edge_key(0) == 0, "pyg_edge_key(0) == 0");
    expect_true(pyg_edge_key_slot(0x7f0000001001ull, &a) == 0 && a != 0, "pyg_edge_key_slot(0x7f0000001001ull, &a) == 0 && a != 0");
    expect_true(pyg_edge_key_slot(0x7f0000001001ull, &b) == 0 && b == a, "pyg_edge_key_slot(0x7f0000001001ull, &b) == 0 && b == a"); /* a run of one keys object */
    expect_true(pyg_edge_key_slot(0x55550000a0f0ull, &c) == 0 && c != a, "pyg_edge_key_slot(0x55550000a0f0ull, &c) == 0 && c != a");
    expect_true(pyg_edge_key(a) == 0x7f0000001001ull, "pyg_edge_key(a) == 0x7f0000001001ull");
    expect_true(pyg_edge_key(c) == 0x55550000a0f0ull, "pyg_edge_key(c) == 0x55550000a0f0ull");
    expect_true(pyg_edge_key(c + 1) == 0, "pyg_edge_key(c + 1) == 0"); /* past the last */
    pyg_edge_free();
TEST_END

/* The edges of object v in c: each one's target, how and slot into the
 * arrays (n at most), their places into at; the count. */
static uint32_t edges_of(const struct pye_csr *c, uint32_t v, uint32_t *dst, uint32_t *how,
                         uint32_t *key, uint32_t *at, uint32_t n)
{
    uint32_t k = 0;
    for (uint32_t e = pye_start(c, v), end = e + pye_len(c, v); e < end && k < n; k++) {
        at[k] = e;
        dst[k] = pye_next(c, &e, v, &how[k], &key[k]);
    }
    return k;
}

/* Object i's one edge, to ~i (as far as a target can be), flushed a
 * batch of 4,096 sources at a time. */
TEST_BEGIN(a_million_edges_are_kept_in_order)
    pyg_edge_free();
    enum { NO = 1000000 };
    expect_true(pyg_edge_begin(NO + 1) == 0, "pyg_edge_begin");
    for (uint32_t i = 0; i < NO; i++) {
        uint32_t slot;
        expect_true(pyg_edge_key_slot(i % 3 ? 0 : ((uint64_t)i << 4) | 1, &slot) == 0, "pyg_edge_key_slot(i %% 3 ? 0 : ((uint64_t)i << 4) | 1, &slot) == 0");
        expect_true(pyg_edge_add(i, i % 2 ? ~i : i / 2, pye_how(i % 7, i % 3, i), slot) == 0, "pyg_edge_add");
        if (i % 4096 == 4095)
            expect_true(pyg_edge_flush(i + 1) == 0, "pyg_edge_flush");
    }
    expect_true(pyg_edge_add(5, 0, 0, 0) == -1, "a source already packed refused");
    struct pye_csr c;
    expect_true(pyg_edge_done(&c) == 0 && c.nobj == NO + 1, "pyg_edge_done");
    int bad = 0;
    for (uint32_t i = 0; i < NO && !bad; i++) {
        uint32_t dst, how, key, at;
        bad = edges_of(&c, i, &dst, &how, &key, &at, 1) != 1 ||
              dst != (i % 2 ? ~i : i / 2) || pye_label(how) != i % 7 || pye_value(how) != i ||
              pyg_edge_key(key) != (i % 3 ? 0 : ((uint64_t)i << 4) | 1) || pye_src(&c, at) != i;
    }
    expect_true(!bad, "an edge differs from the one added");
    expect_true(pye_len(&c, NO) == 0, "the last object has none");
    expect_true(c.nbyte < 12u * NO, "packed: under 12 bytes an edge, far targets and all");
    uint32_t third;
    expect_true(pyg_edge_key_slot(3ull << 4 | 1, &third) == 0, "a slot");
    pyg_edge_free_edges();
    expect_true(pyg_edge_key(third) == (3ull << 4 | 1), "the keys kept for the links");
    pyg_edge_free();
TEST_END

/* Edge k of 300,000: source (k * 7) % 1000, rank 2 - k % 3, its index
 * as its value (the order added) and as its target; one batch, each
 * source's edges long (over PYE_LONG bytes). */
TEST_BEGIN(sorted_by_source_then_rank_in_the_order_added)
    pyg_edge_free();
    enum { NE = 300000, NO = 1000 };
    expect_true(pyg_edge_begin(NO + 1) == 0, "pyg_edge_begin");
    for (uint32_t k = 0; k < NE; k++)
        expect_true(pyg_edge_add((k * 7) % NO, k, pye_how(HSNAP_PYLABEL_INDEX, 2 - k % 3, k), k % 5) == 0,
                    "pyg_edge_add");
    struct pye_csr c;
    expect_true(pyg_edge_done(&c) == 0, "pyg_edge_done == 0"); /* the last object has none */
    expect_true(c.nobj == NO + 1 && c.nlong == NO, "c.nobj == NO + 1, every source long");
    expect_true(pye_start(&c, 0) == 0 && pye_start(&c, NO) == c.nbyte && pye_len(&c, NO) == 0,
                "the starts' ends");
    int bad = 0;
    static uint8_t seen[NE];
    static uint32_t dst[NE], how[NE], key[NE], at[NE];
    memset(seen, 0, sizeof seen);
    uint64_t total = 0;
    for (uint32_t v = 0; v <= NO && !bad; v++) {
        uint32_t n = edges_of(&c, v, dst, how, key, at, NE);
        total += n;
        for (uint32_t e = 0; e < n && !bad; e++) {
            uint32_t k = dst[e];
            bad = k >= NE || seen[k] || (k * 7) % NO != v || pye_value(how[e]) != k ||
                  key[e] != k % 5 || pye_src(&c, at[e]) != v;
            if (!bad && e > 0) { /* rank, then the order added */
                uint32_t p = dst[e - 1];
                bad = 2 - p % 3 > 2 - k % 3 || (2 - p % 3 == 2 - k % 3 && p >= k);
            }
            if (!bad)
                seen[k] = 1;
        }
    }
    expect_true(!bad && total == NE, "an edge out of its place");
    pyg_edge_free();
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
