/*
 * prof.c - the snapshots given to an export or the HTML report, read into
 * memory per distinct stack and memory over time (see prof.h for what a
 * stack, the state and a series are).
 *
 * Stacks are merged by their identity (frames_trace.shown: file, line,
 * function and module of every frame from the site outward), so the same
 * call path in two processes, or reached through two different wrappers,
 * is one stack.  Ties in the order (live bytes, then allocated bytes) are
 * broken by identity (frames_id_cmp), so that every output is the same
 * from run to run.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli.h"
#include "framerec.h"
#include "identrank.h"
#include "memline.h"
#include "prof.h"

const struct prof_value_info prof_values[PROF_NVALUES] = {
    [PROF_ALLOC_OBJECTS] = {"alloc_objects", "count", "blocks allocated"},
    [PROF_ALLOC_SPACE] = {"alloc_space", "bytes", "bytes allocated"},
    [PROF_INUSE_OBJECTS] = {"inuse_objects", "count", "live blocks"},
    [PROF_INUSE_SPACE] = {"inuse_space", "bytes", "live bytes"},
    [PROF_PEAK_OBJECTS] = {"peak_objects", "count", "blocks at the peak"},
    [PROF_PEAK_SPACE] = {"peak_space", "bytes", "bytes at the peak"},
};

int prof_value_parse(const char *name)
{
    for (int i = 0; i < PROF_NVALUES; i++)
        if (strcmp(name, prof_values[i].name) == 0)
            return i;
    return -1;
}

/* The stacks being summed: at[shown] is 1 + the index in v of the stack
 * whose identity is shown, or 0. */
struct sum_set {
    struct prof_stack *v;
    size_t n, cap;
    size_t *at;
    size_t capat;
};

/* Ties in the order are broken by the stacks' identities: each stack's
 * idents from its first frame outward (rk, its shown part's), compared by
 * their texts' ranks (identrank.h), not by following every frame of both
 * stacks to its record at each compare (60% of an export of a C
 * program's 774,243 stacks, most of them tied at a few sizes). */
static int stack_cmp(const void *a, const void *b, void *arg)
{
    const struct prof_stack *x = a, *y = b;
    if (x->v[PROF_INUSE_SPACE] != y->v[PROF_INUSE_SPACE])
        return x->v[PROF_INUSE_SPACE] > y->v[PROF_INUSE_SPACE] ? -1 : 1;
    if (x->v[PROF_ALLOC_SPACE] != y->v[PROF_ALLOC_SPACE])
        return x->v[PROF_ALLOC_SPACE] > y->v[PROF_ALLOC_SPACE] ? -1 : 1;
    int c = arg ? identrank_cmp(arg, x->rk, x->nrk, y->rk, y->nrk) : IDENTRANK_WHOLE;
    return c == IDENTRANK_WHOLE ? frames_id_cmp(x->t, y->t) : c;
}

/* ir and every stack's rk (its shown part's idents, frames.h); 0, 1 when
 * a frame has no ident (the order by frames_id_cmp alone), -1 when out of
 * memory. */
static int stacks_ranked(struct identrank *ir, struct prof_stack *v, size_t n)
{
    for (size_t i = 0; i < n; i++) {
        const struct frames_trace *t = v[i].t;
        for (int k = 0; k < t->n - t->first; k++) {
            if (t->ids[k] == FRAMES_NO_IDENT)
                return 1;
            if (identrank_note(ir, t->ids[k]) < 0)
                return -1;
        }
        v[i].rk = t->ids;
        v[i].nrk = (uint32_t)(t->n - t->first);
    }
    return identrank_make(ir, frec_ident_text) < 0 ? -1 : 0;
}

/* *a += v, held at INT64_MAX: a crafted snapshot's sums must not wrap. */
static void sat_add(int64_t *a, uint64_t v)
{
    *a = v > (uint64_t)(INT64_MAX - *a) ? INT64_MAX : *a + (int64_t)v;
}

static int prof_kind; /* SNAP_KIND_*: prof_set_kind */

void prof_set_kind(int kind)
{
    prof_kind = kind;
}

int prof_get_kind(void)
{
    return prof_kind;
}

static int prof_live_only; /* prof_set_live_only */

void prof_set_live_only(int on)
{
    prof_live_only = on;
}

