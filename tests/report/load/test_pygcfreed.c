// link: report/load/pygcfreedread.c report/load/section.c
/*
 * test_pygcfreed.c - report/load/pygcfreedread.c: a PYGCFREED payload
 * (hsnap_format.h) read into the snapshot (items by trace, the
 * interpreter's count, the dropped), and every damage refused with a
 * one-line reason.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "snap.h"
#include "unit.h"

static char err[512];

struct payload {
    uint32_t count, reserved;
    uint64_t collected, dropped;
    struct hsnap_pygcfreed items[3];
};

static const struct payload good = {
    3, 0, 1000, 2, {{1, 0, 700, 39200}, {4, 0, 5, 1288}, {9, 0, 1, 56}}};

static int decode(const struct payload *p, size_t len, struct snap *s)
{
    memset(s, 0, sizeof *s);
    s->ntraces = 10;
    err[0] = 0;
    return pygcfreed_decode(s, (const uint8_t *)p, len, err, sizeof err);
}

TEST_BEGIN(pygcfreed_items_by_trace_and_the_interpreters_count)
{
    struct snap s;
    expect_true(decode(&good, sizeof good, &s) == 0, "%s", err);
    expect_eq_u64(s.has_gcfreed, 1);
    expect_eq_u64(s.ngcfreed, 3);
    expect_eq_u64(s.gcfreed[0].trace, 1);
    expect_eq_u64(s.gcfreed[0].objects, 700);
    expect_eq_u64(s.gcfreed[2].bytes, 56);
    expect_eq_u64(s.gc_collected, 1000);
    expect_eq_u64(s.gc_dropped, 2);
    struct payload none = {0, 0, UINT64_MAX, 0, {{0}}};
    expect_true(decode(&none, 24, &s) == 0, "%s", err);
    expect_eq_u64(s.has_gcfreed, 1);
    expect_true(s.gcfreed == NULL, "no items");
    expect_eq_u64(s.gc_collected, UINT64_MAX);
}
TEST_END

TEST_BEGIN(pygcfreed_damage_refused_in_one_line)
{
    static const char *want[] = {"want 24 at least", "does not match", "reserved field",
                                 "names trace 10 of 10", "traces not increasing",
                                 "0 objects", "700 objects in 700 bytes", "item 0: reserved"};
    for (int k = 0; k < 8; k++) {
        struct payload p = good;
        size_t len = sizeof p;
        switch (k) {
        case 0: len = 20; break;
        case 1: len -= 8; break;
        case 2: p.reserved = 1; break;
        case 3: p.items[2].trace = 10; break;
        case 4: p.items[1].trace = 1; break;
        case 5: p.items[1].objects = 0; break;
        case 6: p.items[0].bytes = 700; break;
        case 7: p.items[0].reserved = 3; break;
        }
        struct snap s;
        expect_true(decode(&p, len, &s) < 0, "damage %d accepted", k);
        expect_true(strstr(err, "section PYGCFREED: ") == err && strstr(err, want[k]) &&
                        !strchr(err, '\n'),
                    "damage %d: %s", k, err);
        expect_eq_u64(s.has_gcfreed, 0);
    }
}
TEST_END

int main(void)
{
    pygcfreed_items_by_trace_and_the_interpreters_count();
    pygcfreed_damage_refused_in_one_line();
    return 0;
}
