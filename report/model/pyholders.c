/*
 * pyholders.c - who holds the Python objects: the shortest paths from a
 * root (pypath.c) that hold the objects allocated at SITE (leaks --why
 * SITE) or of a type (top --retainers, by type), grouped as objgraph's and
 * memray's retention views group them, the same way for both.  Objects whose
 * paths differ only by a key or an index (the items of one list, the
 * values of one dict) share a shape (pypath_shape); a shape taken by at
 * most PYHOLD_LISTED distinct paths lists each path with its count, as
 * it is; a larger one is a single line with the objects' count and
 * PYHOLD_EXAMPLES of its paths:
 *
 *   37 objects via module app, global CACHE (dict) -> [...] (list) -> [...] (app.Item)
 *       e.g. module app, global CACHE (dict) -> ['u1'] (list) -> [0] (app.Item)
 *
 * Shapes are shown biggest first, at most PYHOLD_SHAPES of them (the
 * rest: "N more objects by other paths").  Objects with no path (untracked
 * and held only from C, or as a dict's key) and garbage are said apart.
 */
#include <stdlib.h>
#include <string.h>

#include "fmt.h"
#include "frames.h"
#include "hidx.h"
#include "json.h"
#include "pyholders.h"
#include "pypath.h"
#include "snap.h"

#define PYHOLD_SHAPES 8   /* shapes shown a snapshot */
#define PYHOLD_LISTED 5   /* a shape of at most this many distinct paths lists them all */
#define PYHOLD_EXAMPLES 3 /* paths shown for a larger shape */
#define PYHOLD_TEXT 2048  /* a path's text */

struct pyhold_shape {
    char *shape;                       /* pypath_shape's text */
    char *path[PYHOLD_LISTED + 1];     /* its distinct paths, first met */
    uint64_t count[PYHOLD_LISTED + 1]; /* objects of each */
    int npaths;                        /* kept in path[] */
    int many;                          /* more distinct paths than path[] holds */
    uint64_t objects;                  /* every object of the shape */
};

struct pyhold_site {
    struct pyhold_shape sh[PYHOLD_SHAPES];
    int nsh;
    uint64_t objects, more, unreached;
    uint32_t utype; /* an unreached object's type */
};

/* Whether the site of trace answers to want: "file:line" as shown,
 * "basename:line", or its function (leaks --why's SITE). */
static int pyhold_site_is(const struct snap *s, uint32_t trace, const char *want)
{
    const struct frames_trace *t = frames_get(s, trace);
    char buf[4200], where[300];
    if (!t)
        return 0;
    const struct frame *f = t->fr[t->site];
    const char *file = frames_where(f, where, sizeof where), *base = strrchr(file, '/');
    snprintf(buf, sizeof buf, "%s:%d", file, f->line);
    if (!strcmp(buf, want) || !strcmp(f->func, want))
        return 1;
    snprintf(buf, sizeof buf, "%s:%d", base ? base + 1 : file, f->line);
    return !strcmp(buf, want);
}

/* Counts one object of path (text) into shape k of h; -1: out of memory. */
static int pyhold_add(struct pyhold_site *h, int k, const char *path)
{
    struct pyhold_shape *g = &h->sh[k];
    g->objects++;
    int p;
    for (p = 0; p < g->npaths && strcmp(g->path[p], path); p++)
        ;
    if (p < g->npaths) {
        g->count[p]++;
    } else if (g->npaths < PYHOLD_LISTED + 1) {
        if (!(g->path[p] = strdup(path)))
            return -1;
        g->count[p] = 1;
        g->npaths++;
    } else {
        g->many = 1;
    }
    return 0;
}

/* Listed one path a line: at most PYHOLD_LISTED distinct paths. */
static int pyhold_listed(const struct pyhold_shape *g)
{
    return !g->many && g->npaths <= PYHOLD_LISTED;
}

/* Which objects a grouping takes: block b of s. */
typedef int (*pyhold_match)(const struct snap *s, uint64_t b, const void *arg);

static int pyhold_at_site(const struct snap *s, uint64_t b, const void *site)
{
    return pyhold_site_is(s, s->blocks[b].trace, site);
}

static int pyhold_of_type(const struct snap *s, uint64_t b, const void *t)
{
    return s->py.block_type[b] == *(const uint32_t *)t && pypath_has(s, b);
}

