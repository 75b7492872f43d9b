/*
 * memline.c - one process's memory over time from its snapshots (see
 * memline.h for what is merged and why).
 *
 * Steps: gather every point of every snapshot (SITELINE's, or TIMELINE's
 * and the snapshots' own totals), and each snapshot's traced peak at the
 * time of its capture (PEAK), sort them by time and keep each time
 * once (the same point is in every later snapshot of the process, until
 * a halving drops it; of two at one time, the higher); then name each
 * point's sites through frames_get, add up the traces that share a
 * site (two call paths to one line), and rank the sites by the most bytes
 * they held.
 *
 * The peak: the samples are spaced (HEAPSNAP_SITELINE, 0.1 s), so a
 * program that rises and falls between two of them would draw a line far
 * below its traced peak.  The shim captured what each trace held at the
 * peak, and when (the shim's peak_step: within a step of it, 1% or 4 KiB); that
 * capture is a point of the line, at the traced peak (meta.peak_bytes),
 * its sites the capture's and the bytes the capture missed in "other".
 */
#include <stdlib.h>
#include <string.h>
#include <uthash.h>

#include "cli.h"
#include "frames.h"
#include "memline.h"
#include "series.h"
#include "sitelineread.h"

/* A point as gathered: where it is. */
struct ml_raw {
    uint64_t t_ns;
    const struct snap *s;
    int64_t i;            /* SITELINE point; ML_TIMELINE (point k), ML_SNAPSHOT, ML_PEAK */
    uint32_t k;
};

enum { ML_TIMELINE = -1, ML_SNAPSHOT = -2, ML_PEAK = -3 };

struct ml_name {
    const char *name;     /* frames' site_name */
    size_t site;          /* index into ml->sites */
    UT_hash_handle hh;
};

int memline_procs(const struct snap *snaps, int n, int *proc)
{
    int nprocs = 0;
    for (int i = 0; i < n; i++) {
        proc[i] = -1;
        for (int j = 0; j < i && proc[i] < 0; j++)
            if (series_same_proc(&snaps[i], &snaps[j]))
                proc[i] = proc[j];
        if (proc[i] < 0)
            proc[i] = nprocs++;
    }
    return nprocs;
}

/* The traced peak of s as a point: the larger of the peak and its capture
 * (with threads the capture's sums may be ahead of the peak's folds). */
static uint64_t peak_heap(const struct snap *s)
{
    return s->meta.peak_bytes > s->peak.bytes ? s->meta.peak_bytes : s->peak.bytes;
}

static uint64_t raw_heap(const struct ml_raw *r)
{
    if (r->i >= 0)
        return siteline_point(r->s, (uint32_t)r->i)->heap;
    if (r->i == ML_TIMELINE)
        return r->s->points[r->k].bytes;
    return r->i == ML_PEAK ? peak_heap(r->s) : r->s->meta.current_bytes;
}

/* By time; at one time the highest first (the one kept). */
static int raw_cmp(const void *a, const void *b)
{
    const struct ml_raw *x = a, *y = b;
    if (x->t_ns != y->t_ns)
        return x->t_ns < y->t_ns ? -1 : 1;
    uint64_t hx = raw_heap(x), hy = raw_heap(y);
    return hx > hy ? -1 : hx < hy;
}

static int raw_add(struct ml_raw **v, size_t *n, size_t *cap, struct ml_raw r)
{
    if (grow_array((void **)v, cap, *n + 1, sizeof(**v)) < 0)
        return -1;
    (*v)[(*n)++] = r;
    return 0;
}

