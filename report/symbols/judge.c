/*
 * judge.c - the verdicts on each frame record (judge.h), made once when
 * the record is first met, and what they decide: a stack's allocation
 * site (frames_site, judge_site) and the frames a Python stack keeps
 * (judge_py_trim); the shortened names of --shorten-templates.
 */
#include <stdlib.h>
#include <string.h>
#include "hashfn.h"

#include "frames.h"
#include "judge.h"
#include "tmpl.h"
#include "wrappers.h"

/* A shortened function name (--shorten-templates), owned, once per name. */
struct judge_name {
    char *name;
    UT_hash_handle hh;
};

static struct {
    int shorten;                   /* --shorten-templates */
    struct judge_name *names;      /* uthash by name: the shortened names */
} jx;

void frames_shorten_templates(void) { jx.shorten = 1; }

/* func without its template arguments, interned; func itself when there
 * is nothing to shorten; NULL when out of memory.  A short name is never
 * longer than its original, whatever its length. */
static const char *short_name(const char *func)
{
    size_t n = strlen(func) + 1;
    char *buf = malloc(n);
    struct judge_name *nm;
    if (!buf)
        return NULL;
    if (!tmpl_shorten(func, buf, n)) {
        free(buf);
        return func;
    }
    HASH_FIND_STR(jx.names, buf, nm);
    if (nm || !(nm = calloc(1, sizeof(*nm)))) {
        free(buf);
        return nm ? nm->name : NULL;
    }
    nm->name = buf;
    HASH_ADD_KEYPTR(hh, jx.names, nm->name, strlen(nm->name), nm);
    return nm->name;
}

/* Judges r by its full name, then shortens that (--shorten-templates) and
 * numbers its identity; -1 when out of memory. */
int judge_frame(struct frec *r)
{
    const struct frame *f = &r->f;
    uint32_t v = V_KNOWN;
    if (r->bits)
        return 0;
    v |= wrap_is_wrapper(f) ? V_WRAPPER : 0;
    v |= wrap_is_py_machinery(f) ? V_PYMACH : 0;
    v |= wrap_is_py_runtime(f) ? V_RUNTIME : 0;
    v |= f->pymodule ? V_PYTHON : 0;
    v |= wrap_is_tracemalloc_own(f) ? V_TMOWN : 0;
    if (jx.shorten && !(r->f.func = short_name(r->f.func)))
        return -1;
    if (frec_ident(r) < 0)
        return -1;
    r->bits = v;
    return 0;
}

static int is_wrapper_in(const struct frame *f, int py)
{
    uint32_t v = judge_bits(f);
    return (v & V_WRAPPER) || (py && (v & V_PYMACH));
}

/* Whether fr[i] is a nameless frame (no line, no symbol) called by a
 * wrapper of its own module: a static helper of an allocator front end
 * that a library's symbol table does not name (libsqlite3's
 * sqlite3MemMalloc under sqlite3Malloc), so a wrapper too. */
static int under_wrapper(const struct frame *const *fr, int n, int i, int py,
                         int (*wrapper)(const struct frame *, int))
{
    for (; i + 1 < n && !frames_has_file(fr[i]) && !frames_has_symbol(fr[i]); i++)
        if (strcmp(fr[i]->module, fr[i + 1]->module) != 0)
            return 0;
        else if (wrapper(fr[i + 1], py))
            return 1;
    return 0;
}

/* The site among fr[0..n) and the wrappers up to it, by the verdict
 * wrapper(f, py). */
static int site_by(const struct frame *const *fr, int n, int *nwrap,
                   int (*wrapper)(const struct frame *, int))
{
    int site = n - 1, py = 0;
    for (int i = 0; i < n && !py; i++)
        py = fr[i]->pymodule != NULL;
    for (int i = 0; i < n; i++)
        if (!wrapper(fr[i], py) && !under_wrapper(fr, n, i, py, wrapper)) {
            site = i;
            break;
        }
    *nwrap = site + (wrapper(fr[site], py) ? 1 : 0);
    return site;
}

static int is_wrapper_by_name(const struct frame *f, int py)
{
    return wrap_is_wrapper(f) || (py && wrap_is_py_machinery(f));
}

int frames_site(const struct frame *const *fr, int n, int *nwrap)
{
    return site_by(fr, n, nwrap, is_wrapper_by_name);
}

/* Leaves the interpreter's machinery out of a Python stack fr[0..n), and
 * the C runtime's frames beyond the native site (the stack's first frame
 * past the wrappers); the frames left. */
int judge_py_trim(const struct frame **fr, int n)
{
    int k = 0, past = 0;
    for (int i = 0; i < n; i++) {
        uint32_t v = judge_bits(fr[i]);
        int drop = (v & V_PYMACH) || (past && (v & V_RUNTIME));
        past = past || (!drop && !(v & V_WRAPPER));
        if (!drop)
            fr[k++] = fr[i];
    }
    return k ? k : n; /* all machinery: kept whole (cannot happen: a Python frame stays) */
}

int judge_site(const struct frame *const *fr, int n, int *nwrap)
{
    return site_by(fr, n, nwrap, is_wrapper_in);
}

static int nameless(const struct frame *f)
{
    return !frames_has_file(f) && !frames_has_symbol(f);
}

/* From fr[i] out, the frames nameless and of one module (and a wrapper
 * not the next, when wrap): the last such, or -1 when they reach
 * fr[n - 1] and the next frame's module (next, NULL: unknown) may go on. */
static int nameless_run(const struct frame *const *fr, int n, int i, int wrap, const char *next)
{
    int j = i;
    while (j + 1 < n && nameless(fr[j]) && strcmp(fr[j]->module, fr[j + 1]->module) == 0 &&
           !(wrap && is_wrapper_in(fr[j + 1], 0)))
        j++;
    if (nameless(fr[j]) && j + 1 >= n && !(next && strcmp(fr[j]->module, next) != 0))
        return -1;
    return j;
}

int judge_site_known(const struct frame *const *fr, int n, const char *next, int *last)
{
    for (int i = 0; i < n; i++) {
        if (is_wrapper_in(fr[i], 0))
            continue;
        /* under_wrapper's walk, told apart from one that ran out of frames */
        int j = nameless_run(fr, n, i, 1, next);
        if (j < 0)
            return -1;
        if (nameless(fr[j]) && j + 1 < n && strcmp(fr[j]->module, fr[j + 1]->module) == 0)
            continue; /* fr[j + 1] is a wrapper of its module: fr[i] is its helper */
        /* the site; its key's walk (key_head's) to a named frame */
        *last = i;
        if (nameless(fr[i]) && fr[i]->module[0] != '<' &&
            (*last = nameless_run(fr, n, i, 0, next)) < 0)
            return -1;
        return i;
    }
    return -1;
}

void judge_fini(void)
{
    struct judge_name *nm, *ntmp;
    HASH_ITER(hh, jx.names, nm, ntmp) {
        HASH_DEL(jx.names, nm);
        free(nm->name);
        free(nm);
    }
    memset(&jx, 0, sizeof(jx));
}
