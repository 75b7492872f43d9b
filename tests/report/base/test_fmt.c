// link: report/base/fmt.c
/*
 * test_fmt.c - pins tracemalloc's _format_size and Statistic text.  The
 * expected strings were produced by python3's tracemalloc._format_size.
 */
#include <stdint.h>

#include "fmt.h"
#include "unit.h"

struct vec {
    double size;
    int sign;
    const char *want;
};

static const struct vec vecs[] = {
    {0, 0, "0 B"},
    {1023, 0, "1023 B"},
    {10239, 0, "10239 B"},
    {10240, 0, "10.0 KiB"},
    {10752, 0, "10.5 KiB"},
    {102348, 0, "99.9 KiB"},
    {102400, 0, "100 KiB"},
    {8912896, 0, "8704 KiB"},
    {10485759, 0, "10240 KiB"},
    {10485760, 0, "10.0 MiB"},
    {5368709120.0, 0, "5120 MiB"},        /* 5 GiB */
    {3298534883328.0, 0, "3072 GiB"},     /* 3 TiB */
    {2251799813685248.0, 0, "2048 TiB"},  /* 2 PiB: TiB is the last unit */
    {88.5, 0, "88 B"},                    /* half to even */
    {89.5, 0, "90 B"},
    {0, 1, "+0 B"},
    {1023, 1, "+1023 B"},
    {10752, 1, "+10.5 KiB"},
    {-1, 1, "-1 B"},
    {-10239, 1, "-10239 B"},
    {-10240, 1, "-10.0 KiB"},
    {-102348, 1, "-99.9 KiB"},
    {-10485760, 1, "-10.0 MiB"},
    {-5368709120.0, 1, "-5120 MiB"},
    {-2251799813685248.0, 1, "-2048 TiB"},
};

TEST_BEGIN(format_size_matches_tracemalloc_vectors)
{
    char buf[64];
    for (size_t i = 0; i < sizeof(vecs) / sizeof(vecs[0]); i++) {
        fmt_size(buf, sizeof(buf), vecs[i].size, vecs[i].sign);
        expect_true(strcmp(buf, vecs[i].want) == 0, "size %.0f sign %d: got \"%s\", want \"%s\"",
                    vecs[i].size, vecs[i].sign, buf, vecs[i].want);
    }
}
TEST_END

TEST_BEGIN(statistic_line_has_average_when_count)
{
    char buf[256];
    fmt_statistic(buf, sizeof(buf), "file.c:12", 8912896, 101000);
    expect_str_eq(buf, "file.c:12: size=8704 KiB, count=101000, average=88 B");
    fmt_statistic(buf, sizeof(buf), "x.c:0", 0, 0);
    expect_str_eq(buf, "x.c:0: size=0 B, count=0");
}
TEST_END

TEST_BEGIN(statistic_diff_line_signs_and_average)
{
    char buf[256];
    fmt_statistic_diff(buf, sizeof(buf), "file.c:12", 8912896, 2201600, 101000, 25000);
    expect_str_eq(buf, "file.c:12: size=8704 KiB (+2150 KiB), count=101000 (+25000), average=88 B");
    fmt_statistic_diff(buf, sizeof(buf), "old.c:3", 0, -4096, 0, -2);
    expect_str_eq(buf, "old.c:3: size=0 B (-4096 B), count=0 (-2)");
    fmt_statistic_diff(buf, sizeof(buf), "same.c:1", 100, 0, 1, 0);
    expect_str_eq(buf, "same.c:1: size=100 B (+0 B), count=1 (+0), average=100 B");
}
TEST_END

int main(void)
{
    format_size_matches_tracemalloc_vectors();
    statistic_line_has_average_when_count();
    statistic_diff_line_signs_and_average();
    return 0;
}
