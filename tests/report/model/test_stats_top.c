// link: report/model/stats.c report/model/statkey.c report/model/statorder.c report/model/pyfold.c report/model/pycollected.c report/base/progress.c report/symbols/frames.c report/symbols/frameview.c report/symbols/framefilter.c report/symbols/fchain.c report/symbols/judge.c report/symbols/tmlike.c report/symbols/framerec.c report/symbols/wrappers.c report/symbols/tmpl.c report/symbols/sym.c report/symbols/debugcache.c report/symbols/demangle.c report/symbols/symtab.c report/symbols/cuindex.c report/symbols/dbgsym.c report/load/lset.c report/load/snap.c report/load/threadsread.c report/load/snapfile.c report/load/inflate.c report/load/iptab.c report/load/stateread.c report/load/statenote.c report/load/section.c report/load/peakread.c report/load/sitelineread.c report/load/pycode.c report/load/pytypes.c report/load/pyretainread.c report/load/pygcfreedread.c report/base/grow.c report/base/fmt.c report/base/json.c report/base/cli.c report/base/input.c report/base/escape.c report/base/bigmem.c report/base/hidx.c
/*
 * test_stats_top.c - stats_top's first k groups are stats_sort's first k,
 * ties included (equal size and count: the key's order; equal key text: a
 * malloc group and an mmap group, kept in the order the stable sort keeps
 * them), for every k up to past the number of groups; and traces charged
 * in chunks (stats_add_traces, as run's summary adds them) make the
 * groups stats_add makes of the same traces.
 */
#include <stdlib.h>
#include <string.h>

#include "frames.h"
#include "stats.h"
#include "unit.h"

#define PY(code) (HSNAP_PY_TAG | (uint64_t)(code) << HSNAP_PY_CODE_SHIFT)
#define NCODE 7
#define NT 24

static struct snap_pycode codes[NCODE] = {
    {10, "a.py", "f", NULL, 0}, {11, "a.py", "g", NULL, 0}, {12, "b.py", "h", NULL, 0},
    {13, "b.py", "i", NULL, 0}, {14, "c.py", "j", NULL, 0}, {15, "c.py", "k", NULL, 0},
    {20, "main.py", "main", NULL, 0}};
static uint64_t ips[NT][2];
static uint16_t flags[NT];
static struct snap_trace tr[NT];
static struct hsnap_stat sv[NT];
static struct snap s;

/* Traces at six lines under main.py:20, three of the malloc kind and one
 * mmap a line; sizes that tie: lines with the same bytes and count, line
 * 2's mmap group the very same as its malloc group (a tie of the key too),
 * and each other line's mmap group at the bytes of another line. */
static void build(void)
{
    static const uint64_t bytes[6] = {4096, 4096, 512, 512, 512, 64};
    memset(&s, 0, sizeof s);
    for (int t = 0; t < NT; t++) {
        int line = t % 6, mmap = t >= 18;
        ips[t][0] = PY(line);
        ips[t][1] = PY(NCODE - 1);
        flags[t] = mmap ? HSNAP_TRACE_MMAP : 0;
        tr[t] = (struct snap_trace){.depth = 2, .flags = flags[t], .ips = ips[t]};
        sv[t] = (struct hsnap_stat){0};
        sv[t].live_count = mmap ? (line == 2 ? 6 : 1) : 2;
        sv[t].live_bytes = !mmap ? bytes[line] : line == 2 ? bytes[2] * 3 : bytes[(line + 1) % 6] * 3;
    }
    s.ntraces = NT, s.traces = tr, s.stats = sv;
    s.pycodes = codes, s.npycodes = NCODE;
    s.serial = 1;
}

static struct stats *fresh(void)
{
    struct stats_opts o = {.key = KEY_LINENO};
    return stats_new(&o);
}

TEST_BEGIN(stats_top_gives_the_sorts_first_groups_ties_included)
{
    build();
    struct stats *st = fresh();
    expect_true(st && stats_add(st, &s) == 0, "stats");
    size_t n, m;
    struct stat_entry **e = stats_sort(st, 0, &n);
    expect_true(e != NULL && n == 12, "twelve groups: six lines, each of both kinds");
    struct stat_entry *sorted[16];
    memcpy(sorted, e, n * sizeof *e);
    for (size_t k = 1; k <= n + 2; k++) {
        struct stat_entry **top = stats_top(st, 0, k, &m);
        expect_true(top != NULL, "top");
        expect_eq_u64(m, k < n ? k : n);
        int same = 1;
        for (size_t i = 0; i < m; i++)
            same &= top[i] == sorted[i];
        expect_true(same, "the sort's first groups, in its order");
    }
    stats_free(st);
}
TEST_END