/* A shape's count over all the objects (pyhold_collect's first pass). */
struct pyhold_tally {
    char *shape;
    uint64_t objects, first; /* first: its first object's place in the pass */
    int top;                 /* its slot among the shapes shown, or -1 */
};

static uint64_t pyhold_hash(const char *t)
{
    uint64_t h = 0xcbf29ce484222325ull; /* FNV-1a */
    for (; *t; t++)
        h = (h ^ (uint8_t)*t) * 0x100000001b3ull;
    return h;
}

static int pyhold_same(const void *item, const void *key)
{
    return !strcmp(((const struct pyhold_tally *)item)->shape, key);
}

/* Before b in the shapes shown: more objects, or as many and met first. */
static int pyhold_before(const struct pyhold_tally *a, const struct pyhold_tally *b)
{
    return a->objects != b->objects ? a->objects > b->objects : a->first < b->first;
}

/* Object b's path or shape, where not NULL (garbage: the line "TYPE:
 * garbage ..." when typed, both); 0, or 1 when it has no path (untracked,
 * and no holder found). */
static int pyhold_texts(const struct snap *s, uint64_t b, int typed, char *path, char *shape)
{
    if (s->py.block_flags[b] & HSNAP_PYOBJ_GARBAGE) {
        char *t = path ? path : shape;
        snprintf(t, PYHOLD_TEXT, "%s%sgarbage awaiting the collector (no root reaches it)",
                 typed ? s->py.types[s->py.block_type[b]].name : "", typed ? ": " : "");
        if (path && shape)
            memcpy(shape, path, strlen(path) + 1);
        return 0;
    }
    if (!pypath_has(s, b))
        return 1;
    if (path)
        pypath_of(s, b, path, PYHOLD_TEXT);
    if (shape)
        pypath_shape(s, b, shape, PYHOLD_TEXT);
    return 0;
}

/* The objects match takes into h, grouped: every object's shape counted
 * first, then the PYHOLD_SHAPES biggest (as many: the first met) taken
 * with their paths, so that a big shape met after many small ones is
 * still shown.  -1: out of memory. */
static int pyhold_collect(const struct snap *s, pyhold_match match, const void *arg, int typed,
                          struct pyhold_site *h)
{
    char path[PYHOLD_TEXT], shape[PYHOLD_TEXT];
    struct hidx idx = {0};
    struct pyhold_tally **of = NULL, *top[PYHOLD_SHAPES];
    uint64_t *at = NULL, n = 0, cap = 0;
    int ntop = 0, rc = -1;
    memset(h, 0, sizeof *h);
    h->utype = PYTYPE_NONE;
    for (uint64_t b = 0; b < s->nblocks; b++) {
        if (s->py.block_type[b] == PYTYPE_NONE || !match(s, b, arg))
            continue;
        h->objects++;
        if (pyhold_texts(s, b, typed, NULL, shape)) {
            h->unreached++, h->utype = s->py.block_type[b];
            continue;
        }
        uint64_t hs = pyhold_hash(shape);
        struct pyhold_tally *t = hidx_find(&idx, hs, pyhold_same, shape);
        if (!t) {
            if (!(t = calloc(1, sizeof *t)) || !(t->shape = strdup(shape)) ||
                hidx_add(&idx, hs, t) < 0) {
                if (t)
                    free(t->shape);
                free(t);
                goto out;
            }
            t->first = n, t->top = -1;
        }
        t->objects++;
        if (n == cap) {
            cap = cap ? 2 * cap : 1024;
            void *a = realloc(at, cap * sizeof *at), *o = a ? realloc(of, cap * sizeof *of) : NULL;
            if (a)
                at = a;
            if (!o)
                goto out;
            of = o;
        }
        at[n] = b, of[n++] = t;
    }
    for (size_t i = 0; i < idx.cap; i++) { /* the biggest, in order */
        struct pyhold_tally *t = idx.slot[i].item;
        if (!t)
            continue;
        int k = ntop < PYHOLD_SHAPES ? ntop++ : PYHOLD_SHAPES;
        for (; k > 0 && pyhold_before(t, top[k - 1]); k--)
            if (k < PYHOLD_SHAPES)
                top[k] = top[k - 1];
        if (k < PYHOLD_SHAPES)
            top[k] = t;
    }
    for (; h->nsh < ntop; h->nsh++) { /* biggest first */
        top[h->nsh]->top = h->nsh;
        if (!(h->sh[h->nsh].shape = strdup(top[h->nsh]->shape)))
            goto out;
    }
    for (uint64_t i = 0; i < n; i++) {
        if (of[i]->top < 0) {
            h->more++;
            continue;
        }
        pyhold_texts(s, at[i], typed, path, NULL);
        if (pyhold_add(h, of[i]->top, path) < 0)
            goto out;
    }
    for (int k = 0; k < h->nsh; k++) /* a listed shape's paths: most objects first */
        for (int p = 1; pyhold_listed(&h->sh[k]) && p < h->sh[k].npaths; p++)
            for (int q = p; q > 0 && h->sh[k].count[q - 1] < h->sh[k].count[q]; q--) {
                struct pyhold_shape *g = &h->sh[k];
                char *t = g->path[q];
                uint64_t c = g->count[q];
                g->path[q] = g->path[q - 1], g->count[q] = g->count[q - 1];
                g->path[q - 1] = t, g->count[q - 1] = c;
            }
    rc = 0;
out:
    for (size_t i = 0; i < idx.cap; i++)
        if (idx.slot[i].item) {
            free(((struct pyhold_tally *)idx.slot[i].item)->shape);
            free(idx.slot[i].item);
        }
    hidx_free(&idx);
    free(at);
    free(of);
    return rc;
}

