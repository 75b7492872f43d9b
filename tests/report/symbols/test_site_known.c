// link: report/symbols/frames.c report/symbols/frameview.c report/symbols/framefilter.c report/symbols/fchain.c report/symbols/judge.c report/symbols/tmlike.c report/symbols/framerec.c report/symbols/wrappers.c report/symbols/tmpl.c report/symbols/sym.c report/symbols/debugcache.c report/symbols/demangle.c report/symbols/symtab.c report/symbols/cuindex.c report/symbols/dbgsym.c report/load/lset.c report/load/snap.c report/load/threadsread.c report/load/snapfile.c report/load/inflate.c report/load/iptab.c report/load/stateread.c report/load/statenote.c report/load/section.c report/load/peakread.c report/load/sitelineread.c report/load/pycode.c report/load/pytypes.c report/load/pyretainread.c report/load/pygcfreedread.c report/base/grow.c report/base/fmt.c report/base/json.c report/base/cli.c report/base/input.c report/base/escape.c report/base/bigmem.c report/base/hidx.c
/*
 * test_site_known.c - run's summary symbolizes a native stack from the
 * innermost frame out only until the frames further out cannot change its
 * site (judge_site_known): on synthetic stacks (named and nameless frames,
 * wrappers, a wrapper's nameless helper, a nameless site keyed by its
 * named caller), every prefix that decides gives judge_site's site of the
 * whole stack and the frames its key needs, and each decides as early as
 * the rules allow: without the C runtime's frames beyond main.
 */
#include <stdio.h>
#include <string.h>

#include "framerec.h"
#include "frames.h"
#include "judge.h"
#include "unit.h"

#define MAXF 8

/* A frame: "mod:func" (func "mod+0x.." when nameless), a file or NULL. */
struct fx { const char *mod, *func, *file; };

static struct frec recs[MAXF];
static const struct frame *fr[MAXF];

static int make(const struct fx *s)
{
    int n = 0;
    memset(recs, 0, sizeof recs);
    for (; n < MAXF && s[n].mod; n++) {
        struct frame *f = &recs[n].f;
        f->ip = 0x1000 + (uint64_t)n;
        f->func = s[n].func;
        f->file = f->dwarf_file = s[n].file ? s[n].file : "??";
        f->line = s[n].file ? 10 + n : 0;
        f->module = s[n].mod;
        f->path = s[n].mod;
        judge_frame(&recs[n]);
        fr[n] = f;
    }
    return n;
}

/* The prefix length at which stack s decides, its site and last; checks
 * every decided prefix against judge_site of the whole stack. */
static int decide(const struct fx *s, int *site, int *last, char *why, size_t len)
{
    int n = make(s), nw, whole = judge_site(fr, n, &nw), at = -1;
    for (int p = 1; p <= n; p++) {
        int l = -1, k = judge_site_known(fr, p, p < n ? fr[p]->module : NULL, &l);
        if (k < 0)
            continue;
        if (k != whole) {
            snprintf(why, len, "prefix %d says site %d, the whole stack %d", p, k, whole);
            return -1;
        }
        if (at < 0)
            at = p, *site = k, *last = l;
    }
    if (at < 0)
        snprintf(why, len, "no prefix decides (whole: %d)", whole);
    return at;
}

#define LIBC(fn) {"libc.so.6", fn, "libc-start.c"}

/* A case: stack s (innermost first) decides at prefix length AT, with the
 * site at index SITE and its key's frames out to LAST (AT -1: never). */
#define SITE_CASE(name, AT, SITE, LAST, ...)                                            \
    TEST_BEGIN(name)                                                                    \
    {                                                                                   \
        static const struct fx s[] = {__VA_ARGS__, {0}};                                \
        char why[128] = "";                                                             \
        int site = -1, last = -1, at = decide(s, &site, &last, why, sizeof why);        \
        expect_true(at == (AT) && (at < 0 || (site == (SITE) && last == (LAST))),       \
                    "at %d site %d last %d %s", at, site, last, why);                   \
    }                                                                                   \
    TEST_END

SITE_CASE(named_site_decides_at_once, 1, 0, 0,
          {"prog", "work", "prog.c"}, {"prog", "main", "prog.c"}, LIBC("__libc_start_main"))

SITE_CASE(wrappers_are_passed, 3, 2, 2,
          {"libc.so.6", "strdup", "strdup.c"}, {"prog", "xmalloc", "x.c"},
          {"prog", "load", "prog.c"}, LIBC("__libc_start_main"))

/* sqlite: a static function under sqlite3PagerSetPagesize */
SITE_CASE(nameless_site_waits_for_its_named_caller, 2, 0, 1,
          {"libsqlite3.so.0", "libsqlite3.so.0+0xb786b", NULL},
          {"libsqlite3.so.0", "sqlite3PagerSetPagesize", NULL},
          {"libsqlite3.so.0", "sqlite3PagerOpen", NULL}, LIBC("__libc_start_main"))

/* sqlite3MemMalloc (static, nameless) under sqlite3Malloc: a wrapper too */
SITE_CASE(a_wrappers_nameless_helper_is_passed, 3, 2, 2,
          {"libsqlite3.so.0", "libsqlite3.so.0+0x1234", NULL},
          {"libsqlite3.so.0", "sqlite3Malloc", NULL},
          {"libsqlite3.so.0", "sqlite3BtreeCreateTable", NULL},
          {"sqlite3", "sqlite3+0x2a350", NULL}, LIBC("__libc_start_main"))

/* a stripped program's static functions out to libc's start: decided by
 * the next word's module, before libc's frame is symbolized */
SITE_CASE(nameless_to_another_module_needs_only_its_name, 2, 0, 1,
          {"ls", "ls+0x95b9", NULL}, {"ls", "ls+0x2a350", NULL},
          LIBC("__libc_start_call_main"), LIBC("__libc_start_main"))

SITE_CASE(all_wrappers_never_decide_early, -1, 0, 0,
          {"libc.so.6", "malloc", "malloc.c"}, {"libc.so.6", "strdup", "strdup.c"})

int main(void)
{
    named_site_decides_at_once();
    wrappers_are_passed();
    nameless_site_waits_for_its_named_caller();
    a_wrappers_nameless_helper_is_passed();
    nameless_to_another_module_needs_only_its_name();
    all_wrappers_never_decide_early();
    return 0;
}
