// link: report/symbols/frames.c report/symbols/frameview.c report/symbols/framefilter.c report/symbols/fchain.c report/symbols/judge.c report/symbols/tmlike.c report/symbols/framerec.c report/symbols/wrappers.c report/symbols/tmpl.c report/symbols/sym.c report/symbols/debugcache.c report/symbols/demangle.c report/symbols/symtab.c report/symbols/cuindex.c report/symbols/dbgsym.c report/load/lset.c report/load/snap.c report/load/threadsread.c report/load/snapfile.c report/load/inflate.c report/load/iptab.c report/load/stateread.c report/load/statenote.c report/load/section.c report/load/peakread.c report/load/sitelineread.c report/load/pycode.c report/load/pytypes.c report/load/pyretainread.c report/load/pygcfreedread.c report/base/grow.c report/base/fmt.c report/base/json.c report/base/cli.c report/base/input.c report/base/escape.c report/base/bigmem.c report/base/hidx.c
/*
 * test_fchain.c - a compressed TRACES' traces expand through their nodes'
 * chains (frames.c, fchain.c) to the very stacks their ips give one by
 * one: the same frames, site and Python frames, so the same lines, for
 * traces that share outer nodes, for two that differ in a C frame only,
 * for a trace flagged tracemalloc's own beside an unflagged one of the
 * same node (its tm_own frame is its alone), for a word of an unloaded
 * module (whose records depend on the trace), with a Python stack's
 * native words left out (frames_python_frames_only), and with a Python
 * stack cut to its site frame (frames_site_only, run's summary).
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "fchain.h"
#include "frames.h"
#include "snap.h"
#include "unit.h"

#define PY(code, off) (HSNAP_PY_TAG | (uint64_t)(code) << HSNAP_PY_CODE_SHIFT | (off))
#define NT 9
#define MAXD 6

/* innermost first; 0 ends */
static const uint64_t ips[NT][MAXD] = {
    {PY(0, 0), 0x1000, PY(1, 0), 0x2000},
    {PY(2, 0), 0x1000, PY(1, 0), 0x2000},       /* shares three outer frames with 0 */
    {0x3000, PY(1, 0), 0x2000},                 /* C under Python; 0x3000 unloaded */
    {PY(0, 0), 0x1004, PY(1, 0), 0x2000},       /* 0's Python frames, another C one */
    {0x4000, 0x2000},                           /* native only */
    {PY(0, 0), 0x1000, PY(1, 0), 0x2000},       /* 0's node, tracemalloc's own */
    {0x3000, 0x4000, 0x2000},                   /* unloaded word, Python-free */
    {PY(2, 0), 0x1000, PY(1, 0), 0x2000},       /* 1's node again */
    {0x3000, PY(1, 0), 0x2000},                 /* 2's node, libnew's by then */
};
static const uint16_t flags[NT] = {0, 0, 0, 0, 0, HSNAP_TRACE_TMOWN, 0, 0, HSNAP_TRACE_MMAP};

static struct snap_pycode codes[3] = {
    {10, "app.py", "main", NULL, 0}, {20, "app.py", "run", NULL, 0}, {30, "lib.py", "go", NULL, 0}};
/* 0x3000 was libgone's until trace 3, then libnew's (no build-id: the
 * loader's pointer into the file, of no bytes) */
static uint8_t no_id[1];
static struct snap_module mods[2] = {
    {0, 0x3000, 0x3100, "/nonexistent/libnew.so", no_id, 0, 0, 0},
    {0, 0x3000, 0x3100, "/nonexistent/libgone.so", no_id, 0, HSNAP_MODULE_UNLOADED, 3}};

static int depth_of(int t)
{
    int d = 0;
    while (d < MAXD && ips[t][d])
        d++;
    return d;
}

/* Both snapshots: a by the ips of each trace, b by a tree of nodes. */
static uint64_t flat[NT][MAXD], iptab[NT * MAXD];
static struct snap_node nodes[NT * MAXD + 1];
static struct snap_trace ta[NT], tb[NT];

