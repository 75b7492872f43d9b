/*
 * pyleakreport.c - `leaks`' block of Python objects with leaked references:
 * a reference count above every pointer to the object in the process's
 * memory (the shim's pyl_count), a Py_INCREF that no Py_DECREF will
 * undo, so the object is never freed.  Grouped per allocation stack and
 * type, biggest first, each with its counts and the stack that made it
 * (a C extension's native frames under the Python line that called it):
 *
 *   1 Python object has leaked references: ...
 *     1 list (56 B) at app.py:12: refcount 2, 0 references found
 *       #0 make_leaked at leakref.c:20 (leakref.so)
 *       #1 app.py:12 in main
 *
 * --gen-suppressions prints, after each group's stack, the
 * heapsnap:LeakedRef block that matches it (its type, its excess, its
 * frames as fun: lines, as lossprint's Valgrind blocks), whichever syntax
 * was asked for: LeakSanitizer has no such kind.
 *
 * An object a heapsnap:LeakedRef suppression matches (supp_match_pyref:
 * numpy's and pandas' known leaks are built in, cpysupp.c) is listed after
 * them, one line a group, with the suppression's name, and not counted in
 * the block's first line.
 */
#include <stdlib.h>
#include <string.h>

#include "fmt.h"
#include "frames.h"
#include "jsondoc.h"
#include "pyleakreport.h"
#include "supp.h"

#define PYL_FRAMES 12 /* frames of a stack shown */

struct pyl_group {
    uint32_t trace, type, refcnt, refs;
    int supp;                  /* the suppression that matched, or -1 */
    uint64_t count, bytes;
};

static int pyl_cmp(const void *pa, const void *pb)
{
    const struct pyl_group *a = pa, *b = pb;
    if (a->trace != b->trace)
        return a->trace < b->trace ? -1 : 1;
    if (a->type != b->type)
        return a->type < b->type ? -1 : 1;
    if (a->refcnt != b->refcnt)
        return a->refcnt < b->refcnt ? -1 : 1;
    if (a->refs != b->refs)
        return a->refs < b->refs ? -1 : 1;
    return (a->supp > b->supp) - (a->supp < b->supp);
}

static int pyl_by_bytes(const void *pa, const void *pb)
{
    const struct pyl_group *a = pa, *b = pb;
    if (a->bytes != b->bytes)
        return a->bytes > b->bytes ? -1 : 1;
    return pyl_cmp(pa, pb);
}

static void pyl_stack(const struct snap *s, uint32_t trace, FILE *out)
{
    const struct frames_trace *t = frames_get(s, trace);
    if (!t)
        return;
    for (int i = t->first, k = 0; i < t->n && k < PYL_FRAMES; i++, k++) {
        const struct frame *f = t->fr[i];
        char where[300];
        fprintf(out, "      #%d %s at %s:%d (%s)\n", k, f->func,
                frames_where(f, where, sizeof where), f->line, f->module);
    }
}

/* s's objects with leaked references per (trace, type, counts, the
 * suppression of ss that matched), biggest first, *m of them (malloc'd;
 * NULL out of memory). */
static struct pyl_group *pyl_groups(const struct snap *s, const struct supp_set *ss, uint64_t *m)
{
    struct pyl_group *g = malloc(s->py.leakrefs * sizeof *g);
    uint64_t n = 0;
    *m = 0;
    if (!g)
        return NULL;
    for (uint64_t i = 0; i < s->nblocks && n < s->py.leakrefs; i++)
        if (s->py.block_refcnt[i])
            g[n++] = (struct pyl_group){s->blocks[i].trace, s->py.block_type[i],
                                        s->py.block_refcnt[i], s->py.block_refs[i],
                                        supp_match_pyref(ss, s, i), 1, s->blocks[i].size};
    qsort(g, n, sizeof *g, pyl_cmp);
    for (uint64_t i = 0; i < n; i++) {
        if (*m && !pyl_cmp(&g[*m - 1], &g[i])) {
            g[*m - 1].count++;
            g[*m - 1].bytes += g[i].bytes;
        } else {
            g[(*m)++] = g[i];
        }
    }
    qsort(g, *m, sizeof *g, pyl_by_bytes);
    return g;
}

void pyleakref_charge(struct supp_set *ss, const struct snap *snaps, int n)
{
    for (int k = 0; ss && k < n; k++) {
        const struct snap *s = &snaps[k];
        for (uint64_t i = 0, seen = 0; i < s->nblocks && seen < s->py.leakrefs; i++) {
            if (!s->py.block_refcnt[i])
                continue;
            seen++;
            int m = supp_match_pyref(ss, s, i);
            if (m >= 0)
                supp_charge(ss, m, s->blocks[i].size, 1);
        }
    }
}

