/*
 * test_pyrpack.c - the retained sizes' packed edges (pyrpack.h): every
 * edge comes back in the order put, across chunks, whatever its source
 * and target (a source met again, one going back, a target equal to its
 * guess, the farthest ones); runs of one kind (an instance's values
 * array and class, a list's item array, a list's items in address order)
 * take about a byte an edge (a source after the one before needs no
 * record of its own); and an empty store reads none.
 */
#include <stdlib.h>
#include <string.h>

#include "pyrpack.h"
#include "unit.h"

#define NCHUNK 64

/* The edges put through pyrp_put into chunks as pyretain.c's pyr_ref
 * fills them (a new one when an edge may not fit). */
struct store {
    uint8_t *chunk[NCHUNK];
    uint64_t nchunk, bytes;
    uint32_t at;
    struct pyrp_st st;
};

static int store_put(struct store *s, uint32_t src, uint32_t dst)
{
    if (!s->nchunk || s->at + PYRP_EDGE_MAX > PYRP_CHUNK) {
        if (s->nchunk == NCHUNK || !(s->chunk[s->nchunk] = calloc(1, PYRP_CHUNK)))
            return -1;
        s->nchunk++, s->at = PYRP_HEAD;
    }
    uint8_t *c = s->chunk[s->nchunk - 1];
    uint32_t n = pyrp_put(c + s->at, &s->st, src, dst);
    s->at += n, s->bytes += n;
    memcpy(c, &s->at, sizeof s->at);
    return 0;
}

static void store_free(struct store *s)
{
    for (uint64_t c = 0; c < s->nchunk; c++)
        free(s->chunk[c]);
    memset(s, 0, sizeof *s);
}

static uint64_t rng = 88172645463325252ull;
static uint32_t next32(void)
{
    rng ^= rng << 13, rng ^= rng >> 7, rng ^= rng << 17;
    return (uint32_t)(rng >> 16);
}

TEST_BEGIN(an_empty_store_reads_no_edge)
    struct pyrp_it it = {0};
    uint32_t s, d;
    uint8_t *none[1] = {NULL};
    expect_true(!pyrp_next(none, 0, &it, &s, &d), "no chunk, no edge");
    expect_true(!pyrp_next(none, 1, &it, &s, &d), "a NULL chunk ends the edges");
TEST_END

/* Three million edges, each source's run 0 to 9 long: sources forward,
 * back, met again, the farthest; targets anywhere, as their guess, or
 * past the source before's ones. */
TEST_BEGIN(every_edge_comes_back_in_order_across_chunks)
    enum { NE = 3000000 };
    static uint32_t src[NE], dst[NE];
    struct store st = {0};
    uint32_t s = 0;
    for (uint32_t k = 0; k < NE;) {
        uint32_t r = next32() % 8;
        s = r == 0 ? next32() : r == 1 ? s - (next32() % 5) : r == 2 ? UINT32_MAX - (next32() % 3)
                              : r == 3 ? 0 : s + 1 + next32() % 3;
        for (uint32_t n = next32() % 10; n-- > 0 && k < NE; k++) {
            uint32_t t = next32() % 4;
            src[k] = s;
            dst[k] = t == 0 ? next32() : t == 1 ? (k ? dst[k - 1] : 0) : t == 2 ? s + next32() % 7
                                       : (next32() & 1 ? UINT32_MAX : 0);
            expect_true(store_put(&st, src[k], dst[k]) == 0, "room for edge %u", k);
        }
    }
    expect_true(st.nchunk > 2, "more than two chunks (%llu)", (unsigned long long)st.nchunk);
    for (int pass = 0; pass < 2; pass++) { /* read as often as needed */
        struct pyrp_it it = {0};
        uint32_t a, b, k = 0;
        int bad = 0;
        while (pyrp_next(st.chunk, st.nchunk, &it, &a, &b) && !bad) {
            bad = k >= NE || a != src[k] || b != dst[k];
            k++;
        }
        expect_true(!bad && k == NE, "pass %d: edge %u differs or is missing", pass, k);
    }
    store_free(&st);
TEST_END

/* The bench's heap, in small: pools of 300 instances (values array,
 * class), lists (item array), values arrays (list), item arrays (int),
 * then one list's item array holding every instance. */
TEST_BEGIN(runs_of_one_kind_take_about_a_byte_an_edge)
    enum { N = 300000, POOL = 300 };
    struct store st = {0};
    uint64_t nedge = 0;
    uint32_t base[4] = {1000, 2000000, 4000000, 6000000}, cls = 500;
    int ok = 1;
    for (uint32_t p = 0; p < N; p += POOL) /* instances, pool by pool */
        for (uint32_t i = p; i < p + POOL; i++) {
            ok &= store_put(&st, base[0] + i, base[1] + i) == 0; /* its values */
            ok &= store_put(&st, base[0] + i, cls) == 0, nedge += 2;
        }
    for (uint32_t i = 0; i < N; i++) /* each values array's list */
        ok &= store_put(&st, base[1] + i, base[2] + i) == 0, nedge++;
    for (uint32_t i = 0; i < N; i++) /* each list's item array */
        ok &= store_put(&st, base[2] + i, base[3] + i) == 0, nedge++;
    for (uint32_t i = 0; i < N; i++) /* the list of them all */
        ok &= store_put(&st, 7000000, base[0] + i) == 0, nedge++;
    expect_true(ok, "room for every edge");
    expect_true(st.bytes * 4 < nedge * 5, "%llu bytes for %llu edges", (unsigned long long)st.bytes,
                (unsigned long long)nedge);
    struct pyrp_it it = {0};
    uint32_t a, b;
    uint64_t k = 0;
    while (pyrp_next(st.chunk, st.nchunk, &it, &a, &b))
        k++;
    expect_true(k == nedge, "every edge read back");
    store_free(&st);
TEST_END

int main(void)
{
    an_empty_store_reads_no_edge();
    every_edge_comes_back_in_order_across_chunks();
    runs_of_one_kind_take_about_a_byte_an_edge();
    return 0;
}