static void build(struct snap *a, struct snap *b, uint64_t serial)
{
    uint32_t nn = 0, nips = 0;
    memset(a, 0, sizeof *a);
    for (int t = 0; t < NT; t++) {
        int d = depth_of(t);
        uint32_t node = 0;
        memcpy(flat[t], ips[t], sizeof flat[t]);
        ta[t] = (struct snap_trace){.depth = (uint16_t)d, .flags = flags[t], .ips = flat[t]};
        for (int h = d - 1; h >= 0; h--) { /* from the outermost in */
            uint32_t ipx = 0, kid = 0;
            while (ipx < nips && iptab[ipx] != ips[t][h])
                ipx++;
            if (ipx == nips)
                iptab[nips++] = ips[t][h];
            for (uint32_t k = 1; k <= nn && !kid; k++)
                kid = nodes[k].parent == node && nodes[k].ipx == ipx ? k : 0;
            if (!kid)
                nodes[kid = ++nn] = (struct snap_node){node, ipx};
            node = kid;
        }
        tb[t] = (struct snap_trace){.depth = (uint16_t)d, .flags = flags[t], .node = node};
    }
    a->ntraces = NT, a->traces = ta;
    a->nmodules = 2, a->modules = mods;
    a->pycodes = codes, a->npycodes = 3;
    a->serial = serial;
    *b = *a;
    b->traces = tb, b->iptab = iptab, b->nodes = nodes, b->nnodes = nn;
    b->serial = serial + 1;
}

static int same(const struct frames_trace *x, const struct frames_trace *y)
{
    if (!x || !y || x->n != y->n || x->site != y->site || x->first != y->first ||
        x->nwrap != y->nwrap || x->npy != y->npy || x->shown != y->shown)
        return 0;
    for (int i = 0; i < x->n; i++)
        if (x->fr[i] != y->fr[i] || x->fr[i]->line != y->fr[i]->line)
            return 0;
    return 1;
}

TEST_BEGIN(chains_give_the_stacks_of_the_ips)
{
    struct snap a, b;
    build(&a, &b, 1);
    const struct frames_trace *sb[NT];
    for (int t = NT - 1; t >= 0; t--) /* the tree's first, innermost traces first */
        sb[t] = frames_get(&b, (uint32_t)t);
    for (int t = 0; t < NT; t++)
        expect_true(same(frames_get(&a, (uint32_t)t), sb[t]), "trace %d differs", t);
    expect_true(sb[0] != sb[3], "two return addresses: two stacks");
    expect_true(sb[0]->n == 4 && sb[0]->fr[sb[0]->site]->line == 10, "main's line is the site");
    expect_true(sb[5]->n == sb[0]->n + 1 && !strcmp(sb[5]->fr[0]->func, "tracemalloc"),
                "tracemalloc's own frame is the flagged trace's alone");
    expect_true(sb[1] == sb[7], "one node, one stack");
    expect_str_eq(sb[2]->fr[0]->module, "libgone.so");
    expect_str_eq(sb[6]->fr[0]->module, "libnew.so");
    expect_str_eq(sb[8]->fr[0]->module, "libnew.so");
    frames_fini();
}
TEST_END

TEST_BEGIN(python_only_chains_give_the_same_lines)
{
    struct snap a, b;
    frames_fini();
    frames_python_frames_only();
    build(&a, &b, 1);
    for (int t = 0; t < NT; t++)
        expect_true(same(frames_get(&b, (uint32_t)t), frames_get(&a, (uint32_t)t)),
                    "trace %d differs", t);
    const struct frames_trace *x = frames_get(&b, 0), *n = frames_get(&b, 4);
    expect_true(x->n == 2 && x->npy == 2 && x->fr[0]->line == 10 && x->fr[1]->line == 20,
                "a Python stack is its Python frames: %d, %d, %d", x->n, x->npy, x->fr[0]->line);
    expect_true(x == frames_get(&b, 3), "the same Python frames: one stack");
    expect_true(n->n == 2 && !n->npy, "a native stack keeps its frames");
    expect_true(frames_get(&b, 2)->n == 1, "C under Python: the Python frame alone");
    frames_fini();
}
TEST_END

/* Each trace's site line and function under the modes set so far, with
 * lib.py's go as an allocation function (a wrapper: the site is past it);
 * 0 when it cannot be added or a trace's two forms differ in their site. */
