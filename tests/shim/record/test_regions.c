// link: shim/record/regions.c shim/base/lock.c
/*
 * test_regions.c - the mapped ranges' tracker (shim/record/regions.c) without a
 * process around it: a range cut at its front, its back and its middle (two
 * ranges), a new mapping over several (MAP_FIXED), mremap's take and
 * restore, the twin map, and the sums each change hands to traces.c
 * (live bytes and ranges per trace here must equal what the ranges hold:
 * a front or back cut keeps the count, a hole adds one, trace_recut).
 */
#include <stdlib.h>

#include "record.h"
#include "unit.h"

#define MiB ((uintptr_t)1 << 20)

/* ---- what regions.c needs of the rest of the shim ---- */
static int64_t live[64];  /* bytes charged less discharged, by trace */
static int64_t count[64]; /* ranges charged less discharged, by trace */
static int64_t cuts;      /* ranges a cut added less those a rejoin took back (META's allocs) */
static uint32_t next_twin = 32;
void *arena_alloc(size_t n) { return calloc(1, n); }
void arena_free(void *p, size_t n) { free(p); }
void trace_charge(uint32_t id, uint64_t size) { live[id] += (int64_t)size, count[id]++; }
void trace_discharge(uint32_t id, uint64_t size) { live[id] -= (int64_t)size, count[id]--; }
void trace_recut(uint32_t id, uint64_t was, const uint64_t *left, unsigned n)
{
    live[id] -= (int64_t)was;
    for (unsigned k = 0; k < n; k++)
        live[id] += (int64_t)left[k];
    count[id] += (int64_t)n - 1;
    cuts += n > 1 ? (int64_t)n - 1 : 0;
}
void trace_rejoin(uint32_t id, const uint64_t *parts, unsigned n)
{
    for (unsigned k = 0; k < n; k++)
        live[id] -= (int64_t)parts[k];
    for (unsigned k = 0; k < n; k++)
        live[id] += (int64_t)parts[k];
    count[id] -= (int64_t)n - 1;
    cuts -= (int64_t)n - 1;
}
/* Both sums restart from nothing. */
static void sums_clear(void)
{
    memset(live, 0, sizeof live);
    memset(count, 0, sizeof count);
    cuts = 0;
}
void trace_forget(uint64_t size) {}
int trace_twin_new(uint32_t id, unsigned flags, uint32_t *twin)
{
    *twin = next_twin++;
    return flags == HSNAP_TRACE_MMAP ? 0 : -1;
}

struct walk {
    uint64_t bytes[64], ranges[64];
    unsigned n;
};
static void visit(uint32_t trace, uint64_t bytes, void *arg)
{
    struct walk *w = arg;
    w->bytes[trace] += bytes;
    w->ranges[trace]++;
    w->n++;
}
/* The ranges' walk agrees with the sums handed out; their number. */
static int consistent(unsigned *n)
{
    struct walk w = {{0}, {0}, 0};
    reg_foreach(visit, &w, 0);
    *n = w.n;
    for (int t = 0; t < 64; t++)
        if ((int64_t)w.bytes[t] != live[t] || (int64_t)w.ranges[t] != count[t])
            return 0;
    return 1;
}

TEST_BEGIN(regions_cut_front_back_middle)
    unsigned n;
    reg_clear();
    sums_clear();
    reg_add(100 * MiB, 112 * MiB, 1, 7);
    reg_remove(100 * MiB, 102 * MiB);          /* front */
    reg_remove(110 * MiB, 112 * MiB);          /* back */
    expect_eq_u64(count[1], 1);
    reg_remove(104 * MiB, 106 * MiB);          /* a hole: two ranges */
    expect_true(consistent(&n), "walk and sums differ");
    expect_eq_u64(count[1], 2);
    expect_eq_u64(n, 2);
    expect_eq_u64(live[1], 6 * MiB);
    reg_remove(0, 200 * MiB);                  /* everything */
    expect_true(consistent(&n), "walk and sums differ");
    expect_eq_u64(n, 0);
    expect_eq_u64(live[1], 0);
