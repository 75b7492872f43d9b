/*
 * supp.c - leak suppressions: LeakSanitizer's `leak:` lines and
 * Valgrind's `{ ... Memcheck:Leak ... }` blocks, in one file or mixed, and
 * heapsnap's own `{ ... heapsnap:LeakedRef ... }` blocks for Python objects
 * with leaked references.
 *
 *   leak:PATTERN   a substring of the function, the source file or the
 *                  module (basename or path) of ANY frame; '*' any run,
 *                  '^' / '$' anchor.  For the leaked kinds and possibly
 *                  lost, never for still reachable.
 *   { NAME                       one frame a line, innermost first, whole-
 *     Memcheck:Leak              string globs ('*', '?'): fun: the function,
 *     match-leak-kinds: K,...    obj: the module path or basename, src: the
 *     fun:GLOB | obj:GLOB |      source's basename or shown path [:LINE];
 *     src:GLOB[:LINE] | ...      "..." any number of frames; later frames
 *   }                            are ignored.  Kinds: definite (direct and
 *                  cycle), indirect, possible, reachable, all, direct,
 *                  cycle; none listed means all.  A leading fun: line that
 *                  names an allocation function may skip (heapsnap records
 *                  no hook frame); other tools' blocks are read and dropped.
 *   { NAME                       a Python object with leaked references
 *     heapsnap:LeakedRef         (pyleakreport.c): its type's name (glob),
 *     match-type: GLOB           its refcount above the references found,
 *     match-excess: N            exactly, its path from a root as `leaks
 *     match-path: GLOB           --why` words it (pypath_of), and frame
 *     FRAME LINES...             lines as above, matched from the first
 *   }                            frame its stack shows; each one given
 *                  must match, and one at least is given.  Never a loss
 *                  record: Valgrind, which skips another tool's blocks,
 *                  reads the same file.
 */
#include <errno.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>

#include "cli.h"
#include "frames.h"
#include "input.h"
#include "json.h"
#include "pypath.h"
#include "snap.h"
#include "supp.h"

enum supp_pat_type { PAT_FUN, PAT_OBJ, PAT_SRC, PAT_DOTS };

struct supp_pat {
    enum supp_pat_type type;
    char *glob;
    int line;          /* src: line, 0 = any */
};

struct supp {
    struct supp_info info;
    unsigned kinds;        /* LOSSREC_KIND_BIT set (0: a heapsnap:LeakedRef block) */
    char *objtype_glob;    /* LeakedRef: match-type, or NULL */
    char *path_glob;       /* LeakedRef: match-path, or NULL */
    long excess;           /* LeakedRef: match-excess, or -1 */
    char *templ;           /* leak: pattern, or NULL for a Valgrind block */
    struct supp_pat *pats;
    int npats;
    size_t cappats;
};

struct supp_set {
    struct supp *v;
    size_t n, cap;
};

/* A reader over the text, one line at a time. */
struct supp_reader {
    const char *p;
    const char *name;
    int lineno;
    char line[4096];
};

static int supp_fail(char *err, size_t errlen, const struct supp_reader *rd,
                     const char *fmt, ...)
{
    char why[300];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(why, sizeof(why), fmt, ap);
    va_end(ap);
    snprintf(err, errlen, "%s:%d: %s", rd->name, rd->lineno, why);
    return -1;
}

struct supp_set *supp_new(void) { return calloc(1, sizeof(struct supp_set)); }

static void supp_clear(struct supp *s)
{
    for (int i = 0; i < s->npats; i++)
        free(s->pats[i].glob);
    free(s->pats);
    free(s->templ);
    free(s->objtype_glob);
    free(s->path_glob);
    free((char *)s->info.name);
    free((char *)s->info.file);
}

void supp_free(struct supp_set *ss)
{
    if (!ss)
        return;
    for (size_t i = 0; i < ss->n; i++)
        supp_clear(&ss->v[i]);
    free(ss->v);
    free(ss);
}

/* Listed: not a built-in one that matched nothing (a program that never
 * met the leak it names is not told about it). */