/* Adds the traces of s (of the kind asked) to *set; -1 when out of memory. */
static int sum_snap(struct sum_set *set, const struct snap *s)
{
    for (uint32_t i = 0; i < s->ntraces; i++) {
        if (!snap_kind_kept(prof_kind, s, i))
            continue;
        const struct hsnap_stat *st = &s->stats[i];
        const struct hsnap_stat *pk = s->has_peak && s->peak_stats ? &s->peak_stats[i] : NULL;
        if (!st->live_count && !st->live_bytes && !st->total_count && !st->total_bytes &&
            (!pk || (!pk->live_count && !pk->live_bytes)))
            continue;
        if (prof_live_only && !st->live_count && !st->live_bytes)
            continue;
        const struct frames_trace *t = frames_get(s, i);
        if (!t)
            return -1;
        size_t old = set->capat;
        if (grow_array((void **)&set->at, &set->capat, (size_t)t->shown + 1, sizeof(*set->at)) < 0)
            return -1;
        memset(set->at + old, 0, (set->capat - old) * sizeof(*set->at));
        if (!set->at[t->shown]) {
            if (grow_array((void **)&set->v, &set->cap, set->n + 1, sizeof(*set->v)) < 0)
                return -1;
            memset(&set->v[set->n], 0, sizeof(*set->v));
            set->v[set->n].t = t;
            set->at[t->shown] = ++set->n;
        }
        struct prof_stack *e = &set->v[set->at[t->shown] - 1];
        sat_add(&e->v[PROF_ALLOC_OBJECTS], st->total_count);
        sat_add(&e->v[PROF_ALLOC_SPACE], st->total_bytes);
        sat_add(&e->v[PROF_INUSE_OBJECTS], st->live_count);
        sat_add(&e->v[PROF_INUSE_SPACE], st->live_bytes);
        if (pk) {
            sat_add(&e->v[PROF_PEAK_OBJECTS], pk->live_count);
            sat_add(&e->v[PROF_PEAK_SPACE], pk->live_bytes);
        }
    }
    return 0;
}

int prof_sum(const struct snap *const *snaps, size_t n, struct prof_stack **out,
             size_t *nout)
{
    struct sum_set set = {0};
    int rc = 0;
    for (size_t i = 0; rc == 0 && i < n; i++)
        rc = sum_snap(&set, snaps[i]);
    free(set.at);
    if (rc == 0 && !set.v)
        set.v = malloc(sizeof(*set.v));
    if (rc < 0 || !set.v) {
        free(set.v);
        *out = NULL;
        return -1;
    }
    struct identrank ir = {0};
    int ranked = stacks_ranked(&ir, set.v, set.n);
    if (ranked < 0) {
        identrank_free(&ir);
        free(set.v);
        *out = NULL;
        return -1;
    }
    qsort_r(set.v, set.n, sizeof(*set.v), stack_cmp, ranked == 0 ? &ir : NULL);
    for (size_t i = 0; i < set.n; i++)
        set.v[i].rk = NULL;
    identrank_free(&ir);
    *out = set.v;
    *nout = set.n;
    return 0;
}

/* --- numbered frames ------------------------------------------------------ */

long prof_ftab_index(struct prof_ftab *ft, const struct frame *f)
{
    size_t old = ft->capident;
    if (grow_array((void **)&ft->byident, &ft->capident, (size_t)f->ident + 1,
                   sizeof(*ft->byident)) < 0)
        return -1;
    memset(ft->byident + old, 0, (ft->capident - old) * sizeof(*ft->byident));
    if (ft->byident[f->ident])
        return ft->byident[f->ident] - 1;
    if (grow_array((void **)&ft->frames, &ft->cap, ft->n + 1, sizeof(*ft->frames)) < 0)
        return -1;
    ft->frames[ft->n] = f;
    ft->byident[f->ident] = (long)ft->n + 1;
    return (long)ft->n++;
}

int prof_ftab_number(struct prof_ftab *ft, const struct prof_stack *st, size_t n,
                     uint32_t **ids, size_t **off)
{
    size_t total = 0;
    for (size_t i = 0; i < n; i++)
        total += (size_t)prof_depth(&st[i]);
    *ids = malloc((total ? total : 1) * sizeof(**ids));
    *off = malloc((n + 1) * sizeof(**off));
    if (!*ids || !*off)
        goto oom;
    (*off)[0] = 0;
    for (size_t i = 0, at = 0; i < n; i++) {
        for (int d = 0; d < prof_depth(&st[i]); d++) {
            long k = prof_ftab_index(ft, prof_frame(&st[i], d));
            if (k < 0 || k > (long)UINT32_MAX)
                goto oom;
            (*ids)[at++] = (uint32_t)k;
        }
        (*off)[i + 1] = at;
    }
    return 0;
oom:
    free(*ids);
    free(*off);
    *ids = NULL;
    *off = NULL;
    return -1;
}

void prof_ftab_free(struct prof_ftab *ft)
{
    free(ft->byident);
    free(ft->frames);
    memset(ft, 0, sizeof(*ft));
}