/* Every point of the snapshots, sorted by time, each time once. */
static int gather(struct memline *ml, const struct snap *const *snaps, int n, struct ml_raw **out,
                  size_t *nout)
{
    struct ml_raw *v = NULL;
    size_t nv = 0, cap = 0;
    for (int j = 0; j < n; j++) {
        const struct snap *s = snaps[j];
        if (s->has_peak && raw_add(&v, &nv, &cap, (struct ml_raw){s->peak.t_ns, s, ML_PEAK, 0}) < 0)
            goto oom;
        if (ml->has_sites) {
            for (uint32_t i = 0; s->sl.present && i < s->sl.head.count; i++)
                if (raw_add(&v, &nv, &cap, (struct ml_raw){siteline_point(s, i)->t_ns, s, i, 0}) < 0)
                    goto oom;
            continue;
        }
        for (uint32_t k = 0; k < s->npoints; k++)
            if (raw_add(&v, &nv, &cap, (struct ml_raw){s->points[k].t_ns, s, ML_TIMELINE, k}) < 0)
                goto oom;
        uint64_t t = s->meta.time_ns > s->meta.start_ns ? s->meta.time_ns - s->meta.start_ns : 0;
        if (raw_add(&v, &nv, &cap, (struct ml_raw){t, s, ML_SNAPSHOT, 0}) < 0)
            goto oom;
    }
    if (nv)
        qsort(v, nv, sizeof(*v), raw_cmp);
    size_t k = 0;
    for (size_t i = 0; i < nv; i++)
        if (k == 0 || v[i].t_ns != v[k - 1].t_ns)
            v[k++] = v[i];
    *out = v;
    *nout = k;
    return 0;
oom:
    free(v);
    return -1;
}

/* The index of site name, new ones appended. */
static long site_of(struct memline *ml, struct ml_name **set, const struct frames_trace *t,
                    size_t *cap)
{
    struct ml_name *e;
    HASH_FIND_STR(*set, t->site_name, e);
    if (e)
        return (long)e->site;
    if (grow_array((void **)&ml->sites, cap, ml->nsites + 1, sizeof(*ml->sites)) < 0 ||
        !(e = calloc(1, sizeof(*e))))
        return -1;
    e->name = t->site_name;
    e->site = ml->nsites;
    ml->sites[ml->nsites++] = (struct ml_site){t->site_name, t->fr[t->site]->func, 0};
    HASH_ADD_KEYPTR(hh, *set, e->name, strlen(e->name), e);
    return (long)e->site;
}

/* The bytes of ml's kind (--kind) in a point of heap bytes, mapped of them
 * mmap's (MAPLINE; 0 at a point without sites: the caller made sure no
 * trace is of the mmap kind).  The sites kept are the kind's, and the
 * peak's bytes the capture's of the kind. */
static uint64_t kind_heap(const struct memline *ml, uint64_t heap, uint64_t mapped)
{
    return ml->kind == SNAP_KIND_ALL ? heap : ml->kind == SNAP_KIND_MMAP ? mapped : heap - mapped;
}

/* SITELINE point r into p, its sites into ml->ent (one entry per site). */
static int fill_sites(struct memline *ml, struct ml_point *p, const struct ml_raw *r,
                      struct ml_name **set, size_t *scap, size_t *ecap)
{
    const struct hsnap_siteline_point *sp = siteline_point(r->s, (uint32_t)r->i);
    const struct hsnap_siteline_site *v = siteline_sites(r->s, (uint32_t)r->i);
    uint64_t heap = kind_heap(ml, sp->heap, siteline_mapped(r->s, (uint32_t)r->i));
    *p = (struct ml_point){r->t_ns, heap, sp->rss, heap, ml->nent, 0, 1, 0};
    for (uint32_t k = 0; k < r->s->sl.head.nsites; k++) {
        if (v[k].trace == HSNAP_SITELINE_NONE) {
            p->full = 0;
            continue;
        }
        if (!snap_kind_kept(ml->kind, r->s, v[k].trace))
            continue;
        p->other -= v[k].bytes;
        const struct frames_trace *t = frames_get(r->s, v[k].trace);
        long site = t ? site_of(ml, set, t, scap) : -1;
        if (site < 0)
            return -1;
        size_t e = p->first;
        while (e < p->first + p->n && ml->ent[e].site != (uint32_t)site)
            e++;
        if (e == p->first + p->n) {
            if (grow_array((void **)&ml->ent, ecap, ml->nent + 1, sizeof(*ml->ent)) < 0)
                return -1;
            ml->ent[ml->nent++] = (struct ml_ent){(uint32_t)site, 0};
            p->n++;
        }
        ml->ent[e].bytes += v[k].bytes;
    }
    return 0;
}

/* A site's bytes at the peak, while fill_peak adds them up. */
struct ml_sum {
    const char *name;     /* frames' site_name */
    const struct frames_trace *t;
    uint64_t bytes;
    UT_hash_handle hh;
};

