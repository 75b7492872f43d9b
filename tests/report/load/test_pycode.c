// link: report/load/pycode.c report/load/section.c report/base/bigmem.c
/*
 * test_pycode.c - pycode_decode and pycode_line: CPython 3.11 and 3.10 line tables read offline
 * give the lines CPython itself gives (the tables and the lines per code
 * unit below were printed by /usr/bin/python3 from co_linetable and
 * co_lines() of two small functions: multi-line expressions, a lambda,
 * blank lines, a loop, and an except clause with no-location entries).
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "pycode.h"
#include "snap.h"
#include "unit.h"

/* def f(a): x = [a,\n a + 1] / if a: y = (lambda q:\n q)(1) / 3 blank lines /
 * for i in range(3): x.append(i) / return x, first line 2. */
static const uint8_t lt_f[] = {128, 0, 216, 9, 10, 216, 9, 10, 136, 81, 137, 21, 240, 3, 1, 9,
                               16, 128, 65, 224, 7, 8, 240, 0, 2, 5, 19, 240, 2, 1, 14, 15,
                               240, 0, 1, 14, 15, 240, 0, 1, 14, 15, 216, 16, 17, 241, 3, 1,
                               13, 19, 244, 0, 1, 13, 19, 136, 1, 245, 10, 0, 14, 19, 144, 49,
                               137, 88, 140, 88, 240, 0, 1, 5, 20, 240, 0, 1, 5, 20, 136, 1,
                               216, 8, 9, 143, 8, 138, 8, 144, 17, 137, 11, 140, 11, 136, 11,
                               136, 11, 216, 11, 12, 128, 72};
static const int want_f[] = {2,  3,  4,  4,  4,  4,  3,  3,  5,  5,  6,  6,  6,  7,  6,  6,
                             6,  6,  6,  6,  6,  6,  11, 11, 11, 11, 11, 11, 11, 11, 11, 11,
                             11, 11, 11, 11, 11, 11, 11, 12, 12, 12, 12, 12, 12, 12, 12, 12,
                             12, 12, 12, 12, 12, 12, 12, 12, 12, 12, 12, 12, 12, 13, 13};

/* def g(a): try: b = a() / except ValueError as e: b = e / return b. */
static const uint8_t lt_g[] = {128, 0,   240, 2,   3,   5,   14,  216, 12,  13,  136, 65,
                               137, 67,  140, 67,  136, 1,   136, 1,   248, 221, 11,  21,
                               240, 0,   1,   5,   14,  240, 0,   1,   5,   14,  240, 0,
                               1,   5,   14,  216, 12,  13,  136, 1,   136, 1,   136, 1,
                               136, 1,   136, 1,   136, 1,   248, 248, 248, 248, 240, 3,
                               1,   5,   14,  248, 248, 248, 224, 11,  12,  128, 72};
static const int want_g[] = {2, 3, 4, 4, 4, 4, 4, 4, 4,  4,  4,  4,  4,  -1, 5, 5, 5, 5, 5, 5,
                             5, 5, 5, 6, 6, 6, 6, 6, 6,  6,  -1, -1, -1, -1, 5, -1, -1, -1, 7, 7};

#define N(a) (sizeof(a) / sizeof((a)[0]))

TEST_BEGIN(pycode_lines_match_cpython)
{
    for (size_t i = 0; i < N(want_f); i++)
        expect_true(pycode_line(0x030b0000, lt_f, sizeof lt_f, 2, (int64_t)i) == want_f[i],
                    "f unit %zu: %d, want %d", i, pycode_line(0x030b0000, lt_f, sizeof lt_f, 2, (int64_t)i),
                    want_f[i]);
    for (size_t i = 0; i < N(want_g); i++)
        expect_true(pycode_line(0x030b0000, lt_g, sizeof lt_g, 2, (int64_t)i) == want_g[i],
                    "g unit %zu: %d, want %d", i, pycode_line(0x030b0000, lt_g, sizeof lt_g, 2, (int64_t)i),
                    want_g[i]);
}
TEST_END

