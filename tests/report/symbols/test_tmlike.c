// link: report/symbols/tmlike.c
/*
 * test_tmlike.c - tracemalloc's own tables made before the shim knew its
 * hooks: an unflagged trace whose two innermost return addresses are a
 * flagged (HSNAP_TRACE_TMOWN) trace's is tracemalloc's own; one that
 * shares only the first (a shared helper's allocation, called from
 * elsewhere), or none, is not; a snapshot without flagged traces has
 * none; a one-frame trace never is.
 */
#include <string.h>

#include "snap.h"
#include "tmlike.h"
#include "unit.h"

TEST_BEGIN(test_pairs)
{
    static const uint64_t own1[] = {0x5b6544, 0x5b4f06, 0x400100};   /* flagged */
    static const uint64_t own2[] = {0x5a0010, 0x5b4f80, 0x400200};   /* flagged */
    static const uint64_t early[] = {0x5b6544, 0x5b4f06, 0x400999};  /* same pair */
    static const uint64_t shared[] = {0x5a0010, 0x7f0000, 0x400200}; /* first only */
    static const uint64_t other[] = {0x600000, 0x5b4f06};
    static const uint64_t one[] = {0x5b6544};
    struct snap_trace tr[] = {
        {.depth = 3, .flags = HSNAP_TRACE_TMOWN, .ips = own1},
        {.depth = 3, .flags = HSNAP_TRACE_TMOWN, .ips = own2},
        {.depth = 3, .ips = early}, {.depth = 3, .ips = shared}, {.depth = 2, .ips = other},
        {.depth = 1, .ips = one},
    };
    struct snap s;
    memset(&s, 0, sizeof s);
    s.traces = tr;
    s.ntraces = 6;
    struct tmlike *tl = tmlike_new(&s);
    expect_true(tl != NULL, "made");
    expect_true(tmlike_has(tl, &s, &tr[2]), "the same two return addresses");
    expect_true(!tmlike_has(tl, &s, &tr[3]), "the first alone is not enough");
    expect_true(!tmlike_has(tl, &s, &tr[4]), "another allocation");
    expect_true(!tmlike_has(tl, &s, &tr[5]), "one frame");
    expect_true(!tmlike_has(tl, &s, &tr[0]), "a flagged one is told by its flag");
    tmlike_free(tl);
    s.traces = tr + 2;
    s.ntraces = 4;
    tl = tmlike_new(&s);
    expect_true(tl && !tmlike_has(tl, &s, &tr[2]), "no flagged trace: none");
    tmlike_free(tl);
}
TEST_END

int main(void)
{
    test_pairs();
    return 0;
}
