// link: report/load/series.c
/*
 * test_series.c - the one counting rule for several snapshots (series.h)
 * on hand-made snapshot heads: a process is its pid and start time; its
 * latest snapshot counts (time, then sequence number, then the order
 * given), or under peak the one with the highest traced peak; a mask
 * leaves snapshots out; the note says which, in one line.
 */
#include <string.h>

#include "series.h"
#include "unit.h"

static struct snap mk(uint32_t pid, uint64_t start, uint64_t t, uint32_t seq, uint64_t peak)
{
    struct snap s;
    memset(&s, 0, sizeof(s));
    s.meta.pid = pid;
    s.meta.start_ns = start;
    s.meta.time_ns = t;
    s.meta.seq = seq;
    s.meta.peak_bytes = peak;
    s.has_peak = 1;
    s.exe = (char *)"/usr/bin/grow";
    return s;
}

static char *paths[] = {"a.hsnap", "b.hsnap", "c.hsnap", "d.hsnap", "e.hsnap"};

TEST_BEGIN(test_one_process_reads_as_its_latest)
    struct snap s[3] = {mk(7, 100, 3000, 2, 50), mk(7, 100, 1000, 0, 90), mk(7, 100, 2000, 1, 90)};
    struct series sr;
    char note[256];
    expect_eq_u64(series_pick(&sr, s, 3, NULL, 0), 0);
    expect_eq_u64(sr.nprocs, 1);
    expect_eq_u64(sr.nused, 1);
    expect_true(sr.use[0] && !sr.use[1] && !sr.use[2], "the latest (a) counts");
    expect_eq_u64(series_used(&sr, 0), 0);
    series_note(&sr, s, paths, note, sizeof(note));
    expect_true(strstr(note, "3 snapshots of pid 7 (grow): the latest, ") == note, "note: %s", note);
    expect_true(strstr(note, "(a.hsnap)") != NULL, "note names the file: %s", note);
    expect_str_eq(series_rule(&sr), "latest");
    series_free(&sr);
TEST_END

TEST_BEGIN(test_peak_reads_the_highest_peak_latest_among_equals)
    struct snap s[3] = {mk(7, 100, 3000, 2, 50), mk(7, 100, 1000, 0, 90), mk(7, 100, 2000, 1, 90)};
    struct series sr;
    char note[256];
    expect_eq_u64(series_pick(&sr, s, 3, NULL, 1), 0);
    expect_true(!sr.use[0] && !sr.use[1] && sr.use[2], "c: peak 90, later than b");
    series_note(&sr, s, paths, note, sizeof(note));
    expect_true(strstr(note, "the one at its highest peak") != NULL, "note: %s", note);
    expect_str_eq(series_rule(&sr), "peak");
    series_free(&sr);
TEST_END

TEST_BEGIN(test_same_time_by_sequence_then_order)
    struct snap s[3] = {mk(7, 100, 5000, 4, 0), mk(7, 100, 5000, 3, 0), mk(7, 100, 5000, 4, 0)};
    struct series sr;
    expect_eq_u64(series_pick(&sr, s, 3, NULL, 0), 0);
    expect_eq_u64(sr.nused, 1);
    expect_true(sr.use[2], "seq 4, given last");
    series_free(&sr);
TEST_END

TEST_BEGIN(test_processes_sum_and_say_so)
    /* pid 7 twice (one image), pid 8, and pid 7 again after an exec (a new start) */
    struct snap s[4] = {mk(7, 100, 1000, 0, 0), mk(8, 100, 1500, 0, 0), mk(7, 100, 2000, 1, 0),
                        mk(7, 900, 2500, 0, 0)};
    struct series sr;
    char note[256];
    expect_eq_u64(series_pick(&sr, s, 4, NULL, 0), 0);
    expect_eq_u64(sr.nprocs, 3);
    expect_eq_u64(sr.nused, 3);
    expect_true(!sr.use[0] && sr.use[1] && sr.use[2] && sr.use[3], "latest of each");
    expect_eq_u64(sr.proc[0], sr.proc[2]);
    series_note(&sr, s, paths, note, sizeof(note));
    expect_str_eq(note, "4 snapshots of 3 processes: the latest of each, summed");
    series_free(&sr);
    struct snap t[2] = {mk(7, 100, 1000, 0, 0), mk(8, 100, 1500, 0, 0)};
    expect_eq_u64(series_pick(&sr, t, 2, NULL, 0), 0);
    series_note(&sr, t, paths, note, sizeof(note));
    expect_str_eq(note, "2 processes, summed");
    series_free(&sr);
TEST_END

TEST_BEGIN(test_mask_and_single_snapshot)
    struct snap s[3] = {mk(7, 100, 1000, 0, 0), mk(8, 100, 9000, 0, 0), mk(7, 100, 2000, 1, 0)};
    unsigned char sel[3] = {1, 0, 0};
    struct series sr;
    char note[64] = "x";
    expect_eq_u64(series_pick(&sr, s, 3, sel, 0), 0);
    expect_eq_u64(sr.nsel, 1);
    expect_true(sr.use[0] && !sr.use[1] && !sr.use[2], "only the selected one");
    expect_true(sr.proc[1] == -1 && sr.proc[2] == -1, "unselected: no process");
    expect_str_eq(series_note(&sr, s, paths, note, sizeof(note)), "");
    series_free(&sr);
TEST_END

int main(void)
{
    test_one_process_reads_as_its_latest();
    test_peak_reads_the_highest_peak_latest_among_equals();
    test_same_time_by_sequence_then_order();
    test_processes_sum_and_say_so();
    test_mask_and_single_snapshot();
    return 0;
}