TEST_BEGIN(pycode_line_edges)
{
    /* before the first instruction: the first line, as PyCode_Addr2Line */
    expect_true(pycode_line(0x030b0000, lt_f, sizeof lt_f, 2, -1) == 2, "offset -1");
    /* past the table's end, and an empty or cut table: no line, no overrun */
    expect_true(pycode_line(0x030b0000, lt_f, sizeof lt_f, 2, 1000) == 0, "past the end");
    expect_true(pycode_line(0x030b0000, lt_f, 0, 2, 0) == 0, "empty table");
    for (uint32_t cut = 0; cut < sizeof lt_f; cut++)
        (void)pycode_line(0x030b0000, lt_f, cut, 2, 62); /* ASan would catch an overrun */
}
TEST_END

/* 3.10's tables (byte pairs) of the same f and g (g's first line 15),
 * printed by python3.10 from co_linetable and co_lines(): f's first code
 * unit is already line 3 (3.10 has no RESUME), and g has an entry of no
 * line (-128) before the last. */
static const uint8_t lt10_f[] = {2, 1, 6, 1, 4, 255, 4, 2, 6, 1, 2, 1, 4, 255, 12, 5, 12, 1, 4, 1};
static const int want10_f[] = {3,  4,  4,  4,  3,  3,  5,  5,  6,  6,  6,  7,  6,  6,
                               11, 11, 11, 11, 11, 11, 12, 12, 12, 12, 12, 12, 13, 13};
static const uint8_t lt10_g[] = {2, 1, 8, 1, 4, 3, 14, 254, 14, 1, 4, 1, 8, 128, 2, 254};
static const int want10_g[] = {16, 17, 17, 17, 17, 20, 20, 18, 18, 18, 18, 18, 18, 18,
                               19, 19, 19, 19, 19, 19, 19, 20, 20, -1, -1, -1, -1, 18};

TEST_BEGIN(pycode_310_lines_match_cpython)
{
    for (size_t i = 0; i < N(want10_f); i++)
        expect_true(pycode_line(0x030a0000, lt10_f, sizeof lt10_f, 2, (int64_t)i) == want10_f[i],
                    "3.10 f unit %zu: %d, want %d", i,
                    pycode_line(0x030a0000, lt10_f, sizeof lt10_f, 2, (int64_t)i), want10_f[i]);
    for (size_t i = 0; i < N(want10_g); i++)
        expect_true(pycode_line(0x030a0000, lt10_g, sizeof lt10_g, 15, (int64_t)i) == want10_g[i],
                    "3.10 g unit %zu: %d, want %d", i,
                    pycode_line(0x030a0000, lt10_g, sizeof lt10_g, 15, (int64_t)i), want10_g[i]);
    expect_true(pycode_line(0x030a0000, lt10_f, sizeof lt10_f, 2, -1) == 2, "3.10 offset -1");
    expect_true(pycode_line(0x030a0000, lt10_f, sizeof lt10_f, 2, 1000) == 0, "3.10 past the end");
    for (uint32_t cut = 0; cut < sizeof lt10_f; cut++)
        (void)pycode_line(0x030a0000, lt10_f, cut, 2, 27);
}
TEST_END