/* --- processes and the state -------------------------------------------- */

/* Numbers the processes and marks the snapshot of each that counts: the
 * one rule of series_pick, which top applies too.  -1 when out of memory. */
static int find_procs(struct prof *p, const struct snap *snaps, char **paths, int n)
{
    struct series sr;
    if (series_pick(&sr, snaps, n, NULL, 0) < 0) {
        series_free(&sr);
        return -1;
    }
    p->nprocs = sr.nprocs;
    for (size_t i = 0; i < p->nin; i++) {
        p->in[i].proc = sr.proc[i];
        p->in[i].latest = sr.use[i];
    }
    series_note(&sr, snaps, paths, p->note, sizeof(p->note));
    series_free(&sr);
    return 0;
}

/* --- the timeline --------------------------------------------------------- */

/* By time; at one time the highest first (the one kept). */
static int point_cmp(const void *a, const void *b)
{
    const struct prof_point *x = a, *y = b;
    if (x->t_ns != y->t_ns)
        return x->t_ns < y->t_ns ? -1 : 1;
    return x->v > y->v ? -1 : x->v < y->v;
}

static int add_point(struct prof_series *se, size_t *cap, uint64_t abs_ns, uint64_t t0,
                     uint64_t v)
{
    if (grow_array((void **)&se->pts, cap, se->n + 1, sizeof(*se->pts)) < 0)
        return -1;
    se->pts[se->n].t_ns = abs_ns > t0 ? abs_ns - t0 : 0;
    se->pts[se->n++].v = v > INT64_MAX ? INT64_MAX : (int64_t)v;
    return 0;
}

static const char *base_of(const char *path)
{
    const char *slash = strrchr(path, '/');
    return slash && slash[1] ? slash + 1 : path;
}

/* The traced heap of process proc: every point its snapshots hold, once
 * (ml: its SITELINE points too, and its traced peaks: memline_build). */
static int heap_series(struct prof *p, int proc, const struct memline *ml,
                       struct prof_series *se)
{
    size_t cap = 0;
    const struct snap *first = NULL;
    for (size_t i = 0; i < p->nin; i++) {
        const struct snap *s = p->in[i].s;
        if (p->in[i].proc != proc)
            continue;
        first = first ? first : s;
        for (uint32_t k = 0; k < s->npoints; k++)
            if (add_point(se, &cap, s->meta.start_ns + s->points[k].t_ns, p->t0_ns,
                          s->points[k].bytes) < 0)
                return -1;
        if (add_point(se, &cap, s->meta.time_ns, p->t0_ns, s->meta.current_bytes) < 0)
            return -1;
    }
    for (size_t i = 0; i < ml->n; i++)
        if (add_point(se, &cap, first->meta.start_ns + ml->pts[i].t_ns, p->t0_ns,
                      ml->pts[i].heap) < 0)
            return -1;
    qsort(se->pts, se->n, sizeof(*se->pts), point_cmp);
    size_t k = 0;
    for (size_t i = 0; i < se->n; i++)
        if (k == 0 || se->pts[i].t_ns != se->pts[k - 1].t_ns)
            se->pts[k++] = se->pts[i];
    se->n = k;
    se->kind = "heap";
    se->proc = proc;
    char label[300];
    snprintf(label, sizeof(label), "pid %u %s", first->meta.pid,
             base_of(first->exe && first->exe[0] ? first->exe : "?"));
    return (se->label = strdup(label)) ? 0 : -1;
}

/* Process proc's resident set (site < 0) or its site-th largest site, from
 * its SITELINE points. */
static int sl_series(struct prof *p, int proc, const struct memline *ml, long site,
                     const char *heap_label, struct prof_series *se)
{
    size_t cap = 0;
    uint64_t start = ml->latest->meta.start_ns;
    char label[4200];
    for (size_t i = 0; i < ml->n; i++) {
        uint64_t v = ml->pts[i].rss;
        if (site >= 0)
            memline_bytes(ml, &ml->pts[i], (size_t)site, &v);
        else if (!v)
            continue; /* not read */
        if (add_point(se, &cap, start + ml->pts[i].t_ns, p->t0_ns, v) < 0)
            return -1;
    }
    se->kind = site < 0 ? "rss" : "site";
    se->proc = proc;
    if (site < 0)
        snprintf(label, sizeof(label), "%s", heap_label);
    else if (strcmp(ml->sites[site].name, ml->sites[site].func))
        snprintf(label, sizeof(label), "%s %s", ml->sites[site].name, ml->sites[site].func);
    else
        snprintf(label, sizeof(label), "%s", ml->sites[site].name);
    return (se->label = strdup(label)) ? 0 : -1;
}

