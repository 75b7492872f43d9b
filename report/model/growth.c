/*
 * growth.c - which call sites keep growing across a series of snapshots of
 * ONE process (interval snapshots of a service, or heapsnap_take_snapshot()
 * calls in a test); `heapsnap trend` (report/commands/trend.c) and the
 * gate's --max-trend-growth rule print it.
 *
 * Memory that is still reachable but never freed - a cache that never
 * evicts, a list that only grows - is invisible to a leak checker.  Two facts
 * expose it (docs/design.md, "Generations"):
 *   1. its site's live bytes never go down from one snapshot to the next and
 *      end higher than they started (a steady working set goes up and down,
 *      or stays level);
 *   2. its blocks are old: every block carries its birth epoch, and the epoch
 *      advances at each snapshot, so in the last snapshot a cache has blocks
 *      of every age while a working set's blocks are young.
 * A site is reported as growing on fact 1; fact 2 is printed beside it
 * ("blocks by epochs survived") for the reader to judge, as tracemalloc
 * leaves the judgement of compare_to() to its user.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli.h"
#include "growth.h"

struct trend {
    struct stats_opts o;
    int n;
    const struct snap **series;   /* sorted copy of the caller's pointers */
    struct stats **st;            /* one per snapshot */
    struct stats *age[TREND_AGES];
    int has_ages;                 /* the last snapshot has BLOCKS */
    int left_out;                 /* the exit snapshot was left out of n */
    struct trend_site *sites;
    size_t nsites;
};

struct trend *trend_new(enum stats_key key)
{
    struct trend *tr = calloc(1, sizeof(*tr));
    if (!tr)
        return NULL;
    tr->o.key = key;
    return tr;
}

void trend_by_type(struct trend *tr, int by_type) { tr->o.by_type = by_type; }

void trend_free(struct trend *tr)
{
    if (!tr)
        return;
    for (int i = 0; tr->st && i < tr->n; i++)
        stats_free(tr->st[i]);
    for (int i = 0; i < TREND_AGES; i++)
        stats_free(tr->age[i]);
    free(tr->st);
    free(tr->series);
    free(tr->sites);
    free(tr);
}

static int cmp_series(const void *pa, const void *pb)
{
    const struct snap *a = *(const struct snap *const *)pa, *b = *(const struct snap *const *)pb;
    if (a->meta.seq != b->meta.seq)
        return a->meta.seq < b->meta.seq ? -1 : 1;
    return (a->meta.time_ns > b->meta.time_ns) - (a->meta.time_ns < b->meta.time_ns);
}

/* By type, the blocks' types come from PYTYPES, not from per-trace sums:
 * each bucket is the typed blocks of its birth epochs.  0, or -1 with err. */
static int trend_ages_typed(struct trend *tr, char *err, size_t errlen)
{
    const struct snap *s = tr->series[tr->n - 1];
    uint32_t e = s->meta.epoch;
    tr->has_ages = 1;
    for (int b = 0; b < TREND_AGES; b++) {
        struct stats_opts o = tr->o; /* age b: epoch e - b; 0: e on; last: e - b down */
        o.born = b < TREND_AGES - 1;
        o.born_since = b == 0 ? e : e - (uint32_t)b;
        o.born_upto = b > 0;
        o.born_until = e - (uint32_t)b;
        if ((uint32_t)b > e) { /* no epoch that old: nothing */
            o.born = o.born_upto = 1;
            o.born_since = 1;
            o.born_until = 0;
        }
        if (!(tr->age[b] = stats_new(&o)))
            return snprintf(err, errlen, "trend: out of memory"), -1;
        if (stats_add_snap(tr->age[b], s, s->exe, err, errlen) < 0)
            return -1;
    }
    return 0;
}