static void pyhold_free(struct pyhold_site *h)
{
    for (int k = 0; k < h->nsh; k++) {
        free(h->sh[k].shape);
        for (int p = 0; p < h->sh[k].npaths; p++)
            free(h->sh[k].path[p]);
    }
}

static const char *pyhold_s(uint64_t n)
{
    return n == 1 ? "" : "s";
}

/* The groups' lines, each indented by ind. */
static void pyhold_lines(const struct pyhold_site *h, const char *ind, FILE *out)
{
    for (int k = 0; k < h->nsh; k++) {
        const struct pyhold_shape *g = &h->sh[k];
        if (pyhold_listed(g)) {
            for (int p = 0; p < g->npaths; p++)
                fprintf(out, "%s%llu object%s: %s\n", ind, (unsigned long long)g->count[p],
                        pyhold_s(g->count[p]), g->path[p]);
            continue;
        }
        fprintf(out, "%s%llu objects via %s\n", ind, (unsigned long long)g->objects, g->shape);
        for (int p = 0; p < PYHOLD_EXAMPLES && p < g->npaths; p++)
            fprintf(out, "%s    %s %s\n", ind, p ? "    " : "e.g.", g->path[p]);
    }
    if (h->more)
        fprintf(out, "%s%llu more object%s by other paths\n", ind, (unsigned long long)h->more,
                pyhold_s(h->more));
}

static void pyhold_text(const struct snap *s, const struct pyhold_site *h, const char *site,
                        FILE *out)
{
    fprintf(out, "Python objects at %s: who holds them (shortest paths from a root):\n", site);
    pyhold_lines(h, "  ", out);
    if (h->unreached) /* never a header alone: why there is no path */
        fprintf(out,
                "  %llu object%s (%s, ...) with no path: not tracked by the gc, and held "
                "by no tracked object or named root but as a dict's key, which the graph "
                "does not follow, or from C code\n",
                (unsigned long long)h->unreached, pyhold_s(h->unreached),
                s->py.types[h->utype].name);
    fprintf(out, "\n");
}

/* The groups as JSON: "paths" (biggest first) and "more_objects". */
static void pyhold_paths_json(const struct pyhold_site *h, struct json *j)
{
    json_key(j, "paths");
    json_arr_begin(j);
    for (int k = 0; k < h->nsh; k++) {
        const struct pyhold_shape *g = &h->sh[k];
        int listed = pyhold_listed(g);
        for (int p = 0; p < (listed ? g->npaths : 1); p++) {
            json_obj_begin(j);
            json_kstr(j, "path", listed ? g->path[p] : g->shape);
            json_ku64(j, "objects", listed ? g->count[p] : g->objects);
            json_kbool(j, "grouped", !listed);
            if (!listed) {
                json_key(j, "examples");
                json_arr_begin(j);
                for (int e = 0; e < PYHOLD_EXAMPLES && e < g->npaths; e++)
                    json_str(j, g->path[e]);
                json_arr_end(j);
            }
            json_obj_end(j);
        }
    }
    json_arr_end(j);
    json_ku64(j, "more_objects", h->more);
}

