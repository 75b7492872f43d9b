// link: report/model/supp.c report/model/cpysupp.c report/model/pypath.c report/symbols/codename.c report/base/grow.c report/symbols/frames.c report/symbols/frameview.c report/symbols/framefilter.c report/symbols/fchain.c report/symbols/judge.c report/symbols/tmlike.c report/symbols/framerec.c report/symbols/wrappers.c report/symbols/tmpl.c report/symbols/sym.c report/symbols/debugcache.c report/symbols/demangle.c report/symbols/symtab.c report/symbols/cuindex.c report/symbols/dbgsym.c report/load/lset.c report/load/snap.c report/load/threadsread.c report/load/snapfile.c report/load/inflate.c report/load/iptab.c report/load/stateread.c report/load/statenote.c report/load/section.c report/load/peakread.c report/load/sitelineread.c report/load/pycode.c report/load/pytypes.c report/load/pyretainread.c report/load/pygcfreedread.c report/base/fmt.c report/base/json.c report/base/cli.c report/base/input.c report/base/escape.c report/base/bigmem.c report/base/hidx.c
/*
 * test_supp.c - the suppression matcher on synthetic frames: LeakSanitizer
 * templates (substring, '*', '^', '$', any frame, function/file/module),
 * Valgrind blocks (fun/obj/src, globs, "...", prefix match, leading
 * allocator frames optional, match-leak-kinds), parse errors with
 * FILE:LINE, blocks of other tools skipped, match counting,
 * heapsnap:LeakedRef blocks (type, excess, path, frames; never a loss
 * record, and a Memcheck block never an object), and the built-in
 * entries' reach (numpy's buffer info and logaddexp identities, pandas'
 * module and TextReader bytes, pybind11 3.0.0-3.0.2's function record
 * objects).
 */
#include <stdio.h>
#include <string.h>

#include "frames.h"
#include "snap.h"
#include "supp.h"
#include "unit.h"

/* main -> make_list -> make_node -> strdup(wrapper) : innermost first */
static const struct frame frame_recs[] = {
    {0x10, "strdup", "??", "??", 0, "libc.so.6", "/lib/x86_64-linux-gnu/libc.so.6", 0, NULL, 0},
    {0x20, "make_node", "src/list.c", "src/list.c", 5, "app", "/opt/app/bin/app", 0, NULL, 1},
    {0x30, "make_list", "src/list.c", "src/list.c", 13, "app", "/opt/app/bin/app", 0, NULL, 2},
    {0x40, "main", "src/main.c", "src/main.c", 23, "app", "/opt/app/bin/app", 0, NULL, 3},
};
static const struct frame *const frames[] = {&frame_recs[0], &frame_recs[1], &frame_recs[2],
                                             &frame_recs[3]};
#define NF 4
#define SITE 1

static char err[512];

/* A set with the built-in suppressions of one Python snapshot (exe,
 * version) read from path; NULL with err said. */
static struct supp_set *builtin_set(const char *exe, uint32_t version, const char *path)
{
    struct snap snap;
    memset(&snap, 0, sizeof snap);
    snap.exe = (char *)exe;
    snap.py_version = version;
    char *paths[] = {(char *)path};
    struct supp_set *ss = NULL;
    if (supp_add_snaps(&ss, &snap, paths, 1, err, sizeof(err)) != 0)
        return NULL;
    return ss;
}

/* Index matched by text's suppressions for kind k, or -1; -2 on a parse error. */
static int match_text(const char *text, enum lossrec_kind k)
{
    struct supp_set *ss = supp_new();
    int r = supp_parse(ss, text, "t.supp", err, sizeof(err)) < 0
                ? -2 : supp_match(ss, k, frames, NF, SITE);
    supp_free(ss);
    return r;
}