/* Groups the last snapshot's blocks by age bucket, one stats each. */
static int trend_ages(struct trend *tr)
{
    const struct snap *s = tr->series[tr->n - 1];
    struct hsnap_stat *v = big_calloc(s->ntraces + 1, sizeof(*v));
    int rc = v ? 0 : -1;
    tr->has_ages = 1;
    for (int b = 0; rc == 0 && b < TREND_AGES; b++) {
        memset(v, 0, (s->ntraces + 1) * sizeof(*v));
        for (uint64_t i = 0; i < s->nblocks; i++) {
            const struct hsnap_block *k = &s->blocks[i];
            uint32_t age = s->meta.epoch >= k->epoch ? s->meta.epoch - k->epoch : 0;
            if ((age < TREND_AGES - 1 ? (int)age : TREND_AGES - 1) != b)
                continue;
            v[k->trace].live_count++;
            v[k->trace].live_bytes += k->size;
        }
        if (!(tr->age[b] = stats_new(&tr->o)) || stats_add_values(tr->age[b], s, v) < 0)
            rc = -1;
    }
    free(v);
    return rc;
}

static int cmp_site(const void *pa, const void *pb)
{
    const struct trend_site *a = pa, *b = pb;
    int64_t ga = a->last - a->first, gb = b->last - b->first;
    return (gb > ga) - (gb < ga);
}

/* Fills one site for group e of the last snapshot; 1 if it grows. */
static int trend_site(struct trend *tr, const struct stat_entry *e, struct trend_site *ts)
{
    int64_t prev = -1;
    memset(ts, 0, sizeof(*ts));
    ts->e = e;
    for (int i = 0; i < tr->n; i++) {
        const struct stat_entry *x = stats_find(tr->st[i], e->id);
        int64_t v = x ? x->size : 0;
        if (i == 0) {
            ts->first = v;
            ts->first_count = x ? x->count : 0;
        }
        if (v < prev)
            return 0;
        prev = v;
    }
    ts->last = e->size;
    ts->last_count = e->count;
    for (int b = 0; b < TREND_AGES && tr->age[b]; b++) {
        const struct stat_entry *x = stats_find(tr->age[b], e->id);
        ts->ages[b] = x ? x->count : 0;
    }
    return ts->last > ts->first;
}

int trend_run(struct trend *tr, const struct snap **series, int n, char *err, size_t errlen)
{
    size_t ng;
    tr->n = n;
    tr->series = malloc((size_t)n * sizeof(*series));
    tr->st = calloc((size_t)n, sizeof(*tr->st));
    if (!tr->series || !tr->st)
        goto oom;
    memcpy(tr->series, series, (size_t)n * sizeof(*series));
    qsort(tr->series, (size_t)n, sizeof(*series), cmp_series);
    /* The steady part (docs/ci.md): without the snapshot written at exit or
     * at a fatal signal, when two or more remain.  At exit a program frees
     * its caches and allocates its last buffers: neither is its trend. */
    uint32_t why = tr->series[n - 1]->meta.reason;
    if (n > 2 && (why == HSNAP_REASON_EXIT || why == HSNAP_REASON_FATAL)) {
        tr->n = n = n - 1;
        tr->left_out = 1;
    }
    for (int i = 0; i < n; i++) {
        if (!(tr->st[i] = stats_new(&tr->o)))
            goto oom;
        if (stats_add_snap(tr->st[i], tr->series[i], tr->series[i]->exe, err, errlen) < 0)
            return -1;
    }
    if (tr->series[n - 1]->has_blocks && (tr->o.key == KEY_TYPE || tr->o.by_type)) {
        if (trend_ages_typed(tr, err, errlen) < 0)
            return -1;
    } else if (tr->series[n - 1]->has_blocks && trend_ages(tr) < 0)
        goto oom;
    struct stat_entry **g = stats_sort(tr->st[n - 1], 0, &ng);
    if (!g || !(tr->sites = calloc(ng + 1, sizeof(*tr->sites))))
        goto oom;
    for (size_t i = 0; i < ng; i++)
        if (trend_site(tr, g[i], &tr->sites[tr->nsites]))
            tr->nsites++;
    qsort(tr->sites, tr->nsites, sizeof(*tr->sites), cmp_site);
    return 0;
oom:
    snprintf(err, errlen, "trend: out of memory");
    return -1;
}

const struct trend_site *trend_sites(const struct trend *tr, size_t *n)
{
    *n = tr->nsites;
    return tr->sites;
}

int trend_has_ages(const struct trend *tr) { return tr->has_ages; }

int trend_steady(const struct trend *tr, int *left_out)
{
    *left_out = tr->left_out;
    return tr->n;
}