/* "  1 float (24 B) at SITE: refcount 5, 1 reference found", after lead */
static void pyl_line(const struct snap *s, const struct pyl_group *g, const char *lead, FILE *out)
{
    const struct frames_trace *t = frames_get(s, g->trace);
    char sz[64], where[300];
    fmt_size(sz, sizeof sz, (double)g->bytes, 0);
    fprintf(out, "  %s%llu %s (%s) at ", lead, (unsigned long long)g->count,
            s->py.types[g->type].name, sz);
    if (t)
        fprintf(out, "%s:%d", frames_where(t->fr[t->site], where, sizeof where),
                t->fr[t->site]->line);
    fprintf(out, ": refcount %u, %u reference%s found", g->refcnt, g->refs,
            g->refs == 1 ? "" : "s");
}

/* The heapsnap:LeakedRef block that matches group g (supp.c's grammar). */
static void pyl_gen(const struct snap *s, const struct pyl_group *g, FILE *out)
{
    const struct frames_trace *t = frames_get(s, g->trace);
    const char *type = s->py.types[g->type].name;
    fprintf(out, "{\n   heapsnap-leakedref-%s-%s\n   heapsnap:LeakedRef\n   match-type: %s\n"
            "   match-excess: %u\n", type, t ? t->site_name : "?", type, g->refcnt - g->refs);
    for (int i = t ? t->first : 0; t && i < t->n && i - t->first < SUPP_MAX_PATS; i++)
        fprintf(out, "   fun:%s\n", t->fr[i]->func);
    fprintf(out, "}\n");
}

static int pyl_print_snap(const struct snap *s, const struct supp_set *ss, int gen, FILE *out)
{
    uint64_t m, n = 0, nsupp = 0;
    struct pyl_group *g = pyl_groups(s, ss, &m);
    if (!g)
        return -1;
    for (uint64_t i = 0; i < m; i++)
        *(g[i].supp >= 0 ? &nsupp : &n) += g[i].count;
    fprintf(out, "%llu Python object%s leaked references: a reference count above every "
            "pointer to it in memory (a Py_INCREF without its Py_DECREF), never freed",
            (unsigned long long)n, n == 1 ? " has" : "s have");
    if (nsupp)
        fprintf(out, " (and %llu suppressed)", (unsigned long long)nsupp);
    fputc('\n', out);
    for (uint64_t i = 0; i < m; i++) {
        if (g[i].supp >= 0)
            continue;
        pyl_line(s, &g[i], "", out);
        fputc('\n', out);
        pyl_stack(s, g[i].trace, out);
        if (gen)
            pyl_gen(s, &g[i], out);
    }
    for (uint64_t i = 0; i < m; i++) {
        if (g[i].supp < 0)
            continue;
        pyl_line(s, &g[i], "suppressed: ", out);
        fprintf(out, " [suppressed by %s]\n", supp_matched(ss, g[i].supp)->name);
    }
    fprintf(out, "\n");
    free(g);
    return 0;
}

int pyleakref_json(struct json *j, const struct snap *snaps, int n, const struct supp_set *ss)
{
    int rc = 0;
    json_key(j, "python_leaked_references");
    json_arr_begin(j);
    for (int k = 0; k < n; k++) {
        const struct snap *s = &snaps[k];
        uint64_t m = 0;
        struct pyl_group *g = s->py.leakrefs ? pyl_groups(s, ss, &m) : NULL;
        if (s->py.leakrefs && !g) {
            rc = -1; /* out of memory: that snapshot's left out, the document whole */
            continue;
        }
        for (uint64_t i = 0; i < m; i++) {
            const struct frames_trace *t = frames_get(s, g[i].trace);
            json_obj_begin(j);
            json_ku64(j, "snapshot", (uint64_t)k);
            json_kstr(j, "type", s->py.types[g[i].type].name);
            json_ku64(j, "objects", g[i].count);
            json_ku64(j, "bytes", g[i].bytes);
            json_ku64(j, "refcount", g[i].refcnt);
            json_ku64(j, "references_found", g[i].refs);
            json_kstr(j, "site", t ? t->site_name : NULL);
            json_kstr(j, "suppression", g[i].supp >= 0 ? supp_matched(ss, g[i].supp)->name : NULL);
            json_key(j, "stack");
            json_arr_begin(j);
            for (int f = t ? t->first : 0; t && f < t->n && f - t->first < PYL_FRAMES; f++) {
                json_obj_begin(j);
                jdoc_frame_fields(j, t->fr[f]);
                json_obj_end(j);
            }
            json_arr_end(j);
            json_obj_end(j);
        }
        free(g);
    }
    json_arr_end(j);
    return rc;
}

int pyleakref_print(const struct snap *snaps, int n, const struct supp_set *ss, int gen,
                    FILE *out)
{
    for (int i = 0; i < n; i++)
        if (snaps[i].py.leakrefs && pyl_print_snap(&snaps[i], ss, gen, out) < 0)
            return -1;
    return 0;
}