TEST_BEGIN(test_lsan_templates)
{
    static const struct { const char *text; int want; } cases[] = {
        {"leak:make_list\n", 0},         {"leak:ake_li\n", 0},       /* substring */
        {"leak:^make_\n", 0},            {"leak:^ake\n", -1},        /* anchored start */
        {"leak:_list$\n", 0},            {"leak:_lis$\n", -1},       /* anchored end */
        {"leak:make*node\n", 0},         {"leak:main.c\n", 0},       /* '*', file */
        {"leak:libc.so\n", 0},           {"leak:/opt/app/\n", 0},    /* module, path */
        {"leak:nothing\n", -1},          {"# c\n\nleak:nothing\nleak:main\n", 1},
        {"leak:^main$\n", 0},            {"leak:^mai$\n", -1},
    };
    for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++)
        expect_true(match_text(cases[i].text, LOSSREC_DIRECT) == cases[i].want,
                    "case %zu (%s): got %d want %d", i, cases[i].text,
                    match_text(cases[i].text, LOSSREC_DIRECT), cases[i].want);
}
TEST_END

TEST_BEGIN(test_lsan_kinds)
{
    expect_true(match_text("leak:main\n", LOSSREC_INDIRECT) == 0, "indirect");
    expect_true(match_text("leak:main\n", LOSSREC_CYCLE) == 0, "cycle");
    expect_true(match_text("leak:main\n", LOSSREC_POSSIBLE) == 0, "possible");
    expect_true(match_text("leak:main\n", LOSSREC_REACHABLE) == -1, "reachable must not match");
}
TEST_END

#define VG(body) "{\n   n\n   Memcheck:Leak\n" body "}\n"

TEST_BEGIN(test_valgrind_frames)
{
    static const struct { const char *text; int want; } cases[] = {
        {VG("   fun:strdup\n   fun:make_node\n"), 0},
        {VG("   fun:make_node\n"), -1},                       /* innermost first */
        {VG("   ...\n   fun:make_list\n"), 0},                /* "..." skips frames */
        {VG("   fun:strdup\n   ...\n   fun:main\n"), 0},
        {VG("   fun:strdup\n   ...\n   fun:nope\n"), -1},
        {VG("   fun:str*\n   fun:make_?ode\n"), 0},           /* globs */
        {VG("   fun:make\n"), -1},                            /* whole string */
        {VG("   obj:*/libc.so*\n   obj:/opt/app/bin/app\n"), 0},
        {VG("   fun:strdup\n   src:list.c:5\n"), 0},          /* src: basename + line */
        {VG("   fun:strdup\n   src:list.c:6\n"), -1},
        {VG("   fun:strdup\n   src:src/list.c\n"), 0},        /* shown path, any line */
        {VG("   fun:malloc\n   fun:strdup\n"), 0},            /* unrecorded allocator */
        {VG("   fun:_Znwm\n   fun:malloc\n   fun:strdup\n"), 0},
        {VG("   fun:free\n   fun:strdup\n"), -1},             /* not an allocator */
        {VG("   fun:strdup\n   fun:make_node\n   fun:make_list\n   fun:main\n   fun:_start\n"), -1},
    };
    for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++)
        expect_true(match_text(cases[i].text, LOSSREC_DIRECT) == cases[i].want,
                    "case %zu: got %d want %d (%s)", i, match_text(cases[i].text, LOSSREC_DIRECT),
                    cases[i].want, err);
}
TEST_END

TEST_BEGIN(test_valgrind_kinds)
{
    const char *def = VG("   match-leak-kinds: definite\n   fun:strdup\n");
    const char *two = VG("   match-leak-kinds: indirect,possible\n   fun:strdup\n");
    expect_true(match_text(def, LOSSREC_DIRECT) == 0, "definite covers direct");
    expect_true(match_text(def, LOSSREC_CYCLE) == 0, "definite covers cycle");
    expect_true(match_text(def, LOSSREC_INDIRECT) == -1, "definite is not indirect");
    expect_true(match_text(two, LOSSREC_POSSIBLE) == 0, "possible listed");
    expect_true(match_text(two, LOSSREC_DIRECT) == -1, "direct not listed");
    expect_true(match_text(VG("   fun:strdup\n"), LOSSREC_REACHABLE) == 0, "no kinds line = all");
    expect_true(match_text(VG("   match-leak-kinds: all\n   fun:strdup\n"), LOSSREC_REACHABLE) == 0,
                "all");
}
TEST_END