TEST_END

TEST_BEGIN(regions_fixed_mapping_replaces_what_it_covers)
    unsigned n;
    reg_clear();
    sums_clear();
    reg_add(10 * MiB, 14 * MiB, 1, 7);
    reg_add(14 * MiB, 18 * MiB, 2, 7);
    reg_add(18 * MiB, 22 * MiB, 3, 7);
    reg_add(12 * MiB, 20 * MiB, 4, 7);            /* over the three */
    expect_true(consistent(&n), "walk and sums differ");
    expect_eq_u64(n, 3);
    expect_eq_u64(live[1], 2 * MiB);
    expect_eq_u64(live[2], 0);
    expect_eq_u64(live[3], 2 * MiB);
    expect_eq_u64(live[4], 8 * MiB);
    reg_add(11 * MiB, 21 * MiB, REG_UNTRACKED, 7); /* a file over them: out, nothing in */
    expect_true(consistent(&n), "walk and sums differ");
    expect_eq_u64(n, 2);
    expect_eq_u64(live[1] + live[3] + live[4], 2 * MiB);
TEST_END

TEST_BEGIN(regions_take_and_restore)
    struct reg_piece p[REG_PIECES];
    unsigned n;
    reg_clear();
    sums_clear();
    reg_add(40 * MiB, 44 * MiB, 5, 7);
    reg_add(44 * MiB, 48 * MiB, 6, 7);
    expect_eq_u64(reg_take(40 * MiB, 48 * MiB, p), 2); /* mremap's old range */
    expect_eq_u64(p[0].lo, 40 * MiB);
    expect_eq_u64(p[1].trace, 6);
    expect_eq_u64(p[1].epoch, 7);
    reg_restore(p, 2);                        /* it failed */
    expect_true(consistent(&n), "walk and sums differ");
    expect_eq_u64(n, 2);
    expect_eq_u64(reg_take(60 * MiB, 61 * MiB, p), 0); /* nothing there */
    expect_eq_u64(reg_take(41 * MiB, 42 * MiB, p), 1); /* a hole taken: a range of its own */
    expect_eq_u64(count[5], 3);                /* charged until it ends */
    expect_eq_u64(live[5], 4 * MiB);
    trace_discharge(p[0].trace, p[0].hi - p[0].lo); /* the mremap went through */
    expect_true(consistent(&n), "walk and sums differ");
    expect_eq_u64(count[5], 2);
    expect_eq_u64(live[5], 3 * MiB);
TEST_END

/* A failed mremap's old range put back (reg_restore) leaves the ranges
 * and the sums as they were before reg_take: a hole, a front, a back and
 * a piece over two ranges, each taken and restored, one range again (the
 * kernel changed nothing), and the cuts' allocations taken back. */