static int sites(int line[NT], char func[NT][16], int *n1, int *n5)
{
    struct snap a, b;
    char err[256];
    int ok = 1;
    frames_fini();
    if (frames_alloc_fn_add("go", err, sizeof err) < 0)
        return 0;
    build(&a, &b, 1);
    for (int t = 0; t < NT; t++) {
        const struct frames_trace *x = frames_get(&b, (uint32_t)t), *y = frames_get(&a, (uint32_t)t);
        ok = ok && x && y && x->fr[x->site] == y->fr[y->site];
        line[t] = x ? x->fr[x->site]->line : -1;
        snprintf(func[t], 16, "%s", x ? x->fr[x->site]->func : "");
    }
    *n1 = frames_get(&b, 1)->n, *n5 = frames_get(&b, 5)->n;
    frames_fini();
    return ok;
}

TEST_BEGIN(site_only_stacks_keep_the_python_only_sites)
{
    int lw[NT], ls[NT], n1, n5, m1, m5;
    char fw[NT][16], fs[NT][16];
    frames_python_frames_only();
    expect_true(sites(lw, fw, &n1, &n5), "python only: a site differs");
    frames_site_only();
    expect_true(sites(ls, fs, &m1, &m5), "site only: a site differs");
    for (int t = 0; t < NT; t++)
        expect_true(lw[t] == ls[t] && !strcmp(fw[t], fs[t]), "trace %d: %s:%d, site only %s:%d",
                    t, fw[t], lw[t], fs[t], ls[t]);
    expect_true(ls[1] == 20 && !strcmp(fs[1], "run"), "past the wrapper go: %s", fs[1]);
    expect_true(n1 == 2 && m1 == 1, "the site alone: %d frames, %d", n1, m1);
    expect_true(m5 == n5 && m5 > 1, "tracemalloc's own: the whole stack (%d, %d)", n5, m5);
}
TEST_END

/* fchain_push takes again the chain made right after the parent when it
 * has the frame, and makes any other: the same frames pushed apart are
 * two chains (fchain.c: no table), each reading back as pushed. */
TEST_BEGIN(chains_taken_again_beside_their_parent_only)
{
    static const struct frame fa, fb, fc;
    fchain_fini();
    int64_t a = fchain_push(&fa, 0, 0, 0), ab = fchain_push(&fb, 0, 0, (uint32_t)a);
    int64_t a2 = fchain_push(&fa, 0, 0, 0), ab2 = fchain_push(&fb, 0, 0, (uint32_t)a2);
    int64_t c = fchain_push(&fc, 0, 0, 0), cb = fchain_push(&fb, 1, 2, (uint32_t)c);
    int64_t c2 = fchain_push(&fc, 0, 0, 0); /* chain 1 (fa) is 0's next: a new one */
    expect_true(a == 1 && ab == 2 && a2 == a && ab2 == ab, "%lld %lld %lld %lld", (long long)a,
                (long long)ab, (long long)a2, (long long)ab2);
    expect_true(c == 3 && cb == 4 && c2 == 5, "%lld %lld %lld", (long long)c, (long long)cb,
                (long long)c2);
    const struct frame *fr[2] = {NULL, NULL};
    fchain_frames((uint32_t)cb, fr);
    const struct fchain *k = fchain_at((uint32_t)cb);
    expect_true(fr[0] == &fb && fr[1] == &fc && k->len == 2 && k->npy == 1 && k->bits == 2,
                "chain %lld: %p %p, len %u, npy %u, bits %u", (long long)cb, (const void *)fr[0],
                (const void *)fr[1], k->len, k->npy, k->bits);
    fchain_frames((uint32_t)c2, fr);
    expect_true(fr[0] == &fc && fchain_at((uint32_t)c2)->len == 1, "chain %lld", (long long)c2);
    fchain_fini();
}
TEST_END

int main(void)
{
    chains_taken_again_beside_their_parent_only();
    chains_give_the_stacks_of_the_ips();
    python_only_chains_give_the_same_lines();
    site_only_stacks_keep_the_python_only_sites();
    return 0;
}
