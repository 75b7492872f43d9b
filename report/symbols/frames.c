/*
 * frames.c - expands traces into stacks once per command, finds their
 * allocation site, and filters them (see frames.h for the rules).
 *
 * A trace's words (return addresses, Python frame words) name frame
 * records (report/symbols/framerec.h) through a table per snapshot, so
 * each distinct word is resolved once.  The records, with the
 * interpreter's left out of a Python stack, make the stack, interned by
 * its record sequence: the traces that read alike (the same stack in two
 * processes, or at two instruction offsets of one Python line) share one.
 * A stack's shown part (from its first frame past the wrappers) is
 * numbered by the idents of its frames; its text is built only when asked
 * (frames_id).  Everything lives until frames_fini, whatever happens to
 * the snapshots.
 */
#include <fnmatch.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "hashfn.h"

#include "cli.h"
#include "framerec.h"
#include "frames.h"
#include "sym.h"
#include "tmlike.h"
#include "tmpl.h"
#include "wrappers.h"

/* A trace's word resolved in one snapshot: its records (n of them; 0 for
 * heapsnap's own frames); n < 0 marks an empty slot. */
struct word_slot {
    uint64_t w;
    struct frec *const *recs;
    int32_t n;
};

/* One snapshot's view: its modules in the registry, its words' records
 * (open addressing, a power of two, at most half full), its traces'
 * stacks. */
struct frames_snap {
    int *mods;                            /* nmodules registry indices */
    const struct frames_trace **traces;   /* ntraces, filled on first use */
    struct word_slot *words;
    size_t capwords, nwords;
    struct tmlike *tm;                    /* tmlike_new's, on first use */
};

/* A shortened function name (--shorten-templates), owned, once per name. */
struct frames_name {
    char *name;
    UT_hash_handle hh;
};

/* A stack; the hash key is fr's pointers. */
struct stack {
    struct frames_trace t;
    const struct frame **fr;   /* owned */
    const struct frame **py;   /* owned, or NULL when py lies in fr */
    char *id;                  /* frames_id's text, once asked */
    UT_hash_handle hh;
};

/* A shown part: the idents of its frames, numbered. */
struct shown {
    uint32_t *idents;
    size_t len;                /* bytes */
    uint32_t num;
    UT_hash_handle hh;
};

/* The command's stacks.  snaps[serial - lo] belongs to the snapshot of that
 * load serial: serials grow for the process's life, and a process that
 * loads without end (heapsnap serve) resets between (frames_fini), so the
 * array starts at the lowest serial asked since. */
static struct {
    struct frames_snap *snaps;
    size_t capsnaps;
    uint64_t lo;                   /* snaps[0]'s serial (0: none asked yet) */
    struct stack *stacks;          /* uthash by fr */
    struct shown *shown;           /* uthash by idents */
    uint32_t nshown;
    uint64_t *ips;                 /* scratch: the trace's ips */
    size_t capips;
    const struct frame **fr;       /* scratch: the frames being gathered */
    size_t capfr;
    uint32_t *idents;              /* scratch: a shown part's idents */
    size_t capidents;
    int shorten;                   /* --shorten-templates */
    struct frames_name *names;     /* uthash by name: the shortened names */
    struct frec none[4];           /* the placeholders: no frames, unsampled; and
                                      tracemalloc's own (HSNAP_TRACE_TMOWN) */
} fx;

#define NELEM(a) (sizeof(a) / sizeof((a)[0]))

void frames_shorten_templates(void) { fx.shorten = 1; }

static struct {
    int native;           /* --native */
    int interp;           /* --interpreter-frames */
    int pyonly;           /* frames_python_frames_only */
} py_cfg;

void frames_native_site(void) { py_cfg.native = 1; }
void frames_interpreter_frames(void) { py_cfg.interp = 1; }
void frames_python_frames_only(void) { py_cfg.pyonly = 1; }

/* --- verdicts, once per record ------------------------------------------- */

enum {
    V_KNOWN = 1,          /* judged */
    V_WRAPPER = 2,        /* wrap_is_wrapper */
    V_PYMACH = 4,         /* wrap_is_py_machinery */
    V_RUNTIME = 8,        /* wrap_is_py_runtime */
    V_PYTHON = 16,        /* a Python frame */
    V_TMOWN = 32,         /* wrap_is_tracemalloc_own */
};

