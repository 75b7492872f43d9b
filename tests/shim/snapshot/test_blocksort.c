// link: shim/snapshot/blocksort.c
/*
 * test_blocksort.c - bsort_spread, the sort of a run of blocks copied from
 * the table (bstream_runs): its buckets over the run's address range give
 * the blocks in the order the radix sort gives (bsort_blocks), every
 * field carried, for runs spread evenly over a heap of any width, runs
 * from heaps far apart (buckets of hundreds: the radix sort's), runs of
 * neighbours, and the sizes around a bucket's insertion sort.
 */
#include <stdlib.h>
#include <string.h>

#include "snapshot.h"
#include "unit.h"

static uint64_t seed = 7;

static uint64_t next(void)
{
    seed = seed * 6364136223846793005ULL + 1442695040888963407ULL;
    return seed >> 11;
}

/* n blocks of distinct addresses: from base, spread over width bytes in
 * 16-byte steps, or (far) half of them 2^40 above. */
static void fill(struct hsnap_block *a, uint32_t n, uint64_t base, uint64_t width, int far)
{
    for (uint32_t i = 0; i < n; i++) {
        uint64_t at;
        int dup;
        do {
            at = base + (next() % (width / 16)) * 16 + (far && (i & 1) ? 1ULL << 40 : 0);
            dup = 0;
            for (uint32_t j = 0; j < i && !dup; j++)
                dup = a[j].addr == at;
        } while (dup);
        a[i] = (struct hsnap_block){.addr = at, .size = next() % 300, .trace = (uint32_t)next(),
                                    .epoch = (uint32_t)next() & 0xffff};
    }
}

TEST_BEGIN(spread_sort_orders_a_run_as_the_radix_sort_does)
{
    static const uint32_t counts[] = {0, 1, 2, 3, 31, 32, 33, 100, 1000, 4095, BSORT_SPREAD};
    static const uint64_t widths[] = {1u << 12, 1u << 16, 1u << 20, 80u << 20, 1ULL << 36};
    static struct hsnap_block a[BSORT_SPREAD], want[BSORT_SPREAD], got[BSORT_SPREAD];
    for (size_t c = 0; c < sizeof counts / sizeof *counts; c++)
        for (size_t w = 0; w < sizeof widths / sizeof *widths; w++)
            for (int far = 0; far < 2; far++) {
                uint32_t n = counts[c];
                if ((uint64_t)n * 16 > widths[w])
                    continue; /* not that many distinct addresses */
                fill(a, n, 0x5555550000ULL, widths[w], far);
                memcpy(want, a, sizeof a);
                bsort_blocks(want, n);
                memset(got, 0xa5, sizeof got);
                bsort_spread(a, got, n);
                expect_true(!memcmp(got, want, (size_t)n * sizeof *got),
                            "%u blocks over %llu bytes%s: not the radix sort's order", n,
                            (unsigned long long)widths[w], far ? ", two heaps" : "");
                expect_eq_u64(got[n < BSORT_SPREAD ? n : 0].addr,
                              n < BSORT_SPREAD ? 0xa5a5a5a5a5a5a5a5ULL : want[0].addr);
            }
}
TEST_END

TEST_BEGIN(spread_sort_takes_neighbours_and_the_top_of_the_space)
{
    static struct hsnap_block a[BSORT_SPREAD], want[BSORT_SPREAD], got[BSORT_SPREAD];
    for (uint32_t i = 0; i < BSORT_SPREAD; i++) /* consecutive, backwards */
        a[i] = (struct hsnap_block){.addr = 0x1000 + 16ULL * (BSORT_SPREAD - i), .size = i};
    a[7].addr = UINT64_MAX - 15; /* a range of the whole space */
    a[9].addr = 0;
    memcpy(want, a, sizeof a);
    bsort_blocks(want, BSORT_SPREAD);
    bsort_spread(a, got, BSORT_SPREAD);
    expect_true(!memcmp(got, want, sizeof got), "not the radix sort's order");
}
TEST_END

int main(void)
{
    spread_sort_orders_a_run_as_the_radix_sort_does();
    spread_sort_takes_neighbours_and_the_top_of_the_space();
    return 0;
}