TEST_BEGIN(test_other_tools_skipped)
{
    const char *text = "{\n  cond\n  Memcheck:Cond\n  fun:strdup\n}\n"
                       "{\n  race\n  Helgrind:Race\n  fun:x\n  obj:y\n}\n"
                       "leak:main\n";
    struct supp_set *ss = supp_new();
    expect_true(supp_parse(ss, text, "t.supp", err, sizeof(err)) == 0, "parse: %s", err);
    expect_eq_u64(supp_count(ss), 1);
    expect_str_eq(supp_get(ss, 0)->name, "leak:main");
    expect_eq_u64(supp_get(ss, 0)->line, 12);
    supp_free(ss);
}
TEST_END

TEST_BEGIN(test_parse_errors)
{
    static const struct { const char *text, *want; } cases[] = {
        {"race:foo\n", "t.supp:1: unknown suppression 'race:foo'"},
        {"\nleak:\n", "t.supp:2: empty pattern after 'leak:'"},
        {"{\n  n\n  Memcheck:Leak\n  fun:a\n", "has no closing '}'"},
        {"{\n  n\n  Memcheck:Leak\n  bogus\n}\n", "t.supp:4: bad frame line 'bogus'"},
        {"{\n  n\n  Memcheck:Leak\n  match-leak-kinds: lots\n  fun:a\n}\n",
         "t.supp:4: bad match-leak-kinds"},
        {"{\n  n\n  Memcheck:Leak\n}\n", "has no frame lines"},
        {"{\n}\n", "without a name"},
    };
    for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        err[0] = 0;
        expect_true(match_text(cases[i].text, LOSSREC_DIRECT) == -2, "case %zu parsed", i);
        expect_true(strstr(err, cases[i].want) != NULL, "case %zu: \"%s\" lacks \"%s\"", i,
                    err, cases[i].want);
    }
}
TEST_END

TEST_BEGIN(test_charge_and_stale)
{
    struct supp_set *ss = supp_new();
    expect_true(supp_parse(ss, "leak:make_list\nleak:gone\n" VG("   fun:x\n"), "t.supp",
                           err, sizeof(err)) == 0, "parse: %s", err);
    int i = supp_match(ss, LOSSREC_DIRECT, frames, NF, SITE);
    expect_true(i == 0, "matched %d", i);
    supp_charge(ss, i, 48, 3);
    supp_charge(ss, i, 16, 1);
    expect_eq_u64(supp_get(ss, 0)->records, 2);
    expect_eq_u64(supp_get(ss, 0)->bytes, 64);
    expect_eq_u64(supp_get(ss, 0)->blocks, 4);
    expect_eq_u64(supp_get(ss, 1)->records, 0);
    expect_eq_u64(supp_get(ss, 2)->valgrind, 1);
    expect_eq_u64(supp_get(ss, 2)->line, 3);
    expect_str_eq(supp_get(ss, 2)->name, "n");
    supp_free(ss);
}
TEST_END

/* The built-in suppressions of a Python process's snapshot: numpy's
 * buffer info matches a "possibly lost" block numpy's core made, not a
 * direct one, and the listing shows the one that matched alone, even
 * when a stale built-in one comes before it (tracemalloc's was listed
 * "stale" to every numpy program); a finding keeps its own index. */