/* func without its template arguments, interned; func itself when there
 * is nothing to shorten; NULL when out of memory.  A short name is never
 * longer than its original, whatever its length. */
static const char *short_name(const char *func)
{
    size_t n = strlen(func) + 1;
    char *buf = malloc(n);
    struct frames_name *nm;
    if (!buf)
        return NULL;
    if (!tmpl_shorten(func, buf, n)) {
        free(buf);
        return func;
    }
    HASH_FIND_STR(fx.names, buf, nm);
    if (nm || !(nm = calloc(1, sizeof(*nm)))) {
        free(buf);
        return nm ? nm->name : NULL;
    }
    nm->name = buf;
    HASH_ADD_KEYPTR(hh, fx.names, nm->name, strlen(nm->name), nm);
    return nm->name;
}

/* Judges r by its full name, then shortens that (--shorten-templates) and
 * numbers its identity; -1 when out of memory. */
static int judge(struct frec *r)
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
    if (fx.shorten && !(r->f.func = short_name(r->f.func)))
        return -1;
    if (frec_ident(r) < 0)
        return -1;
    r->bits = v;
    return 0;
}

static uint32_t verdict(const struct frame *f) { return ((const struct frec *)f)->bits; }

static int is_wrapper_in(const struct frame *f, int py)
{
    uint32_t v = verdict(f);
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
static int py_trim(const struct frame **fr, int n)
{
    int k = 0, past = 0;
    for (int i = 0; i < n; i++) {
        uint32_t v = verdict(fr[i]);
        int drop = (v & V_PYMACH) || (past && (v & V_RUNTIME));
        past = past || (!drop && !(v & V_WRAPPER));
        if (!drop)
            fr[k++] = fr[i];
    }
    return k ? k : n; /* all machinery: kept whole (cannot happen: a Python frame stays) */
}

/* --- one snapshot's words ------------------------------------------------ */

static struct frames_snap *snap_view(const struct snap *s)
{
    size_t old = fx.capsnaps;
    if (s->serial == 0)
        return NULL;
    if (!fx.lo)
        fx.lo = s->serial;
    if (s->serial < fx.lo) { /* older than every one asked: the array moves up */
        size_t shift = (size_t)(fx.lo - s->serial);
        if (grow_array((void **)&fx.snaps, &fx.capsnaps, old + shift, sizeof(*fx.snaps)) < 0)
            return NULL;
        memmove(fx.snaps + shift, fx.snaps, old * sizeof(*fx.snaps));
        memset(fx.snaps, 0, shift * sizeof(*fx.snaps));
        memset(fx.snaps + old + shift, 0, (fx.capsnaps - old - shift) * sizeof(*fx.snaps));
        fx.lo = s->serial;
        old = fx.capsnaps;
    }
    size_t at = (size_t)(s->serial - fx.lo);
    if (grow_array((void **)&fx.snaps, &fx.capsnaps, at + 1, sizeof(*fx.snaps)) < 0)
        return NULL;
    memset(fx.snaps + old, 0, (fx.capsnaps - old) * sizeof(*fx.snaps));
    struct frames_snap *v = &fx.snaps[at];
    if (v->traces)
        return v;
    int ok = (v->mods = calloc(s->nmodules + 1, sizeof(*v->mods))) &&
             (v->traces = calloc(s->ntraces + 1, sizeof(*v->traces)));
    for (uint32_t j = 0; ok && j < s->nmodules; j++)
        ok = (v->mods[j] = sym_module(&s->modules[j])) >= 0;
    if (!ok) {
        free(v->mods);
        free(v->traces);
        memset(v, 0, sizeof(*v));
        return NULL;
    }
    return v;
}

static size_t word_hash(uint64_t w, size_t cap)
{
    return (size_t)((w * 0x9e3779b97f4a7c15ull) >> 17) & (cap - 1);
}

/* Doubles v's word table; -1 when out of memory. */
static int words_grow(struct frames_snap *v)
{
    size_t cap = v->capwords ? v->capwords * 2 : 1024;
    struct word_slot *w = malloc(cap * sizeof(*w));
    if (!w)
        return -1;
    for (size_t i = 0; i < cap; i++)
        w[i].n = -1;
    for (size_t i = 0; i < v->capwords; i++) {
        if (v->words[i].n < 0)
            continue;
        size_t k = word_hash(v->words[i].w, cap);
        while (w[k].n >= 0)
            k = (k + 1) & (cap - 1);
        w[k] = v->words[i];
    }
    free(v->words);
    v->words = w;
    v->capwords = cap;
    return 0;
}

/* heapsnap's own library: its frames (the thread-start wrapper under every
 * thread's start routine) are never part of the user's stack. */
static int is_self(int mod)
{
    return strncmp(sym_module_base(mod), "libheapsnap", 11) == 0;
}

/* The records of word w of snapshot s: a Python frame's, or the return
 * address's (none for the shim's own); how many, or -1. */
static int word_resolve(const struct snap *s, const struct frames_snap *v, uint32_t ti,
                        uint64_t w, struct frec *const **out)
{
    if (HSNAP_IS_PYFRAME(w)) {
        static const struct snap_pycode missing = {0, "<unknown>", "<python>", NULL, 0};
        uint64_t code = (w & ~HSNAP_PY_TAG_MASK) >> HSNAP_PY_CODE_SHIFT;
        const struct snap_pycode *c = code < s->npycodes ? &s->pycodes[code] : &missing;
        int64_t off = (int64_t)(w & HSNAP_PY_OFF_MASK) - 1;
        int line = c == &missing ? 0 : pycode_line_of(s, (uint32_t)code, off);
        return frec_python(c->file, c->qualname, line, w, out) < 0 ? -1 : 1;
    }
    const struct snap_module *m = snap_module_in(s, ti, w);
    int32_t mod = m ? v->mods[m - s->modules] : -1;
    if (mod >= 0 && is_self(mod)) {
        *out = NULL;
        return 0;
    }
    return frec_native(mod, m ? w - m->bias : w, w, out);
}

/* 1 when the module of w depends on the trace (an unloaded module's range
 * holds it: UNLOADED's rule, hsnap_format.h): such a word is not cached. */
static int word_of_era(const struct snap *s, uint64_t w)
{
    for (uint32_t i = 0; !HSNAP_IS_PYFRAME(w) && i < s->nmodules; i++)
        if ((s->modules[i].flags & HSNAP_MODULE_UNLOADED) && w >= s->modules[i].lo &&
            w < s->modules[i].hi)
            return 1;
    return 0;
}

/* The records of word w of trace ti (judged), in *out: how many, or -1. */
static int word_get(const struct snap *s, struct frames_snap *v, uint32_t ti, uint64_t w,
                    struct frec *const **out)
{
    if (v->capwords) {
        for (size_t k = word_hash(w, v->capwords); v->words[k].n >= 0; k = (k + 1) & (v->capwords - 1))
            if (v->words[k].w == w) {
                *out = v->words[k].recs;
                return v->words[k].n;
            }
    }
    int n = word_resolve(s, v, ti, w, out);
    for (int i = 0; i < n; i++)
        if (judge((*out)[i]) < 0)
            return -1;
    if (n >= 0 && word_of_era(s, w))
        return n;
    if (n < 0 || ((v->nwords + 1) * 2 > v->capwords && words_grow(v) < 0))
        return -1;
    size_t k = word_hash(w, v->capwords);
    while (v->words[k].n >= 0)
        k = (k + 1) & (v->capwords - 1);
    v->words[k] = (struct word_slot){w, *out, n};
    v->nwords++;
    return n;
}

/* --- stacks -------------------------------------------------------------- */

static int push(int n, const struct frame *f)
{
    if (grow_array((void **)&fx.fr, &fx.capfr, (size_t)n + 1, sizeof(*fx.fr)) < 0)
        return -1;
    fx.fr[n] = f;
    return n + 1;
}

/* The placeholder frame of a trace without frames (judged). */
static const struct frame *placeholder(int unsampled)
{
    static const char *const names[2] = {"<unknown>", "<unsampled>"};
    struct frec *r = &fx.none[unsampled];
    if (!r->bits) {
        const char *x = names[unsampled];
        r->f = (struct frame){0, x, x, x, 0, x, "", 0, NULL, 0};
        if (judge(r) < 0)
            return NULL;
    }
    return &r->f;
}

/* The site of an allocation the shim found tracemalloc's hooks made for
 * themselves (HSNAP_TRACE_TMOWN: told by the hooks' addresses), where no
 * frame is named so (no debug information): judged tracemalloc's own
 * (wrap_is_tracemalloc_own).  Its C file: Modules/_tracemalloc.c up to
 * 3.11, Python/tracemalloc.c from 3.12 (py_version 0: the older). */
static const struct frame *tm_own(uint32_t py_version)
{
    int later = py_version >= 0x030c0000u;
    static const char *const files[2] = {"Modules/_tracemalloc.c", "Python/tracemalloc.c"};
    struct frec *r = &fx.none[2 + later];
    if (!r->bits) {
        const char *file = files[later];
        r->f = (struct frame){0, "tracemalloc", file, file, 0, "<tracemalloc>", "", 0, NULL, 0};
        if (judge(r) < 0)
            return NULL;
    }
    return &r->f;
}

/* Gathers the frames of trace t into fx.fr, the interpreter's left out of
 * a Python stack; how many, -1. */
static int gather(const struct snap *s, struct frames_snap *v, uint32_t ti)
{
    const struct snap_trace *t = &s->traces[ti];
    int n = 0, npy = 0, named = 0;
    if (grow_array((void **)&fx.ips, &fx.capips, (size_t)t->depth + 1, sizeof(*fx.ips)) < 0)
        return -1;
    snap_trace_ips(s, t, fx.ips);
    int pyonly = 0; /* a Python stack's native words are not even symbolized */
    for (int i = 0; i < t->depth && py_cfg.pyonly && !pyonly; i++)
        pyonly = HSNAP_IS_PYFRAME(fx.ips[i]);
    for (int i = 0; i < t->depth && n >= 0; i++) {
        struct frec *const *recs;
        if (pyonly && !HSNAP_IS_PYFRAME(fx.ips[i]))
            continue;
        int k = word_get(s, v, ti, fx.ips[i], &recs);
        if (k < 0)
            return -1;
        if (k && (size_t)n + k > fx.capfr && push(n + k - 1, NULL) < 0) /* room for k */
            return -1;
        for (int j = 0; j < k; j++) {
            npy += (recs[j]->bits & V_PYTHON) != 0;
            named |= (recs[j]->bits & V_TMOWN) != 0;
            fx.fr[n++] = &recs[j]->f;
        }
    }
    int own = (t->flags & HSNAP_TRACE_TMOWN) != 0;
    if (n > 0 && !own && !named && s->py_version) { /* made before the shim knew the hooks */
        if (!v->tm && !(v->tm = tmlike_new(s)))
            return -1;
        own = tmlike_has(v->tm, s, t);
    }
    if (n > 0 && own && !named) { /* debug information names it */
        const struct frame *tm = tm_own(s->py_version);
        if (!tm || push(n, tm) < 0)
            return -1;
        memmove(fx.fr + 1, fx.fr, (size_t)n * sizeof(*fx.fr));
        fx.fr[0] = tm, n++;
    }
    if (n == 0) {
        const struct frame *none = placeholder((t->flags & HSNAP_TRACE_UNSAMPLED) != 0);
        n = none ? push(0, none) : -1;
    }
    if (n > 0 && npy && !py_cfg.interp)
        n = py_trim(fx.fr, n);
    return n;
}

/* The number of st's shown part (its frames from first outward, by
 * ident); -1 when out of memory. */
static int64_t shown_num(const struct stack *st)
{
    int len = st->t.n - st->t.first;
    struct shown *e;
    if (grow_array((void **)&fx.idents, &fx.capidents, (size_t)len + 1, sizeof(*fx.idents)) < 0)
        return -1;
    for (int i = 0; i < len; i++)
        fx.idents[i] = st->fr[st->t.first + i]->ident;
    size_t bytes = (size_t)len * sizeof(*fx.idents);
    HASH_FIND(hh, fx.shown, fx.idents, bytes, e);
    if (e)
        return e->num;
    if (!(e = calloc(1, sizeof(*e))) || !(e->idents = malloc(bytes ? bytes : 1))) {
        free(e);
        return -1;
    }
    memcpy(e->idents, fx.idents, bytes);
    e->len = bytes;
    e->num = fx.nshown++;
    HASH_ADD_KEYPTR(hh, fx.shown, e->idents, e->len, e);
    return e->num;
}

static void stack_free(struct stack *st)
{
    free(st->fr);
    free(st->py);
    free(st->id);
    free(st);
}

/* st's Python frames (npy of them), and the site moved to the innermost
 * unless --native; -1 when out of memory. */
static int py_list(struct stack *st, int npy)
{
    int lo = -1, hi = -1;
    for (int i = 0; i < st->t.n; i++)
        if (st->fr[i]->pymodule) {
            lo = lo < 0 ? i : lo;
            hi = i;
        }
    /* tracemalloc's own tables stay at their native site (wrappers.c) */
    if (!py_cfg.native && lo > st->t.site && !(verdict(st->fr[st->t.site]) & V_TMOWN))
        st->t.site = lo;
    st->t.npy = npy;
    if (hi - lo + 1 == npy) { /* one run: a view into fr */
        st->t.py = st->fr + lo;
        return 0;
    }
    if (!(st->py = malloc((size_t)npy * sizeof(*st->py))))
        return -1;
    for (int i = 0, k = 0; i < st->t.n; i++)
        if (st->fr[i]->pymodule)
            st->py[k++] = st->fr[i];
    st->t.py = st->py;
    return 0;
}

/* A new stack of the frames fx.fr[0..n). */
static struct stack *stack_new(int n)
{
    struct stack *st = calloc(1, sizeof(*st));
    int npy = 0;
    if (!st || !(st->fr = malloc((size_t)n * sizeof(*st->fr))))
        goto oom;
    memcpy(st->fr, fx.fr, (size_t)n * sizeof(*st->fr));
    st->t.n = n;
    st->t.fr = st->fr;
    st->t.first = st->t.site = site_by(st->fr, n, &st->t.nwrap, is_wrapper_in);
    for (int i = 0; i < n; i++)
        npy += st->fr[i]->pymodule != NULL;
    if (npy && py_list(st, npy) < 0)
        goto oom;
    int64_t num = shown_num(st);
    if (num < 0)
        goto oom;
    st->t.shown = (uint32_t)num;
    st->t.site_name = frec_site_name(st->fr[st->t.site]->ident);
    HASH_ADD_KEYPTR(hh, fx.stacks, st->fr, (size_t)n * sizeof(*st->fr), st);
    return st;
oom:
    if (st)
        stack_free(st);
    return NULL;
}

const struct frames_trace *frames_get(const struct snap *s, uint32_t ti)
{
    struct frames_snap *v = snap_view(s);
    struct stack *st;
    if (!v)
        return NULL;
    if (v->traces[ti])
        return v->traces[ti];
    int n = gather(s, v, ti);
    if (n < 0)
        return NULL;
    HASH_FIND(hh, fx.stacks, fx.fr, (size_t)n * sizeof(*fx.fr), st);
    if (!st && !(st = stack_new(n)))
        return NULL;
    return v->traces[ti] = &st->t;
}

const char *frames_id(const struct frames_trace *t)
{
    struct stack *st = (struct stack *)((char *)t - offsetof(struct stack, t));
    size_t len = 1, at = 0;
    if (st->id)
        return st->id;
    for (int i = t->first; i < t->n; i++)
        len += strlen(frec_ident_text(t->fr[i]->ident));
    if (!(st->id = malloc(len)))
        return NULL;
    for (int i = t->first; i < t->n; i++) {
        const char *p = frec_ident_text(t->fr[i]->ident);
        size_t k = strlen(p);
        memcpy(st->id + at, p, k);
        at += k;
    }
    st->id[at] = 0;
    return st->id;
}

int frames_id_cmp(const struct frames_trace *a, const struct frames_trace *b)
{
    int i = a->first, k = b->first;
    for (; i < a->n && k < b->n; i++, k++) {
        if (a->fr[i]->ident == b->fr[k]->ident)
            continue;
        const char *x = frec_ident_text(a->fr[i]->ident), *y = frec_ident_text(b->fr[k]->ident);
        size_t lx = strlen(x), ly = strlen(y);
        int c = memcmp(x, y, lx < ly ? lx : ly);
        if (c || lx == ly)
            return c ? c : 0; /* equal texts of two idents cannot be */
        /* one text a prefix of the other: the strings decide, whole */
        const char *ia = frames_id(a), *ib = frames_id(b);
        return ia && ib ? strcmp(ia, ib) : 0;
    }
    return (i < a->n) - (k < b->n);
}

void frames_fini(void)
{
    struct stack *st, *tmp;
    HASH_ITER(hh, fx.stacks, st, tmp) {
        HASH_DEL(fx.stacks, st);
        stack_free(st);
    }
    struct shown *sh, *shtmp;
    HASH_ITER(hh, fx.shown, sh, shtmp) {
        HASH_DEL(fx.shown, sh);
        free(sh->idents);
        free(sh);
    }
    for (size_t i = 0; i < fx.capsnaps; i++) {
        free(fx.snaps[i].mods);
        free(fx.snaps[i].traces);
        free(fx.snaps[i].words);
        tmlike_free(fx.snaps[i].tm);
    }
    free(fx.snaps);
    free(fx.fr);
    free(fx.ips);
    free(fx.idents);
    struct frames_name *nm, *ntmp;
    HASH_ITER(hh, fx.names, nm, ntmp) {
        HASH_DEL(fx.names, nm);
        free(nm->name);
        free(nm);
    }
    memset(&fx, 0, sizeof(fx));
    wrap_fini();
    frec_fini();
    sym_fini();
}

/* --- shown names and filters -------------------------------------------- */

int frames_has_file(const struct frame *f) { return strcmp(f->file, "??") != 0; }

int frames_has_symbol(const struct frame *f)
{
    size_t n = strlen(f->module);
    if (!strncmp(f->func, "0x", 2))
        return 0;
    return !(n && !strncmp(f->func, f->module, n) && !strncmp(f->func + n, "+0x", 3));
}

const char *frames_where(const struct frame *f, char *buf, size_t n)
{
    if (frames_has_file(f) || f->module[0] == '<')
        return f->file[0] == '?' ? f->module : f->file;
    snprintf(buf, n, "[%s]", f->module);
    return buf;
}

int frames_filter_add(struct frames_filter *fl, int exclude, const char *pat, char *err,
                      size_t errlen)
{
    int *n = exclude ? &fl->nexclude : &fl->ninclude;
    if (*n >= FRAMES_MAX_FILTERS) {
        snprintf(err, errlen, "too many filters: %s", pat);
        return -1;
    }
    (exclude ? fl->exclude : fl->include)[(*n)++] = pat;
    return 0;
}

static int frame_matches(const struct frame *f, const char *pat)
{
    return !fnmatch(pat, f->dwarf_file, 0) || !fnmatch(pat, f->file, 0) ||
           !fnmatch(pat, f->func, 0) || !fnmatch(pat, f->module, 0) ||
           (f->path[0] && !fnmatch(pat, f->path, 0)) ||
           (f->pymodule && !fnmatch(pat, f->pymodule, 0));
}

static int trace_matches(const struct frames_filter *fl, const struct frames_trace *t,
                         const char *pat)
{
    if (!fl->all_frames)
        return frame_matches(t->fr[t->site], pat);
    for (int i = 0; i < t->n; i++)
        if (frame_matches(t->fr[i], pat))
            return 1;
    return 0;
}

int frames_kept(const struct frames_filter *fl, const struct frames_trace *t)
{
    int kept = fl->ninclude == 0;
    for (int i = 0; i < fl->ninclude && !kept; i++)
        kept = trace_matches(fl, t, fl->include[i]);
    for (int i = 0; i < fl->nexclude && kept; i++)
        kept = !trace_matches(fl, t, fl->exclude[i]);
    return kept;
}