TEST_BEGIN(traces_added_in_chunks_make_stats_adds_groups)
{
    build();
    struct stats *all = fresh(), *chunks = fresh();
    expect_true(all && chunks && stats_add(all, &s) == 0, "stats");
    uint32_t order[NT];
    for (uint32_t t = 0; t < NT; t++)
        order[t] = (t * 7) % NT; /* every trace once, out of order */
    expect_true(stats_add_traces(chunks, &s, sv, order, 5) == 0 &&
                    stats_add_traces(chunks, &s, sv, order + 5, NT - 5) == 0,
                "chunks");
    size_t na, nc;
    struct stat_entry **a = stats_sort(all, 0, &na);
    struct stat_entry **c = stats_sort(chunks, 0, &nc);
    expect_eq_u64(nc, na);
    int same = a && c;
    char ka[256], kc[256];
    for (size_t i = 0; same && i < na; i++) {
        stats_key(KEY_LINENO, a[i], ka, sizeof ka);
        stats_key(KEY_LINENO, c[i], kc, sizeof kc);
        same = !strcmp(ka, kc) && a[i]->size == c[i]->size && a[i]->count == c[i]->count &&
               a[i]->mmap == c[i]->mmap;
    }
    expect_true(same, "the same groups, sizes and counts, in the same order");
    stats_free(all);
    stats_free(chunks);
}
TEST_END

/* The HTML report's folded view (fold, python_only): a stack of import
 * machinery alone is the synthetic "[import machinery]" group, whatever
 * real frame was charged before it (the synthetic frame has no ident, and
 * took the text of the frame of ident 0 when a memo keyed it by ident). */
TEST_BEGIN(folded_import_stack_is_its_own_group)
{
    static struct snap_pycode c2[NCODE + 1];
    static uint64_t ip2[3][2];
    static struct snap_trace t2[3];
    static struct hsnap_stat v2[3];
    build(); /* the records of the tests before: a.py's f is among the first idents */
    memcpy(c2, codes, sizeof codes);
    c2[NCODE] = (struct snap_pycode){30, "<frozen importlib._bootstrap>", "_find_and_load",
                                     NULL, 0};
    static const uint64_t bytes[3] = {100, 1000, 10};
    for (int t = 0; t < 3; t++) {
        int imp = t == 1;
        ip2[t][0] = PY(imp ? NCODE : 0);
        ip2[t][1] = PY(imp ? NCODE : NCODE - 1);
        t2[t] = (struct snap_trace){.depth = 2, .ips = ip2[t]};
        v2[t] = (struct hsnap_stat){0};
        v2[t].live_count = 1, v2[t].live_bytes = bytes[t];
    }
    s.ntraces = 3, s.traces = t2, s.stats = v2;
    s.pycodes = c2, s.npycodes = NCODE + 1;
    s.serial = 2;
    struct stats_opts o = {.key = KEY_LINENO, .python_only = 1, .fold = 1};
    struct stats *st = stats_new(&o);
    expect_true(st && stats_add(st, &s) == 0, "stats");
    size_t n;
    struct stat_entry **e = stats_sort(st, 0, &n);
    int imp = 0, own = 0;
    char k[256];
    for (size_t i = 0; e && i < n; i++) {
        stats_key(KEY_LINENO, e[i], k, sizeof k);
        imp += !strcmp(k, "[import machinery]") && e[i]->size == 1000;
        own += !strncmp(k, "a.py:", 5) && e[i]->size == 110;
    }
    expect_true(e && n == 2 && imp == 1 && own == 1,
                "two groups: the folded imports' 1000 B, a.py's 110 B");
    stats_free(st);
}
TEST_END

int main(void)
{
    stats_top_gives_the_sorts_first_groups_ties_included();
    traces_added_in_chunks_make_stats_adds_groups();
    folded_import_stack_is_its_own_group();
    frames_fini();
    return 0;
}
