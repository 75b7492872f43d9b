// link: report/load/snap.c report/load/threadsread.c report/load/snapfile.c report/load/inflate.c report/load/iptab.c report/load/stateread.c report/load/statenote.c report/load/section.c report/load/peakread.c report/load/lset.c report/load/sitelineread.c report/load/pycode.c report/load/pytypes.c report/base/escape.c report/load/pyretainread.c report/load/pygcfreedread.c report/base/input.c report/base/grow.c report/base/bigmem.c
/*
 * test_lset.c - the LEAKS section is decoded right from the independent
 * test writer's leak heap, and every kind of damage to it (an index out of
 * range, a wrong length, a bad class, members past the array, no BLOCKS) is
 * refused with a one-line reason naming the section.
 */
#include <stddef.h>
#include <stdio.h>

#include "../../fuzz/snap_writer.h"
#include "lset.h"
#include "snap.h"
#include "unit.h"

static char err[512];

static int load_opts(const struct wopts *o, struct snap *s)
{
    struct wbuf w = {0};
    w_snapshot(&w, o);
    err[0] = 0;
    int rc = snap_load_mem(w.p, w.len, s, err, sizeof(err));
    free(w.p);
    return rc;
}

TEST_BEGIN(test_leaks_decoded)
{
    struct wopts o = {.with_leaks = 1};
    struct snap s;
    expect_true(load_opts(&o, &s) == 0, "load: %s", err);
    expect_true(s.lk.present, "LEAKS not marked present");
    expect_eq_u64(s.nblocks, W_NLEAK_BLOCKS);
    expect_eq_u64(s.lk.head.nrecords, 5);
    expect_eq_u64(s.lk.head.nmembers, 4);
    expect_eq_u64(s.lk.total[HSNAP_CLASS_DIRECT].bytes, 72);
    expect_eq_u64(s.lk.total[HSNAP_CLASS_DIRECT].blocks, 3);
    expect_eq_u64(s.lk.total[HSNAP_CLASS_INDIRECT].bytes, 32);
    expect_eq_u64(s.lk.total[HSNAP_CLASS_CYCLE].bytes, 80);
    expect_eq_u64(s.lk.total[HSNAP_CLASS_CYCLE].blocks, 6);
    expect_eq_u64(s.lk.total[HSNAP_CLASS_REACHABLE].bytes, 4103);
    expect_eq_u64(s.lk.records[3].root, 10);
    expect_eq_u64(s.lk.records[3].indirect_bytes, 16);
    expect_eq_u64(s.lk.records[2].ref_max, 2);
    expect_eq_u64(lset_member(&s, 2), 6);
    expect_eq_u64(lset_member(&s, 3), 13);
    expect_eq_u64(s.lk.head.scan_ns, 12345);
    expect_eq_u64(s.nretainers, 3);
    expect_eq_u64(s.retainers[2].bytes, 4096);
    expect_eq_u64(s.retainers[1].source_kind, HSNAP_RET_BLOCK);
    snap_free(&s);
}
TEST_END

TEST_BEGIN(test_no_leaks_section)
{
    struct wopts o = {.with_blocks = 1};
    struct snap s;
    expect_true(load_opts(&o, &s) == 0, "load: %s", err);
    expect_true(!s.lk.present, "LEAKS present in a snapshot without it");
    expect_true(s.lk.records == NULL, "records set");
    snap_free(&s);
}
TEST_END

static int refused(struct wopts *o, const char *want)
{
    struct snap s;
    o->with_leaks = 1;
    if (load_opts(o, &s) == 0) {
        snap_free(&s);
        snprintf(err, sizeof(err), "loaded");
        return 0;
    }
    return strstr(err, want) != NULL && strstr(err, "section ") != NULL &&
           strchr(err, '\n') == NULL;
}

/* One damage knob each, and the reason it must give. */
TEST_BEGIN(test_damage_refused)
{
    static const struct {
        size_t knob; /* offsetof the int knob in struct wopts */
        const char *want;
    } cases[] = {
        {offsetof(struct wopts, leaks_extra_byte), "449 bytes, its counts (7 classes, 5 records, 4 members) need 448"},
        {offsetof(struct wopts, leaks_bad_root), "record 0: root block 14 out of range"},
        {offsetof(struct wopts, leaks_bad_member), "member 1 is block 14"},
        {offsetof(struct wopts, leaks_bad_cls), "record 0: class 4 is not direct or cycle"},
        {offsetof(struct wopts, leaks_members_over), "record 4: members 3+2 beyond the 4 stored"},
        {offsetof(struct wopts, leaks_no_blocks), "present without a BLOCKS section"},
    };
    for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        struct wopts o = {0};
        *(int *)((char *)&o + cases[i].knob) = 1;
        expect_true(refused(&o, cases[i].want), "case %zu: want \"%s\", got \"%s\"", i,
                    cases[i].want, err);
    }
}
TEST_END