static void pyhold_json(const struct snap *s, int index, const struct pyhold_site *h,
                        struct json *j)
{
    json_obj_begin(j);
    json_ku64(j, "snapshot", (uint64_t)index);
    json_ku64(j, "objects", h->objects);
    pyhold_paths_json(h, j);
    json_ku64(j, "objects_without_path", h->unreached);
    if (h->unreached)
        json_kstr(j, "without_path_type", s->py.types[h->utype].name);
    json_obj_end(j);
}

int pyholders_print(const struct snap *snaps, int n, const char *site, FILE *out,
                    struct json *j)
{
    uint64_t found = 0;
    if (j)
        json_arr_begin(j);
    for (int i = 0; i < n; i++) {
        const struct snap *s = &snaps[i];
        struct pyhold_site h;
        if (!s->py.graph)
            continue;
        if (pyhold_collect(s, pyhold_at_site, site, 1, &h) < 0) {
            pyhold_free(&h);
            return -1;
        }
        found += h.objects;
        if (h.objects && j)
            pyhold_json(s, i, &h, j);
        else if (h.objects)
            pyhold_text(s, &h, site, out);
        pyhold_free(&h);
    }
    if (j)
        json_arr_end(j);
    return found > INT32_MAX ? INT32_MAX : (int)found;
}

/* A type's share of a snapshot's reached objects. */
struct pyhold_type {
    uint32_t type;
    uint64_t count, bytes;
};

static int pyhold_type_cmp(const void *pa, const void *pb)
{
    const struct pyhold_type *a = pa, *b = pb;
    if (a->bytes != b->bytes)
        return a->bytes > b->bytes ? -1 : 1;
    return (a->type > b->type) - (a->type < b->type);
}

/* Type t's objects of s, grouped: lines, or the type's JSON object. */
static int pyhold_type(const struct snap *s, const struct pyhold_type *t, FILE *out,
                       struct json *j)
{
    struct pyhold_site h;
    char sz[64];
    int rc = pyhold_collect(s, pyhold_of_type, &t->type, 0, &h);
    if (rc == 0 && j) {
        json_obj_begin(j);
        json_kstr(j, "type", s->py.types[t->type].name);
        json_ku64(j, "objects", t->count);
        json_ku64(j, "size", t->bytes);
        pyhold_paths_json(&h, j);
        json_obj_end(j);
    } else if (rc == 0) {
        fmt_size(sz, sizeof sz, (double)t->bytes, 0);
        fprintf(out, "  %s: %llu object%s, %s\n", s->py.types[t->type].name,
                (unsigned long long)t->count, pyhold_s(t->count), sz);
        pyhold_lines(&h, "    ", out);
    }
    pyhold_free(&h);
    return rc;
}

int pyholders_by_type(const struct snap *snaps, int n, long limit, FILE *out, struct json *j)
{
    if (j)
        json_arr_begin(j);
    for (int i = 0; i < n; i++) {
        const struct snap *s = &snaps[i];
        if (!s->py.graph)
            continue;
        struct pyhold_type *ty = calloc(s->py.ntypes ? s->py.ntypes : 1, sizeof *ty);
        if (!ty)
            return -1;
        for (uint32_t t = 0; t < s->py.ntypes; t++)
            ty[t].type = t;
        for (uint64_t b = 0; b < s->nblocks; b++)
            if (pypath_has(s, b)) {
                ty[s->py.block_type[b]].count++;
                ty[s->py.block_type[b]].bytes += s->blocks[b].size;
            }
        qsort(ty, s->py.ntypes, sizeof *ty, pyhold_type_cmp);
        uint32_t shown = s->py.ntypes;
        while (shown && !ty[shown - 1].count)
            shown--;
        if (limit > 0 && (uint64_t)limit < shown)
            shown = (uint32_t)limit;
        if (!j)
            fprintf(out, "Python objects by type: who holds them (shortest paths from a root)\n");
        for (uint32_t k = 0; k < shown; k++)
            if (pyhold_type(s, &ty[k], out, j) < 0) {
                free(ty);
                return -1;
            }
        if (!j)
            fprintf(out, "\n");
        free(ty);
    }
    if (j)
        json_arr_end(j);
    return 0;
}