TEST_BEGIN(test_builtin_listed_when_matched)
{
    static const struct frame np_recs[] = {
        {0x10, "_multiarray_umath.cpython-311-x86_64-linux-gnu.so+0x1059e6", "??", "??", 0,
         "_multiarray_umath.cpython-311-x86_64-linux-gnu.so",
         "/usr/lib/python3/dist-packages/numpy/core/_multiarray_umath.cpython-311-x86_64-linux-gnu.so",
         0, NULL, 0},
        {0x20, "_multiarray_umath.cpython-311-x86_64-linux-gnu.so+0x105d9b", "??", "??", 0,
         "_multiarray_umath.cpython-311-x86_64-linux-gnu.so",
         "/usr/lib/python3/dist-packages/numpy/core/_multiarray_umath.cpython-311-x86_64-linux-gnu.so",
         0, NULL, 1},
        {0x30, "<module>", "<string>", "<string>", 1, "<string>", "", 0, "__main__", 2},
    };
    const struct frame *const np[] = {&np_recs[0], &np_recs[1], &np_recs[2]};
    struct supp_set *ss = builtin_set("/usr/bin/python3.11", 0x030b0000, "n.hsnap");
    expect_true(ss != NULL, "add: %s", err);
    expect_eq_u64(supp_count(ss), 0);
    expect_true(supp_match(ss, LOSSREC_DIRECT, np, 3, 2) == -1, "a direct leak is not numpy's");
    int i = supp_match(ss, LOSSREC_POSSIBLE, np, 3, 2);
    expect_true(i > 0, "matched %d", i);
    supp_charge(ss, i, 56, 1);
    expect_eq_u64(supp_count(ss), 1);
    expect_true(strstr(supp_get(ss, 0)->name, "numpy") != NULL, "listed: %s", supp_get(ss, 0)->name);
    expect_true(supp_matched(ss, i) == supp_get(ss, 0), "the finding's index");
    supp_free(ss);
}
TEST_END

/* pybind11 3.0.0-3.0.2's function record object (cpysupp.c): a direct
 * leak at function_record_PyObject_New inlined into initialize_generic
 * (debug information) or at initialize_generic alone (symbols only) is
 * suppressed; the same block possibly lost is not, nor a direct leak
 * whose site is another function with initialize_generic further out
 * (a strdup'd name a caller leaked). */
TEST_BEGIN(test_builtin_pybind11_function_record)
{
#define PB_SO "/usr/lib/python3/dist-packages/torch/lib/libtorch_python.so"
#define PB_IG "pybind11::cpp_function::initialize_generic(std::unique_ptr<pybind11::detail::" \
              "function_record, pybind11::cpp_function::InitializingFunctionRecordDeleter>&&, " \
              "char const*, std::type_info const* const*, unsigned long)"
    static const struct frame pb_recs[] = {
        {0x10, "pybind11::detail::function_record_PyObject_New()",
         "pybind11/detail/function_record_pyobject.h", "pybind11/detail/function_record_pyobject.h",
         134, "libtorch_python.so", PB_SO, 1, NULL, 0},
        {0x10, PB_IG, "pybind11/pybind11.h", "pybind11/pybind11.h", 634, "libtorch_python.so", PB_SO,
         0, NULL, 1},
        {0x20, "EffectHolder._set_default_effect", "torch/_library/effects.py",
         "torch/_library/effects.py", 53, "<python>", "", 0, "torch._library.effects", 2},
        {0x30, "make_name", "src/names.cc", "src/names.cc", 9, "libapp.so", "/opt/app/libapp.so", 0,
         NULL, 3},
    };
    const struct frame *const inlined[] = {&pb_recs[0], &pb_recs[1], &pb_recs[2]};
    const struct frame *const bare[] = {&pb_recs[1], &pb_recs[2]};
    const struct frame *const other[] = {&pb_recs[3], &pb_recs[1], &pb_recs[2]};
    struct supp_set *ss = builtin_set("/usr/bin/python3.12", 0x030c0000, "t.hsnap");
    expect_true(ss != NULL, "add: %s", err);
    int i = supp_match(ss, LOSSREC_DIRECT, inlined, 3, 0);
    expect_true(i >= 0 && supp_matched(ss, i)->builtin &&
                    strstr(supp_matched(ss, i)->name, "pybind11 3.0.0-3.0.2") != NULL,
                "inlined: matched %d", i);
    i = supp_match(ss, LOSSREC_DIRECT, bare, 2, 0);
    expect_true(i >= 0 && supp_matched(ss, i)->builtin &&
                    strstr(supp_matched(ss, i)->name, "pybind11 3.0.0-3.0.2") != NULL,
                "symbols only: matched %d", i);
    expect_true(supp_match(ss, LOSSREC_POSSIBLE, inlined, 3, 0) == -1, "possibly lost: not pybind11's");
    expect_true(supp_match(ss, LOSSREC_INDIRECT, bare, 2, 0) == -1, "indirect: not pybind11's");
    expect_true(supp_match(ss, LOSSREC_DIRECT, other, 3, 0) == -1, "another site: not pybind11's");
    supp_free(ss);
#undef PB_SO
#undef PB_IG
}
TEST_END