TEST_BEGIN(regions_restore_joins_the_cut_range)
    struct reg_piece p[REG_PIECES];
    struct { uintptr_t lo, hi; } take[] = {
        {84 * MiB, 86 * MiB}, /* a hole */
        {80 * MiB, 83 * MiB}, /* the front */
        {90 * MiB, 96 * MiB}, /* the back */
        {80 * MiB, 96 * MiB}, /* the whole */
    };
    unsigned n;
    reg_clear();
    sums_clear();
    reg_add(80 * MiB, 96 * MiB, 8, 7);
    reg_add(96 * MiB, 100 * MiB, 9, 7);
    for (unsigned t = 0; t < sizeof take / sizeof *take; t++) {
        uint32_t k = reg_take(take[t].lo, take[t].hi, p);
        expect_eq_u64(k, 1);
        expect_eq_u64(p[0].lo, take[t].lo);
        reg_restore(p, k);
        expect_true(consistent(&n), "take %u: walk and sums differ", t);
        expect_eq_u64(n, 2);
        expect_eq_u64(count[8], 1);
        expect_eq_u64(live[8], 16 * MiB);
        expect_eq_u64(cuts, 0);
    }
    expect_eq_u64(reg_take(94 * MiB, 98 * MiB, p), 2); /* across two ranges */
    reg_restore(p, 2);
    expect_true(consistent(&n), "walk and sums differ");
    expect_eq_u64(n, 2);
    expect_eq_u64(count[9], 1);
    expect_eq_u64(live[9], 4 * MiB);
    expect_eq_u64(cuts, 0);
    uint64_t ranges, bytes;
    reg_totals(&ranges, &bytes);
    expect_eq_u64(ranges, 2);
    expect_eq_u64(bytes, 20 * MiB);
    expect_eq_u64(reg_take(84 * MiB, 86 * MiB, p), 1); /* what the cut left, gone meanwhile */
    reg_remove(80 * MiB, 84 * MiB);
    reg_restore(p, 1);                         /* joins what is still there */
    expect_true(consistent(&n), "walk and sums differ");
    expect_eq_u64(n, 2);
    expect_eq_u64(live[8], 12 * MiB);
TEST_END

/* One munmap over more ranges than a change hands out at once
 * (REG_PIECES), of several traces, cut at both ends: each trace's sums
 * follow its own ranges. */
TEST_BEGIN(regions_cut_over_many_ranges)
    unsigned n;
    reg_clear();
    sums_clear();
    for (uintptr_t i = 0; i < 3 * REG_PIECES; i++)
        reg_add((200 + 2 * i) * MiB, (201 + 2 * i) * MiB, (uint32_t)(10 + i % 3), 7);
    reg_remove(200 * MiB + MiB / 2, (200 + 6 * REG_PIECES - 2) * MiB - MiB / 2);
    expect_true(consistent(&n), "walk and sums differ");
    expect_eq_u64(n, 2);
    expect_eq_u64(count[10], 1);
    expect_eq_u64(live[10], MiB / 2);
    expect_eq_u64(count[10] + count[11] + count[12], 2);
    reg_add(0, 400 * MiB, 13, 7);                 /* MAP_FIXED over all */
    expect_true(consistent(&n), "walk and sums differ");
    expect_eq_u64(n, 1);
TEST_END

TEST_BEGIN(regions_many_ranges_stay_sorted)
    unsigned n;
    reg_clear();
    sums_clear();
    for (uintptr_t i = 0; i < 1000; i++)       /* grows past the first capacity */
        reg_add((1000 - i) * 4 * MiB, (1000 - i) * 4 * MiB + 2 * MiB, (uint32_t)(i % 8), 7);
    for (uintptr_t i = 1; i <= 1000; i += 2)
        reg_remove(i * 4 * MiB + MiB, i * 4 * MiB + 2 * MiB); /* back halves of odd ones */
    expect_true(consistent(&n), "walk and sums differ");
    expect_eq_u64(n, 1000);
    uint64_t ranges, bytes;
    reg_totals(&ranges, &bytes);
    expect_eq_u64(ranges, 1000);
    expect_eq_u64(bytes, 500 * 2 * MiB + 500 * MiB);
TEST_END

TEST_BEGIN(regions_twin_made_once_per_trace)
    int64_t a = reg_twin(3), b = reg_twin(3), c = reg_twin(4);
    expect_true(a >= 32 && a == b, "twin of 3: %lld then %lld", (long long)a, (long long)b);
    expect_true(c != a, "4's twin is 3's");
TEST_END

int main(void)
{
    regions_cut_front_back_middle();
    regions_fixed_mapping_replaces_what_it_covers();
    regions_take_and_restore();
    regions_restore_joins_the_cut_range();
    regions_cut_over_many_ranges();
    regions_many_ranges_stay_sorted();
    regions_twin_made_once_per_trace();
    return 0;
}