static int supp_listed(const struct supp *s) { return !s->info.builtin || s->info.records; }

size_t supp_count(const struct supp_set *ss)
{
    size_t n = 0;
    for (size_t i = 0; i < ss->n; i++)
        n += supp_listed(&ss->v[i]);
    return n;
}

const struct supp_info *supp_get(const struct supp_set *ss, size_t i)
{
    size_t k = 0;
    for (; k < ss->n; k++)
        if (supp_listed(&ss->v[k]) && !i--)
            break;
    return k < ss->n ? &ss->v[k].info : NULL;
}

const struct supp_info *supp_matched(const struct supp_set *ss, int i) { return &ss->v[i].info; }

void supp_charge(struct supp_set *ss, int i, uint64_t bytes, uint64_t blocks)
{
    ss->v[i].info.records++;
    ss->v[i].info.bytes += bytes;
    ss->v[i].info.blocks += blocks;
}

/* --- matching ------------------------------------------------------------ */

/* Valgrind's glob: '*' any run, '?' one character, the whole string. */
static int glob_match(const char *g, const char *s)
{
    const char *star = NULL, *resume = NULL;
    while (*s) {
        if (*g == '*') {
            star = g++;
            resume = s;
        } else if (*g == '?' || *g == *s) {
            g++;
            s++;
        } else if (star) {
            g = star + 1;
            s = ++resume;
        } else {
            return 0;
        }
    }
    while (*g == '*')
        g++;
    return *g == 0;
}

/* LeakSanitizer's TemplateMatch: substrings separated by '*', '^' anchors
 * the start, '$' the end; an empty string never matches. */
static int templ_match(const char *t, const char *s)
{
    int start = 0, star = 0;
    if (!s || !*s)
        return 0;
    if (*t == '^') {
        start = 1;
        t++;
    }
    while (*t) {
        if (*t == '*') {
            t++;
            start = 0;
            star = 1;
            continue;
        }
        if (*t == '$')
            return *s == 0 || star;
        if (!*s)
            return 0;
        size_t n = strcspn(t, "*$");
        const char *hit = NULL;
        for (const char *q = s; *q && !hit; q++)
            if (!strncmp(q, t, n))
                hit = q;
        if (!hit || (start && hit != s))
            return 0;
        s = hit + n;
        t += n;
        start = star = 0;
    }
    return 1;
}

static const char *base_of(const char *path)
{
    const char *b = strrchr(path, '/');
    return b ? b + 1 : path;
}

static int lsan_frame(const char *templ, const struct frame *f)
{
    return templ_match(templ, f->func) || (strcmp(f->file, "??") && templ_match(templ, f->file)) ||
           templ_match(templ, f->module) || templ_match(templ, f->path);
}

static int pat_frame(const struct supp_pat *p, const struct frame *f)
{
    switch (p->type) {
    case PAT_FUN: return glob_match(p->glob, f->func);
    case PAT_OBJ: return glob_match(p->glob, f->path[0] ? f->path : f->module);
    case PAT_SRC:
        if (!strcmp(f->file, "??") || (p->line && p->line != f->line))
            return 0;
        return glob_match(p->glob, base_of(f->file)) || glob_match(p->glob, f->file);
    case PAT_DOTS: return 1;
    }
    return 0;
}

/* Patterns p[0..np) against frames f[0..n): a prefix match with "...". */
static int pats_match(const struct supp_pat *p, int np, const struct frame *const *f, int n)
{
    if (np == 0)
        return 1;
    if (p->type == PAT_DOTS)
        return pats_match(p + 1, np - 1, f, n) || (n > 0 && pats_match(p, np, f + 1, n - 1));
    return n > 0 && pat_frame(p, *f) && pats_match(p + 1, np - 1, f + 1, n - 1);
}