/* RETAINERS, derived from the leak check, is left out when it disagrees
 * with the rest (its line in s.dropped); LEAKS and BLOCKS are still read. */
TEST_BEGIN(retainers_damage_drops_the_section_alone)
{
    static const struct {
        size_t knob;
        const char *want;
    } cases[] = {
        {offsetof(struct wopts, ret_bad_trace), "section RETAINERS: item 2: target trace 3 out of range"},
        {offsetof(struct wopts, ret_bad_kind), "section RETAINERS: item 0: unknown source kind 9"},
        {offsetof(struct wopts, ret_unsorted), "section RETAINERS: item 2: not sorted, or a duplicate"},
    };
    for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        struct wopts o = {.with_leaks = 1};
        struct snap s;
        *(int *)((char *)&o + cases[i].knob) = 1;
        expect_true(load_opts(&o, &s) == 0, "case %zu: %s", i, err);
        expect_true(s.dropped && strstr(s.dropped, cases[i].want) == s.dropped && !strchr(s.dropped, '\n'), "case %zu: dropped \"%s\"",
                    i, s.dropped ? s.dropped : "");
        expect_true(!s.has_retainers && !s.nretainers && !s.retainers, "case %zu: kept", i);
        expect_true(s.lk.present && s.nblocks == W_NLEAK_BLOCKS, "case %zu: the rest", i);
        snap_free(&s);
    }
}
TEST_END

/* HOLDERS, derived from the leak check, is read whole when it agrees
 * with BLOCKS, and left out alone (its line in s.dropped) when not. */
TEST_BEGIN(holders_read_or_dropped_alone)
{
    struct wopts ok = {.with_leaks = 1};
    struct snap s;
    expect_true(load_opts(&ok, &s) == 0, "%s", err);
    expect_true(s.hold && s.hold[1].from == 0 && s.hold[6].from == 4 && s.hold[0].from == HSNAP_HOLD_NONE &&
                s.hold[8].from == HSNAP_HOLD_ROOT && s.hold_at[s.hold[8].aux] == 0x7ff100 &&
                s.nhold_in == 1 && s.hold_in[0].block == 7 && s.hold_in[0].off == 24 &&
                s.nhold_ranges == 2 && s.hold_ranges[1].tid == 77 &&
                !strcmp(s.hold_ranges[1].name, "worker") && s.nhold_tls == 1 && !s.dropped,
                "HOLDERS as written");
    snap_free(&s);
    static const struct {
        size_t knob;
        const char *want;
    } cases[] = {
        {offsetof(struct wopts, hold_bad_from), "section HOLDERS: item 3: from 14 (aux 0), beyond the 14 blocks"},
        {offsetof(struct wopts, hold_bad_kind), "section HOLDERS: range 0: kind 9"},
        {offsetof(struct wopts, hold_short), "section HOLDERS: 13 items for 14 blocks"},
    };
    for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        struct wopts o = {.with_leaks = 1};
        *(int *)((char *)&o + cases[i].knob) = 1;
        expect_true(load_opts(&o, &s) == 0, "case %zu: %s", i, err);
        expect_true(s.dropped && strstr(s.dropped, cases[i].want) == s.dropped, "case %zu: dropped \"%s\"",
                    i, s.dropped ? s.dropped : "");
        expect_true(!s.hold && !s.nhold_ranges && s.lk.present && s.has_retainers, "case %zu: the rest", i);
        snap_free(&s);
    }
}
TEST_END

/* Every truncation of the file is refused cleanly (the frame checks catch
 * most; none may crash). */
TEST_BEGIN(test_truncations_refused)
{
    struct wopts o = {.with_leaks = 1};
    struct wbuf w = {0};
    struct snap s;
    w_snapshot(&w, &o);
    for (size_t n = 0; n < w.len; n++) {
        int rc = snap_load_mem(w.p, n, &s, err, sizeof(err));
        if (rc == 0)
            snap_free(&s);
        expect_true(rc != 0, "truncated to %zu bytes but loaded", n);
    }
    free(w.p);
}
TEST_END

int main(void)
{
    test_leaks_decoded();
    test_no_leaks_section();
    test_damage_refused();
    retainers_damage_drops_the_section_alone();
    holders_read_or_dropped_alone();
    test_truncations_refused();
    return 0;
}