#define LR(body) "{\n   r\n   heapsnap:LeakedRef\n" body "}\n"

/* Index of text's suppressions matching o, -1, or -2 on a parse error. */
static int match_obj(const char *text, const struct supp_pyobj *o)
{
    struct supp_set *ss = supp_new();
    int r = supp_parse(ss, text, "t.supp", err, sizeof(err)) < 0 ? -2 : supp_match_pyobj(ss, o);
    supp_free(ss);
    return r;
}

/* A leaked reference's block: type, excess and path each exact or a
 * glob, frames from the first shown; a LeakedRef block never matches a
 * loss record, nor a Memcheck block an object. */
TEST_BEGIN(test_leakedref_blocks)
{
    struct supp_pyobj o = {"float", 4, "outside (C code or the interpreter) -> float", frames + 1,
                           NF - 1};
    static const struct { const char *text; int want; } cases[] = {
        {LR("   match-type: float\n"), 0},
        {LR("   match-type: flo*\n   match-excess: 4\n"), 0},
        {LR("   match-excess: 5\n"), -1},                              /* exact */
        {LR("   match-type: bytes\n   match-excess: 4\n"), -1},
        {LR("   match-path: outside*\n"), 0},
        {LR("   match-path: sys.modules*\n"), -1},
        {LR("   match-excess: 4\n   fun:make_node\n   fun:make_list\n"), 0},
        {LR("   match-excess: 4\n   ...\n   fun:main\n"), 0},
        {LR("   match-excess: 4\n   fun:strdup\n"), -1},  /* from the first frame shown */
        {VG("   fun:make_node\n") LR("   match-excess: 4\n"), 1},   /* Memcheck: no object */
    };
    for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++)
        expect_true(match_obj(cases[i].text, &o) == cases[i].want, "case %zu: got %d want %d (%s)",
                    i, match_obj(cases[i].text, &o), cases[i].want, err);
    for (int k = 0; k < LOSSREC_NKINDS; k++)
        expect_true(match_text(LR("   match-type: *\n   fun:make_node\n"), (enum lossrec_kind)k) == -1,
                    "a LeakedRef block matched a loss record of kind %d", k);
    static const struct { const char *text, *want; } bad[] = {
        {LR(""), "t.supp:4: block 'r' matches every object"},
        {LR("   match-excess: 0\n"), "t.supp:4: bad match-excess '0'"},
        {LR("   match-excess: many\n"), "bad match-excess 'many'"},
        {LR("   match-type: a\n   match-type: b\n"), "t.supp:5: a second 'match-type:' line"},
        {LR("   match-path:\n"), "empty 'match-path:'"},
        {LR("   fun:x\n   match-type: float\n"), "bad frame line 'match-type: float'"},
    };
    for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
        err[0] = 0;
        expect_true(match_obj(bad[i].text, &o) == -2, "bad case %zu parsed", i);
        expect_true(strstr(err, bad[i].want) != NULL, "bad case %zu: \"%s\" lacks \"%s\"", i, err,
                    bad[i].want);
    }
}
TEST_END

/* The built-in LeakedRef entries, on Debian 13's stacks (no debug
 * information): numpy's -inf identities (a float, 4 over, made in numpy's
 * core), pandas' module (2 over, sys.modules['pandas']) and TextReader's
 * bytes (1 over, and its block a direct leak, under CParserWrapper); the
 * same type or count made elsewhere, or one count more, is no match. */