/* merge's rewrite of a 3.10 table as a location table: the same lines. */
TEST_BEGIN(pycode_310_table_rewritten_gives_same_lines)
{
    const uint8_t *lt[2] = {lt10_f, lt10_g};
    uint32_t len[2] = {sizeof lt10_f, sizeof lt10_g};
    const int *want[2] = {want10_f, want10_g};
    size_t n[2] = {N(want10_f), N(want10_g)};
    int32_t first[2] = {2, 15};
    for (int t = 0; t < 2; t++) {
        uint32_t ol = 0;
        uint8_t *o = pycode_to_location(lt[t], len[t], first[t], &ol);
        expect_true(o != NULL, "rewrite %d", t);
        if (!o)
            continue;
        for (size_t i = 0; i < n[t]; i++)
            expect_true(pycode_line(0x030b0000, o, ol, first[t], (int64_t)i) == want[t][i],
                        "table %d unit %zu: %d, want %d", t, i,
                        pycode_line(0x030b0000, o, ol, first[t], (int64_t)i), want[t][i]);
        free(o);
    }
    /* a long range and a large delta: more than 8 units, a varint of 2 bytes */
    static const uint8_t big[] = {40, 100, 4, 128, 2, 156};
    uint32_t ol = 0;
    uint8_t *o = pycode_to_location(big, sizeof big, 1, &ol);
    for (int64_t u = 0; o && u < 23; u++) {
        int w = u < 20 ? 101 : u < 22 ? -1 : 1;
        expect_true(pycode_line(0x030b0000, o, ol, 1, u) == w, "big unit %lld: %d, want %d",
                    (long long)u, pycode_line(0x030b0000, o, ol, 1, u), w);
    }
    free(o);
}
TEST_END

/* Every offset of table lt (version v) read through a snapshot's decoded
 * runs (pycode_line_of) as pycode_line reads it from the bytes; twice, so
 * the second pass reads the runs the first built.  The first offset that
 * differs, or INT64_MIN when none does (or the runs were never built). */
static int64_t runs_differ_at(uint32_t v, const uint8_t *lt, uint32_t len, int32_t first)
{
    struct snap_pycode c = {first, "f.py", "f", lt, len};
    struct pycode_lines l = {NULL, NULL, UINT32_MAX};
    struct snap s;
    int64_t at = INT64_MIN;
    memset(&s, 0, sizeof(s));
    s.pycodes = &c;
    s.pylines = &l;
    s.npycodes = 1;
    s.py_version = v;
    for (int pass = 0; pass < 2 && at == INT64_MIN; pass++)
        for (int64_t off = -1; off < (int64_t)len * 8 + 4; off++)
            if (pycode_line_of(&s, 0, off) != pycode_line(v, lt, len, first, off)) {
                at = off;
                break;
            }
    if (l.n == UINT32_MAX)
        at = INT64_MAX;
    free(l.end);
    free(l.line);
    return at;
}

#define expect_runs_agree(v, lt, len, first, what)                                               \
    do {                                                                                         \
        int64_t at_ = runs_differ_at(v, lt, len, first);                                         \
        expect_true(at_ == INT64_MIN, "%s (%u bytes): offset %lld differs", what,                \
                    (unsigned)(len), (long long)at_);                                            \
    } while (0)

TEST_BEGIN(pycode_decoded_runs_give_the_table_lines)
{
    for (uint32_t cut = 0; cut <= sizeof lt_f; cut++)
        expect_runs_agree(0x030b0000, lt_f, cut, 2, "3.11 f");
    expect_runs_agree(0x030b0000, lt_g, sizeof lt_g, 2, "3.11 g");
    for (uint32_t cut = 0; cut <= sizeof lt10_g; cut++)
        expect_runs_agree(0x030a0000, lt10_g, cut, 15, "3.10 g");
    expect_runs_agree(0x030a0000, lt10_f, sizeof lt10_f, 2, "3.10 f");
    /* any bytes (a damaged or foreign table): the same answer as the walk */
    uint32_t seed = 12345;
    uint8_t junk[96];
    for (int round = 0; round < 400; round++) {
        for (size_t i = 0; i < sizeof junk; i++) {
            seed = seed * 1103515245u + 12345u;
            junk[i] = (uint8_t)(seed >> 16);
        }
        if (round & 1)
            junk[0] |= 128;
        expect_runs_agree(round & 2 ? 0x030a0000 : 0x030c0000, junk,
                          (uint32_t)(round % (int)sizeof junk), round, "junk");
    }
}
TEST_END

int main(void)
{
    pycode_lines_match_cpython();
    pycode_line_edges();
    pycode_310_lines_match_cpython();
    pycode_310_table_rewritten_gives_same_lines();
    pycode_decoded_runs_give_the_table_lines();
    return 0;
}