static int sum_cmp(const void *a, const void *b)
{
    const struct ml_sum *const *x = a, *const *y = b;
    if ((*x)->bytes != (*y)->bytes)
        return (*x)->bytes > (*y)->bytes ? -1 : 1;
    return strcmp((*x)->name, (*y)->name);
}

/* The peak capture r into p: its sites, the per_point largest, as the
 * samples list theirs (traces that share a site added up first; the rest
 * in other); rss unknown. */
static int fill_peak(struct memline *ml, struct ml_point *p, const struct ml_raw *r,
                     struct ml_name **set, size_t *scap, size_t *ecap)
{
    const struct snap *s = r->s;
    struct ml_sum *sums = NULL, *e, *tmp, **order = NULL;
    size_t n = 0;
    uint64_t listed = 0;
    int rc = -1;
    uint64_t heap = 0;
    for (uint32_t t = 0; ml->kind != SNAP_KIND_ALL && s->peak_stats && t < s->ntraces; t++)
        heap += snap_kind_kept(ml->kind, s, t) ? s->peak_stats[t].live_bytes : 0;
    *p = (struct ml_point){r->t_ns, ml->kind == SNAP_KIND_ALL ? peak_heap(s) : heap, 0, 0,
                           ml->nent, 0, 0, 1};
    for (uint32_t t = 0; s->peak_stats && t < s->ntraces; t++) {
        const struct frames_trace *ft;
        if (!s->peak_stats[t].live_bytes || !snap_kind_kept(ml->kind, s, t))
            continue;
        if (!(ft = frames_get(s, t)))
            goto out;
        HASH_FIND_STR(sums, ft->site_name, e);
        if (!e) {
            if (!(e = calloc(1, sizeof(*e))))
                goto out;
            *e = (struct ml_sum){.name = ft->site_name, .t = ft};
            HASH_ADD_KEYPTR(hh, sums, e->name, strlen(e->name), e);
            n++;
        }
        e->bytes += s->peak_stats[t].live_bytes;
    }
    if (!(order = malloc((n + 1) * sizeof(*order))))
        goto out;
    n = 0;
    HASH_ITER(hh, sums, e, tmp)
        order[n++] = e;
    qsort(order, n, sizeof(*order), sum_cmp);
    p->full = n > ml->per_point;
    for (size_t k = 0; k < n && k < ml->per_point; k++) {
        long site = site_of(ml, set, order[k]->t, scap);
        if (site < 0 || grow_array((void **)&ml->ent, ecap, ml->nent + 1, sizeof(*ml->ent)) < 0)
            goto out;
        ml->ent[ml->nent++] = (struct ml_ent){(uint32_t)site, order[k]->bytes};
        p->n++;
        listed += order[k]->bytes;
    }
    p->other = p->heap > listed ? p->heap - listed : 0;
    rc = 0;
out:
    HASH_ITER(hh, sums, e, tmp) {
        HASH_DEL(sums, e);
        free(e);
    }
    free(order);
    return rc;
}

static void heap_only(const struct memline *ml, struct ml_point *p, const struct ml_raw *r,
                      size_t first)
{
    uint64_t heap = kind_heap(ml, raw_heap(r), 0);
    *p = (struct ml_point){r->t_ns, heap, 0, heap, first, 0, 0, r->i == ML_PEAK};
}

static int ent_cmp(const void *a, const void *b)
{
    const struct ml_ent *x = a, *y = b;
    return x->bytes != y->bytes ? (x->bytes > y->bytes ? -1 : 1)
                                : (x->site > y->site) - (x->site < y->site);
}

static int site_cmp(const void *a, const void *b, void *ctx)
{
    const struct ml_site *s = ctx;
    const size_t *x = a, *y = b;
    if (s[*x].max != s[*y].max)
        return s[*x].max > s[*y].max ? -1 : 1;
    return strcmp(s[*x].name, s[*y].name);
}