TEST_BEGIN(test_builtin_numpy_pandas_leaked_refs)
{
#define UM "/usr/lib/python3/dist-packages/numpy/_core/_multiarray_umath.cpython-313-x86_64-linux-gnu.so"
#define PS "/usr/lib/python3/dist-packages/pandas/_libs/parsers.cpython-313-x86_64-linux-gnu.so"
    static const struct frame recs[] = {
        {0x10, "_multiarray_umath.cpython-313-x86_64-linux-gnu.so+0x2094c7", "??", "??", 0,
         "_multiarray_umath.cpython-313-x86_64-linux-gnu.so", UM, 0, NULL, 0},
        {0x20, "_multiarray_umath.cpython-313-x86_64-linux-gnu.so+0x227a4c", "??", "??", 0,
         "_multiarray_umath.cpython-313-x86_64-linux-gnu.so", UM, 0, NULL, 1},
        {0x30, "PyInit__multiarray_umath", "??", "??", 0,
         "_multiarray_umath.cpython-313-x86_64-linux-gnu.so", UM, 0, NULL, 2},
        {0x40, "_new_module", "<frozen importlib._bootstrap>", "<frozen importlib._bootstrap>", 49,
         "<python>", "", 0, "importlib._bootstrap", 3},
        {0x50, "parsers.cpython-313-x86_64-linux-gnu.so+0x6d95f", "??", "??", 0,
         "parsers.cpython-313-x86_64-linux-gnu.so", PS, 0, NULL, 4},
        {0x60, "parsers.cpython-313-x86_64-linux-gnu.so+0x72148", "??", "??", 0,
         "parsers.cpython-313-x86_64-linux-gnu.so", PS, 0, NULL, 5},
        {0x70, "CParserWrapper.__init__", "/usr/lib/python3/dist-packages/pandas/io/parsers/c_parser_wrapper.py",
         "", 93, "<python>", "", 0, "pandas.io.parsers.c_parser_wrapper", 6},
        {0x80, "lr_leaked_float", "tests/shim/python/leakref.c", "", 70, "leakref.so",
         "/tmp/leakref.so", 0, NULL, 7},
    };
    const struct frame *const umath[] = {&recs[0], &recs[1], &recs[2], &recs[3]};
    const struct frame *const mod[] = {&recs[3]};
    const struct frame *const csv[] = {&recs[4], &recs[5], &recs[6]};
    const struct frame *const ext[] = {&recs[7], &recs[3]};
    struct supp_set *ss = builtin_set("/usr/bin/python3.13", 0x030d0000, "t.hsnap");
    expect_true(ss != NULL, "add: %s", err);
    const char *outside = "outside (C code or the interpreter) -> float";
    struct supp_pyobj np = {"float", 4, outside, umath, 4};
    int i = supp_match_pyobj(ss, &np);
    expect_true(i >= 0 && supp_matched(ss, i)->builtin && supp_matched(ss, i)->pyref &&
                    strstr(supp_matched(ss, i)->name, "numpy 1.25 on") != NULL, "numpy: %d", i);
    np.excess = 5;
    expect_true(supp_match_pyobj(ss, &np) == -1, "a fifth reference is reported");
    struct supp_pyobj other = {"float", 4, outside, ext, 2};
    expect_true(supp_match_pyobj(ss, &other) == -1, "a float made elsewhere is reported");
    struct supp_pyobj pd = {"module", 2, "sys.modules['pandas'] (module)", mod, 1};
    i = supp_match_pyobj(ss, &pd);
    expect_true(i >= 0 && strstr(supp_matched(ss, i)->name, "pandas 2.1 on") != NULL, "pandas: %d", i);
    pd.path = "sys.modules['numpy'] (module)";
    expect_true(supp_match_pyobj(ss, &pd) == -1, "another module is reported");
    pd.path = "sys.modules['pandas'] (module)", pd.excess = 3;
    expect_true(supp_match_pyobj(ss, &pd) == -1, "a third reference is reported");
    struct supp_pyobj enc = {"bytes", 1, "outside (C code or the interpreter) -> bytes", csv, 3};
    i = supp_match_pyobj(ss, &enc);
    expect_true(i >= 0 && strstr(supp_matched(ss, i)->name, "pandas 1.3 on") != NULL, "bytes: %d", i);
    enc.excess = 2;
    expect_true(supp_match_pyobj(ss, &enc) == -1, "a second reference is reported");
    i = supp_match(ss, LOSSREC_DIRECT, csv, 3, 2);
    expect_true(i >= 0 && !supp_matched(ss, i)->pyref &&
                    strstr(supp_matched(ss, i)->name, "pandas 1.3 on") != NULL, "direct: %d", i);
    expect_true(supp_match(ss, LOSSREC_POSSIBLE, csv, 3, 2) == -1, "possibly lost is reported");
    expect_true(supp_match(ss, LOSSREC_DIRECT, umath, 4, 3) == -1, "numpy's float is no loss record");
    supp_free(ss);
#undef UM
#undef PS
}
TEST_END