/* A fun: glob naming an allocation function (matched optionally, see top). */
static int pat_is_allocator(const struct supp_pat *p)
{
    static const char *const names[] = {
        "malloc", "calloc", "realloc", "reallocarray", "memalign", "posix_memalign",
        "aligned_alloc", "valloc", "pvalloc", "_Znwm", "_Znam", "_ZnwmRKSt9nothrow_t",
        "_ZnamRKSt9nothrow_t", "operator new(unsigned long)", "operator new[](unsigned long)"};
    if (p->type != PAT_FUN)
        return 0;
    for (size_t i = 0; i < sizeof(names) / sizeof(names[0]); i++)
        if (glob_match(p->glob, names[i]))
            return 1;
    return 0;
}

static int valgrind_match(const struct supp *s, const struct frame *const *fr, int n)
{
    const struct supp_pat *p = s->pats;
    int np = s->npats;
    for (;;) {
        if (pats_match(p, np, fr, n))
            return 1;
        if (np == 0 || !pat_is_allocator(p) || pat_frame(p, *fr))
            return 0;
        p++, np--; /* an allocator frame heapsnap did not record */
    }
}

int supp_has_kind(const struct supp_set *ss, enum lossrec_kind kind)
{
    for (size_t i = 0; ss && i < ss->n; i++)
        if (ss->v[i].kinds & LOSSREC_KIND_BIT(kind))
            return 1;
    return 0;
}

int supp_match(const struct supp_set *ss, enum lossrec_kind kind, const struct frame *const *fr,
               int n, int site)
{
    (void)site;
    for (size_t i = 0; i < ss->n; i++) {
        const struct supp *s = &ss->v[i];
        if (!(s->kinds & LOSSREC_KIND_BIT(kind)))
            continue;
        if (s->templ) {
            for (int k = 0; k < n; k++)
                if (lsan_frame(s->templ, fr[k]))
                    return (int)i;
        } else if (valgrind_match(s, fr, n)) {
            return (int)i;
        }
    }
    return -1;
}

int supp_match_pyobj(const struct supp_set *ss, const struct supp_pyobj *o)
{
    for (size_t i = 0; ss && i < ss->n; i++) {
        const struct supp *p = &ss->v[i];
        if (p->info.pyref && (p->excess < 0 || p->excess == o->excess) &&
            (!p->objtype_glob || glob_match(p->objtype_glob, o->type)) &&
            (!p->path_glob || glob_match(p->path_glob, o->path)) &&
            (!p->npats || pats_match(p->pats, p->npats, o->fr, o->n)))
            return (int)i;
    }
    return -1;
}

int supp_match_pyref(const struct supp_set *ss, const struct snap *s, uint64_t b)
{
    char path[2048] = "";
    struct supp_pyobj o = {"?", (long)s->py.block_refcnt[b] - (long)s->py.block_refs[b], path,
                           NULL, 0};
    if (!ss)
        return -1;
    if (s->py.block_type[b] < s->py.ntypes)
        o.type = s->py.types[s->py.block_type[b]].name;
    if (!pypath_of(s, b, path, sizeof(path)))
        path[0] = 0;
    const struct frames_trace *t = frames_get(s, s->blocks[b].trace);
    if (t) {
        o.fr = t->fr + t->first;
        o.n = t->n - t->first;
    }
    return supp_match_pyobj(ss, &o);
}

/* --- parsing ------------------------------------------------------------- */

/* Next line into rd->line without surrounding blanks; 0 at the end. */
static int rd_next(struct supp_reader *rd)
{
    if (!*rd->p)
        return 0;
    size_t n = strcspn(rd->p, "\n");
    const char *b = rd->p, *e = rd->p + n;
    rd->p = *e ? e + 1 : e;
    rd->lineno++;
    while (b < e && (*b == ' ' || *b == '\t'))
        b++;
    while (e > b && (e[-1] == ' ' || e[-1] == '\t' || e[-1] == '\r'))
        e--;
    n = (size_t)(e - b) < sizeof(rd->line) - 1 ? (size_t)(e - b) : sizeof(rd->line) - 1;
    memcpy(rd->line, b, n);
    rd->line[n] = 0;
    return 1;
}

/* Next line that is neither blank nor a '#' comment. */
static int rd_content(struct supp_reader *rd)
{
    while (rd_next(rd))
        if (rd->line[0] && rd->line[0] != '#')
            return 1;
    return 0;
}

