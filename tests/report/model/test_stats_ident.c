// link: report/model/stats.c report/model/statkey.c report/model/statorder.c report/model/pyfold.c report/model/pycollected.c report/base/progress.c report/symbols/frames.c report/symbols/frameview.c report/symbols/framefilter.c report/symbols/fchain.c report/symbols/judge.c report/symbols/tmlike.c report/symbols/framerec.c report/symbols/wrappers.c report/symbols/tmpl.c report/symbols/sym.c report/symbols/debugcache.c report/symbols/demangle.c report/symbols/symtab.c report/symbols/cuindex.c report/symbols/dbgsym.c report/load/lset.c report/load/snap.c report/load/threadsread.c report/load/snapfile.c report/load/inflate.c report/load/iptab.c report/load/stateread.c report/load/statenote.c report/load/section.c report/load/peakread.c report/load/sitelineread.c report/load/pycode.c report/load/pytypes.c report/load/pyretainread.c report/load/pygcfreedread.c report/base/grow.c report/base/fmt.c report/base/json.c report/base/cli.c report/base/input.c report/base/escape.c report/base/bigmem.c report/base/hidx.c
/*
 * test_stats_ident.c - a site's group is found by its frame's ident after
 * its first trace (stats.c's charge_frame): the sums per line, file and
 * function are those of the traces at each site, a trace of the mmap kind
 * at a malloc site's line is a group of its own, and --key module (a
 * Python frame's module is its file's) and --cumulative add up as well.
 */
#include <string.h>

#include "stats.h"
#include "unit.h"

#define PY(code) (HSNAP_PY_TAG | (uint64_t)(code) << HSNAP_PY_CODE_SHIFT)
#define NT 5

static const uint64_t ips[NT][3] = {
    {PY(0), 0x1000, PY(1)},  /* app.py:10 main, under app.py:20 run */
    {PY(2), 0x1000, PY(1)},  /* lib.py:30 go */
    {PY(0), 0x1004, PY(1)},  /* app.py:10 again, another C frame */
    {PY(0), 0x1000, PY(1)},  /* app.py:10, a mapping */
    {PY(3), 0x1000, PY(1)},  /* lib.py:40 main: main again, in lib.py */
};
static const uint16_t flags[NT] = {0, 0, 0, HSNAP_TRACE_MMAP, 0};
static struct snap_pycode codes[4] = {{10, "app.py", "main", NULL, 0},
                                      {20, "app.py", "run", NULL, 0},
                                      {30, "lib.py", "go", NULL, 0},
                                      {40, "lib.py", "main", NULL, 0}};
static struct snap_trace tr[NT];
static struct hsnap_stat sv[NT];
static struct snap s;

static void build(void)
{
    memset(&s, 0, sizeof s);
    for (int t = 0; t < NT; t++) {
        tr[t] = (struct snap_trace){.depth = 3, .flags = flags[t], .ips = ips[t]};
        sv[t] = (struct hsnap_stat){0};
        sv[t].live_count = (uint64_t)t + 1;
        sv[t].live_bytes = 100u << t;
    }
    s.ntraces = NT, s.traces = tr, s.stats = sv;
    s.pycodes = codes, s.npycodes = 4;
    s.serial = 1;
}

/* The group keyed name (and of the mmap kind or not): its size, or -1. */
static int64_t size_of(struct stats *st, enum stats_key key, const char *name, int mmap)
{
    size_t n;
    char k[256];
    struct stat_entry **e = stats_sort(st, 0, &n);
    for (size_t i = 0; e && i < n; i++) {
        stats_key(key, e[i], k, sizeof k);
        if (!strcmp(k, name) && e[i]->mmap == mmap)
            return e[i]->size;
    }
    return -1;
}

static struct stats *by(enum stats_key key, int cumulative)
{
    struct stats_opts o = {.key = key, .cumulative = cumulative};
    struct stats *st = stats_new(&o);
    return st && stats_add(st, &s) == 0 ? st : NULL;
}

TEST_BEGIN(site_groups_by_ident_sum_their_traces)
{
    build();
    struct stats *st = by(KEY_LINENO, 0);
    expect_true(st != NULL, "stats");
    expect_eq_u64(size_of(st, KEY_LINENO, "app.py:10", 0), 100 + 400);
    expect_eq_u64(size_of(st, KEY_LINENO, "app.py:10", 1), 800);
    expect_eq_u64(size_of(st, KEY_LINENO, "lib.py:30", 0), 200);
    expect_eq_u64(size_of(st, KEY_LINENO, "lib.py:40", 0), 1600);
    stats_free(st);
    st = by(KEY_FILENAME, 0);
    expect_eq_u64(size_of(st, KEY_FILENAME, "app.py:0", 0), 500);
    expect_eq_u64(size_of(st, KEY_FILENAME, "lib.py:0", 0), 1800);
    stats_free(st);
    st = by(KEY_FUNCTION, 0);
    expect_eq_u64(size_of(st, KEY_FUNCTION, "main", 0), 100 + 400 + 1600);
    expect_eq_u64(size_of(st, KEY_FUNCTION, "go", 0), 200);
    stats_free(st);
    st = by(KEY_MODULE, 0);
    expect_eq_u64(size_of(st, KEY_MODULE, "app", 0), 500);
    expect_eq_u64(size_of(st, KEY_MODULE, "lib", 0), 1800);
    stats_free(st);
    st = by(KEY_LINENO, 1);
    expect_eq_u64(size_of(st, KEY_LINENO, "app.py:20", 0), 100 + 200 + 400 + 1600);
    expect_eq_u64(size_of(st, KEY_LINENO, "app.py:20", 1), 800);
    expect_eq_u64(size_of(st, KEY_LINENO, "app.py:10", 0), 500);
    stats_free(st);
    frames_fini();
}
TEST_END

int main(void)
{
    site_groups_by_ident_sum_their_traces();
    return 0;
}