/* Sites by their most bytes, and the entries renumbered and re-sorted. */
static int rank(struct memline *ml)
{
    size_t *order = malloc((ml->nsites + 1) * sizeof(*order));
    size_t *to = malloc((ml->nsites + 1) * sizeof(*to));
    struct ml_site *sorted = malloc((ml->nsites + 1) * sizeof(*sorted));
    if (!order || !to || !sorted) {
        free(order), free(to), free(sorted);
        return -1;
    }
    for (size_t e = 0; e < ml->nent; e++)
        if (ml->ent[e].bytes > ml->sites[ml->ent[e].site].max)
            ml->sites[ml->ent[e].site].max = ml->ent[e].bytes;
    for (size_t i = 0; i < ml->nsites; i++)
        order[i] = i;
    if (ml->nsites > 1)
        qsort_r(order, ml->nsites, sizeof(*order), site_cmp, ml->sites);
    for (size_t i = 0; i < ml->nsites; i++) {
        sorted[i] = ml->sites[order[i]];
        to[order[i]] = i;
    }
    for (size_t e = 0; e < ml->nent; e++)
        ml->ent[e].site = (uint32_t)to[ml->ent[e].site];
    for (size_t i = 0; i < ml->n; i++)
        if (ml->pts[i].n > 1) /* (ent is NULL without sites) */
            qsort(ml->ent + ml->pts[i].first, ml->pts[i].n, sizeof(*ml->ent), ent_cmp);
    free(ml->sites);
    ml->sites = sorted;
    free(order);
    free(to);
    return 0;
}

/* The point with the most heap (the first such). */
static void find_peak(struct memline *ml)
{
    ml->peak = 0;
    for (size_t i = 1; i < ml->n; i++)
        if (ml->pts[i].heap > ml->pts[ml->peak].heap)
            ml->peak = i;
}

int memline_build(struct memline *ml, const struct snap *const *snaps, int n)
{
    return memline_build_kind(ml, snaps, n, SNAP_KIND_ALL);
}

int memline_build_kind(struct memline *ml, const struct snap *const *snaps, int n, int kind)
{
    struct ml_raw *raw = NULL;
    struct ml_name *set = NULL, *e, *tmp;
    size_t nraw = 0, scap = 0, ecap = 0;
    const struct snap *with = NULL; /* the latest snapshot with SITELINE */
    memset(ml, 0, sizeof(*ml));
    ml->kind = kind;
    ml->nsnaps = n;
    ml->latest = snaps[0];
    for (int j = 0; j < n; j++) {
        if (series_later(snaps[j], ml->latest))
            ml->latest = snaps[j];
        if (snaps[j]->sl.present && (!with || series_later(snaps[j], with)))
            with = snaps[j];
    }
    ml->has_sites = with != NULL;
    if (with) {
        ml->per_point = with->sl.head.nsites;
        ml->step_ns = with->sl.head.step_ns;
        ml->first_step_ns = with->sl.head.first_step_ns;
    }
    if (gather(ml, snaps, n, &raw, &nraw) < 0 || !(ml->pts = calloc(nraw + 1, sizeof(*ml->pts))))
        goto oom;
    for (; ml->n < nraw; ml->n++) {
        if (!ml->has_sites)
            heap_only(ml, &ml->pts[ml->n], &raw[ml->n], ml->nent);
        else if ((raw[ml->n].i == ML_PEAK
                      ? fill_peak(ml, &ml->pts[ml->n], &raw[ml->n], &set, &scap, &ecap)
                      : fill_sites(ml, &ml->pts[ml->n], &raw[ml->n], &set, &scap, &ecap)) < 0)
            goto oom;
    }
    if (rank(ml) < 0)
        goto oom;
    find_peak(ml);
    HASH_ITER(hh, set, e, tmp) {
        HASH_DEL(set, e);
        free(e);
    }
    free(raw);
    return 0;
oom:
    HASH_ITER(hh, set, e, tmp) {
        HASH_DEL(set, e);
        free(e);
    }
    free(raw);
    memline_free(ml);
    return -1;
}

void memline_free(struct memline *ml)
{
    free(ml->pts);
    free(ml->sites);
    free(ml->ent);
    memset(ml, 0, sizeof(*ml));
}

int memline_bytes(const struct memline *ml, const struct ml_point *p, size_t site,
                  uint64_t *bytes)
{
    for (size_t e = p->first; e < p->first + p->n; e++)
        if (ml->ent[e].site == site) {
            *bytes = ml->ent[e].bytes;
            return 1;
        }
    *bytes = 0;
    return !p->full;
}