static struct supp *supp_add(struct supp_set *ss, const struct supp_reader *rd,
                             const char *name, unsigned kinds)
{
    if (grow_array((void **)&ss->v, &ss->cap, ss->n + 1, sizeof(*ss->v)) < 0)
        return NULL;
    struct supp *s = &ss->v[ss->n];
    memset(s, 0, sizeof(*s));
    s->kinds = kinds;
    s->info.line = rd->lineno;
    s->info.name = strdup(name);
    s->info.file = strdup(rd->name);
    if (!s->info.name || !s->info.file) {
        supp_clear(s);
        return NULL;
    }
    ss->n++;
    return s;
}

static int parse_kinds(const char *list, unsigned *kinds)
{
    static const struct { const char *name; unsigned bits; } words[] = {
        {"definite", LOSSREC_KIND_BIT(LOSSREC_DIRECT) | LOSSREC_KIND_BIT(LOSSREC_CYCLE)},
        {"direct", LOSSREC_KIND_BIT(LOSSREC_DIRECT)},       {"cycle", LOSSREC_KIND_BIT(LOSSREC_CYCLE)},
        {"indirect", LOSSREC_KIND_BIT(LOSSREC_INDIRECT)},   {"possible", LOSSREC_KIND_BIT(LOSSREC_POSSIBLE)},
        {"reachable", LOSSREC_KIND_BIT(LOSSREC_REACHABLE)}, {"all", LOSSREC_KINDS_ALL}};
    *kinds = 0;
    while (*list) {
        while (*list == ' ' || *list == ',')
            list++;
        size_t n = strcspn(list, ", "), i;
        if (!n)
            break;
        for (i = 0; i < sizeof(words) / sizeof(words[0]); i++)
            if (strlen(words[i].name) == n && !strncmp(list, words[i].name, n))
                break;
        if (i == sizeof(words) / sizeof(words[0]))
            return -1;
        *kinds |= words[i].bits;
        list += n;
    }
    return *kinds ? 0 : -1;
}

static int parse_frame_line(struct supp *s, const struct supp_reader *rd, char *err,
                            size_t errlen)
{
    struct supp_pat p = {PAT_DOTS, NULL, 0};
    const char *l = rd->line;
    if (s->npats == SUPP_MAX_PATS)
        return supp_fail(err, errlen, rd, "more than %d frame lines", SUPP_MAX_PATS);
    if (!strncmp(l, "fun:", 4) || !strncmp(l, "obj:", 4) || !strncmp(l, "src:", 4)) {
        p.type = l[0] == 'f' ? PAT_FUN : l[0] == 'o' ? PAT_OBJ : PAT_SRC;
        const char *colon = p.type == PAT_SRC ? strrchr(l + 4, ':') : NULL;
        uint64_t line;
        if (colon && cli_parse_count(colon + 1, INT32_MAX, &line) == 0 && line > 0)
            p.line = (int)line, p.glob = strndup(l + 4, (size_t)(colon - (l + 4)));
        else
            p.line = 0, p.glob = strdup(l + 4);
        if (!p.glob)
            return supp_fail(err, errlen, rd, "out of memory");
    } else if (strcmp(l, "...") != 0) {
        return supp_fail(err, errlen, rd, "bad frame line '%s' (want fun:, obj:, src: or ...)", l);
    }
    if (grow_array((void **)&s->pats, &s->cappats, (size_t)s->npats + 1,
                   sizeof(*s->pats)) < 0) {
        free(p.glob);
        return supp_fail(err, errlen, rd, "out of memory");
    }
    s->pats[s->npats++] = p;
    return 0;
}