/* The memline of process proc. */
static int proc_memline(const struct prof *p, int proc, struct memline *ml)
{
    const struct snap **mine = calloc(p->nin + 1, sizeof(*mine));
    int m = 0;
    if (!mine)
        return -1;
    for (size_t i = 0; i < p->nin; i++)
        if (p->in[i].proc == proc)
            mine[m++] = p->in[i].s;
    int rc = memline_build(ml, mine, m);
    free(mine);
    return rc;
}

/* Every series: the heap of each process first (massif reads series[0]),
 * then the resident sets and sites of those with SITELINE. */
static int all_series(struct prof *p)
{
    struct memline *ml = calloc((size_t)p->nprocs + 1, sizeof(*ml));
    size_t total = (size_t)p->nprocs;
    int rc = -1;
    if (!ml)
        return -1;
    for (int k = 0; k < p->nprocs; k++) {
        if (proc_memline(p, k, &ml[k]) < 0)
            goto out;
        if (ml[k].has_sites)
            total += 1 + (ml[k].nsites < PROF_SITE_SERIES ? ml[k].nsites : PROF_SITE_SERIES);
    }
    if (!(p->series = calloc(total + 1, sizeof(*p->series))))
        goto out;
    for (int k = 0; k < p->nprocs; k++, p->nseries++)
        if (heap_series(p, k, &ml[k], &p->series[k]) < 0)
            goto out;
    for (int k = 0; k < p->nprocs; k++)
        for (long site = -1; ml[k].has_sites && site < (long)ml[k].nsites && site < PROF_SITE_SERIES;
             site++, p->nseries++)
            if (sl_series(p, k, &ml[k], site, p->series[k].label, &p->series[p->nseries]) < 0)
                goto out;
    rc = 0;
out:
    for (int k = 0; k < p->nprocs; k++)
        memline_free(&ml[k]);
    free(ml);
    return rc;
}

/* --- the whole -------------------------------------------------------------- */

int prof_build(struct prof *p, const struct snap *snaps, char **paths, int n, char *err,
               size_t errlen)
{
    const struct snap **state = calloc(n ? n : 1, sizeof(*state));
    size_t nstate = 0;
    memset(p, 0, sizeof(*p));
    p->in = calloc(n ? n : 1, sizeof(*p->in));
    if (!p->in || !state)
        goto oom;
    p->nin = (size_t)n;
    for (int i = 0; i < n; i++) {
        p->in[i].s = &snaps[i];
        p->in[i].path = paths[i];
        if (i == 0 || snaps[i].meta.start_ns < p->t0_ns)
            p->t0_ns = snaps[i].meta.start_ns;
    }
    if (find_procs(p, snaps, paths, n) < 0)
        goto oom;
    for (size_t i = 0; i < p->nin; i++)
        if (p->in[i].latest)
            state[nstate++] = p->in[i].s;
    if (prof_sum(state, nstate, &p->stacks, &p->nstacks) < 0)
        goto oom;
    if (!prof_live_only && all_series(p) < 0)
        goto oom;
    free(state);
    return 0;
oom:
    free(state);
    prof_free(p);
    snprintf(err, errlen, "out of memory");
    return -1;
}

void prof_free(struct prof *p)
{
    for (size_t i = 0; i < p->nseries + (p->series ? 1 : 0) && p->series; i++) {
        free(p->series[i].pts);
        free(p->series[i].label);
    }
    free(p->series);
    free(p->stacks);
    free(p->in);
    memset(p, 0, sizeof(*p));
}

int prof_load(struct prof_run *r, const char *cmd, char **paths, int n, uint32_t skip,
              char *err, size_t errlen)
{
    char why[512];
    memset(r, 0, sizeof(*r));
    r->snaps = calloc(n ? n : 1, sizeof(*r->snaps));
    if (!r->snaps) {
        snprintf(err, errlen, "%s: out of memory", cmd);
        return 2;
    }
    for (; r->loaded < n; r->loaded++)
        if (snap_load_skip(paths[r->loaded], &r->snaps[r->loaded], skip, err, errlen) < 0)
            return 2;
    if (prof_build(&r->p, r->snaps, paths, n, why, sizeof(why)) < 0) {
        snprintf(err, errlen, "%s: %s", cmd, why);
        return 2;
    }
    return 0;
}

void prof_unload(struct prof_run *r)
{
    prof_free(&r->p);
    frames_fini();
    for (int i = 0; r->snaps && i < r->loaded; i++)
        snap_free(&r->snaps[i]);
    free(r->snaps);
    memset(r, 0, sizeof(*r));
}