/* The twins for HEAPSNAP_PYTHON_NATIVE=caller's stacks (the allocator's
 * caller, then Python frames): numpy's buffer info (numpy's core straight
 * under a Python frame, possibly lost), PyTorch's memory_format (1 over,
 * first shown under torch/__init__.py) and pandas' encoding_errors bytes
 * (1 over, first shown at CParserWrapper.__init__); another kind, count,
 * type or place is reported, and a whole stack's second frame in the
 * interpreter's C is no Python frame. */
TEST_BEGIN(test_builtin_caller_mode_twins)
{
#define UM "/usr/lib/python3/dist-packages/numpy/core/_multiarray_umath.cpython-311-x86_64-linux-gnu.so"
    static const struct frame recs[] = {
        {0x10, "_multiarray_umath.cpython-311-x86_64-linux-gnu.so+0x1059e6", "??", "??", 0,
         "_multiarray_umath.cpython-311-x86_64-linux-gnu.so", UM, 0, NULL, 0},
        {0x20, "_call_with_frames_removed", "<frozen importlib._bootstrap>",
         "<frozen importlib._bootstrap>", 241, "<python>", "", 0, "importlib._bootstrap", 1},
        {0x30, "<module>", "/usr/lib/python3/dist-packages/torch/__init__.py", "", 798,
         "<python>", "", 0, "torch", 2},
        {0x40, "CParserWrapper.__init__",
         "/usr/lib/python3/dist-packages/pandas/io/parsers/c_parser_wrapper.py", "", 79,
         "<python>", "", 0, "pandas.io.parsers.c_parser_wrapper", 3},
        {0x50, "_PyObject_MakeTpCall", "??", "??", 0, "python3.11", "/usr/bin/python3.11", 0,
         NULL, 4},
        {0x60, "<module>", "/usr/lib/python3/dist-packages/torch/functional.py", "", 12,
         "<python>", "", 0, "torch.functional", 5},
    };
    const struct frame *const buf[] = {&recs[0], &recs[1]};
    const struct frame *const whole[] = {&recs[0], &recs[4], &recs[1]};
    const struct frame *const init[] = {&recs[2], &recs[1]};
    const struct frame *const elsewhere[] = {&recs[5], &recs[1]};
    const struct frame *const enc[] = {&recs[3], &recs[1]};
    struct supp_set *ss = builtin_set("/usr/bin/python3.11", 0x030b0000, "t.hsnap");
    expect_true(ss != NULL, "add: %s", err);
    int i = supp_match(ss, LOSSREC_POSSIBLE, buf, 2, 0);
    expect_true(i >= 0 && strstr(supp_matched(ss, i)->name, "numpy 1.20 on") != NULL &&
                    strstr(supp_matched(ss, i)->name, "caller") != NULL, "buffer info: %d", i);
    expect_true(supp_match(ss, LOSSREC_DIRECT, buf, 2, 0) == -1, "a direct leak is reported");
    expect_true(supp_match(ss, LOSSREC_POSSIBLE, whole, 3, 0) == -1,
                "the interpreter's C is no Python frame");
    const char *outside = "outside (C code or the interpreter) -> x";
    struct supp_pyobj mf = {"torch.memory_format", 1, outside, init, 2};
    i = supp_match_pyobj(ss, &mf);
    expect_true(i >= 0 && strstr(supp_matched(ss, i)->name, "initializeMemoryFormats") != NULL,
                "memory_format: %d", i);
    mf.excess = 2;
    expect_true(supp_match_pyobj(ss, &mf) == -1, "a second reference is reported");
    mf.excess = 1, mf.fr = elsewhere;
    expect_true(supp_match_pyobj(ss, &mf) == -1, "one made in another file is reported");
    struct supp_pyobj fl = {"float", 1, outside, init, 2};
    expect_true(supp_match_pyobj(ss, &fl) == -1, "another type is reported");
    struct supp_pyobj by = {"bytes", 1, outside, enc, 2};
    i = supp_match_pyobj(ss, &by);
    expect_true(i >= 0 && strstr(supp_matched(ss, i)->name, "encoding_errors") != NULL,
                "bytes: %d", i);
    by.fr = init;
    expect_true(supp_match_pyobj(ss, &by) == -1, "bytes made under another line are reported");
    supp_free(ss);
#undef UM
}
TEST_END