/* A heapsnap:LeakedRef block's match- line into s; 1 when it was one. */
static int parse_pyref_line(struct supp *s, const struct supp_reader *rd, char *err,
                            size_t errlen, int *bad)
{
    const char *l = rd->line;
    char **glob = !strncmp(l, "match-type:", 11) ? &s->objtype_glob
                  : !strncmp(l, "match-path:", 11) ? &s->path_glob : NULL;
    *bad = 0;
    if (glob) {
        const char *v = l + 11;
        while (*v == ' ')
            v++;
        if (*glob || !*v) {
            *bad = supp_fail(err, errlen, rd, *v ? "a second '%.11s' line" : "empty '%.11s'", l);
            return 1;
        }
        if (!(*glob = strdup(v)))
            *bad = supp_fail(err, errlen, rd, "out of memory");
        return 1;
    }
    if (!strncmp(l, "match-excess:", 13)) {
        uint64_t v;
        const char *p = l + 13;
        while (*p == ' ')
            p++;
        if (s->excess >= 0 || cli_parse_count(p, INT32_MAX, &v) < 0 || v == 0)
            *bad = supp_fail(err, errlen, rd, s->excess >= 0 ? "a second 'match-excess:' line"
                             : "bad match-excess '%s' (want a count of references, 1 or more)", p);
        else
            s->excess = (long)v;
        return 1;
    }
    return 0;
}

/* A { ... } block; rd->line is "{". */
static int parse_block(struct supp_set *ss, struct supp_reader *rd, char *err, size_t errlen)
{
    char name[4096];
    unsigned kinds = LOSSREC_KINDS_ALL;
    int first = rd->lineno; /* the "{" line */
    if (!rd_content(rd) || !strcmp(rd->line, "}"))
        return supp_fail(err, errlen, rd, "suppression block without a name");
    snprintf(name, sizeof(name), "%s", rd->line);
    if (!rd_content(rd) || !strchr(rd->line, ':'))
        return supp_fail(err, errlen, rd, "block '%s': want TOOL:KIND (Memcheck:Leak)", name);
    int leak = !strcmp(rd->line, "Memcheck:Leak"), pyref = !strcmp(rd->line, "heapsnap:LeakedRef");
    struct supp *s = NULL;
    if (pyref) {
        if (!(s = supp_add(ss, rd, name, 0)))
            return supp_fail(err, errlen, rd, "out of memory");
        s->excess = -1;
        s->info.pyref = 1;
    }
    while (rd_content(rd) && strcmp(rd->line, "}") != 0) {
        int bad;
        if ((!leak && !pyref) || !strcmp(rd->line, "{"))
            continue;
        if (leak && !s && !strncmp(rd->line, "match-leak-kinds:", 17)) {
            if (parse_kinds(rd->line + 17, &kinds) < 0)
                return supp_fail(err, errlen, rd, "bad match-leak-kinds '%s'", rd->line + 17);
            continue;
        }
        if (pyref && !s->npats && parse_pyref_line(s, rd, err, errlen, &bad)) {
            if (bad)
                return -1;
            continue;
        }
        if (!s && !(s = supp_add(ss, rd, name, kinds)))
            return supp_fail(err, errlen, rd, "out of memory");
        if (parse_frame_line(s, rd, err, errlen) < 0)
            return -1;
    }
    if (strcmp(rd->line, "}") != 0)
        return supp_fail(err, errlen, rd, "block '%s' has no closing '}'", name);
    if (leak && !s)
        return supp_fail(err, errlen, rd, "block '%s' has no frame lines", name);
    if (pyref && !s->npats && !s->objtype_glob && !s->path_glob && s->excess < 0)
        return supp_fail(err, errlen, rd, "block '%s' matches every object (want match-type:, "
                         "match-excess:, match-path: or frame lines)", name);
    if (s) {
        s->info.line = first;
        s->info.valgrind = 1;
    }
    return 0;
}

static int parse_lsan(struct supp_set *ss, struct supp_reader *rd, char *err, size_t errlen)
{
    const char *colon = strchr(rd->line, ':');
    if (!colon || strncmp(rd->line, "leak:", 5) != 0)
        return supp_fail(err, errlen, rd, "unknown suppression '%s' (want leak:PATTERN or a "
                         "{ ... } block)", rd->line);
    if (!rd->line[5])
        return supp_fail(err, errlen, rd, "empty pattern after 'leak:'");
    unsigned kinds = LOSSREC_KINDS_ALL & ~LOSSREC_KIND_BIT(LOSSREC_REACHABLE);
    struct supp *s = supp_add(ss, rd, rd->line, kinds);
    if (!s || !(s->templ = strdup(rd->line + 5)))
        return supp_fail(err, errlen, rd, "out of memory");
    return 0;
}

int supp_parse(struct supp_set *ss, const char *text, const char *name, char *err,
               size_t errlen)
{
    struct supp_reader rd = {text, name, 0, ""};
    while (rd_content(&rd)) {
        int rc = !strcmp(rd.line, "{") ? parse_block(ss, &rd, err, errlen)
                                       : parse_lsan(ss, &rd, err, errlen);
        if (rc < 0)
            return -1;
    }
    return 0;
}

int supp_load(struct supp_set *ss, const char *path, char *err, size_t errlen)
{
    size_t len;
    char *text = in_read_text(path, IN_MAX_SUPP, &len, err, errlen);
    if (!text)
        return -1;
    int rc = strlen(text) == len ? supp_parse(ss, text, path, err, errlen) : -1;
    if (rc < 0 && strlen(text) != len)
        snprintf(err, errlen, "%s: a NUL byte at offset %zu: not a text file", path,
                 strlen(text));
    free(text);
    return rc;
}

int supp_add_snaps(struct supp_set **ss, const struct snap *snaps, char *const *paths, int n,
                   char *err, size_t errlen)
{
    char name[1024], why[1024];
    for (int i = 0; i < n; i++) {
        const char *text = snaps[i].supp_text;
        int seen = 0;
        for (int k = 0; text && k < i && !seen; k++)
            seen = snaps[k].supp_text && !strcmp(snaps[k].supp_text, text);
        if (!text || seen)
            continue;
        if (!*ss && !(*ss = supp_new())) {
            snprintf(err, errlen, "out of memory");
            return -1;
        }
        const char *exe = strrchr(snaps[i].exe, '/');
        snprintf(name, sizeof(name), "%s's __lsan_default_suppressions()",
                 exe ? exe + 1 : snaps[i].exe);
        size_t first = (*ss)->n;
        if (supp_parse(*ss, text, name, why, sizeof(why)) < 0) {
            snprintf(err, errlen, "%s: %s", paths[i], why);
            return -1;
        }
        for (size_t k = first; k < (*ss)->n; k++)
            (*ss)->v[k].info.embedded = 1;
    }
    int python = 0;
    for (int i = 0; i < n; i++)
        python |= snaps[i].py_version != 0;
    if (!python)
        return 0;
    if (!*ss && !(*ss = supp_new())) {
        snprintf(err, errlen, "out of memory");
        return -1;
    }
    size_t first = (*ss)->n;
    if (supp_parse(*ss, cpysupp_text, CPYSUPP_NAME, why, sizeof(why)) < 0) {
        snprintf(err, errlen, "%s: %s", CPYSUPP_NAME, why); /* never: tests parse it */
        return -1;
    }
    for (size_t k = first; k < (*ss)->n; k++)
        (*ss)->v[k].info.embedded = (*ss)->v[k].info.builtin = 1;
    return 0;
}

void supp_json(struct json *j, const struct supp_set *ss)
{
    json_key(j, "suppressions");
    json_arr_begin(j);
    for (size_t i = 0; ss && i < supp_count(ss); i++) {
        const struct supp_info *si = supp_get(ss, i);
        json_obj_begin(j);
        json_kstr(j, "name", si->name);
        json_kstr(j, "syntax", si->valgrind ? "valgrind" : "lsan");
        json_kstr(j, "kind", si->pyref ? "leaked-ref" : "leak");
        json_kstr(j, "file", si->file);
        json_kbool(j, "program", si->embedded);
        json_ku64(j, "line", (uint64_t)si->line);
        json_ku64(j, "records", si->records);
        json_ku64(j, "bytes", si->bytes);
        json_ku64(j, "blocks", si->blocks);
        json_kbool(j, "stale", si->records == 0);
        json_obj_end(j);
    }
    json_arr_end(j);
}