/* The built-in torch.storage entry, on Debian 12's stack: the module
 * importlib made (_new_module), 1 over, held by sys.modules['torch.storage']
 * (loadTypedStorageTypeObject's PyImport_ImportModule); another torch
 * module 1 over, or torch.storage 2 over, is reported. */
TEST_BEGIN(test_builtin_torch_storage_leaked_ref)
{
    static const struct frame rec = {0x40, "_new_module", "<frozen importlib._bootstrap>",
                                     "<frozen importlib._bootstrap>", 49, "<python>", "", 0,
                                     "importlib._bootstrap", 0};
    const struct frame *const mod[] = {&rec};
    struct supp_set *ss = builtin_set("/usr/bin/python3.11", 0x030b0000, "t.hsnap");
    expect_true(ss != NULL, "add: %s", err);
    struct supp_pyobj st = {"module", 1, "sys.modules['torch.storage'] (module)", mod, 1};
    int i = supp_match_pyobj(ss, &st);
    expect_true(i >= 0 && supp_matched(ss, i)->builtin && supp_matched(ss, i)->pyref &&
                    strstr(supp_matched(ss, i)->name, "loadTypedStorageTypeObject") != NULL,
                "torch.storage: %d", i);
    st.path = "sys.modules['torch._tensor'] (module)";
    expect_true(supp_match_pyobj(ss, &st) == -1, "another torch module is reported");
    st.path = "sys.modules['torch.storage'] (module)", st.excess = 2;
    expect_true(supp_match_pyobj(ss, &st) == -1, "a second reference is reported");
    supp_free(ss);
}
TEST_END

/* The allocation-site rule (frames_get, shared by every command): the
 * first frame that is not an allocator wrapper, else the outermost. */
TEST_BEGIN(test_site_rule)
{
    struct frame fr[NF];
    const struct frame *fp[NF];
    int nwrap;
    memcpy(fr, frame_recs, sizeof(fr));
    for (int i = 0; i < NF; i++)
        fp[i] = &fr[i];
    expect_true(frames_site(fp, NF, &nwrap) == SITE, "site of the chain");
    expect_true(nwrap == SITE, "the wrapper before the site is counted, the site is not");
    for (int i = 0; i < NF; i++)
        fr[i].func = "malloc";
    expect_true(frames_site(fp, NF, &nwrap) == NF - 1, "all wrappers: the outermost");
    expect_true(nwrap == NF, "all wrappers: all counted");
    memcpy(fr, frame_recs, sizeof(fr));
    expect_true(frames_site(fp + 1, NF - 1, &nwrap) == 0 && nwrap == 0, "no wrapper: the first");
}
TEST_END

int main(void)
{
    test_lsan_templates();
    test_lsan_kinds();
    test_valgrind_frames();
    test_valgrind_kinds();
    test_other_tools_skipped();
    test_parse_errors();
    test_charge_and_stale();
    test_builtin_listed_when_matched();
    test_builtin_pybind11_function_record();
    test_leakedref_blocks();
    test_builtin_numpy_pandas_leaked_refs();
    test_builtin_caller_mode_twins();
    test_builtin_torch_storage_leaked_ref();
    test_site_rule();
    return 0;
}
