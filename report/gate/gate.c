/*
 * gate.c - `heapsnap gate SNAP...`: should this CI job fail?
 *
 * Inputs are grouped by process (meta.pid), each a series by sequence
 * number.  Every check is a JUnit testcase (the rules: docs/ci.md):
 *   leaks:<proc>   the process's LAST snapshot's loss records of the
 *                  --fail-on classes (gateleaks.c) within --max-leaked-bytes
 *                  and --max-leaked-blocks; without LEAKS, exit 2 unless
 *                  --fail-on none (a rule that checks nothing never passes)
 *   growth         --baseline OLD --max-growth L: each site's live bytes
 *                  (--metric peak: peak) over the processes' last snapshots
 *                  may exceed OLD's by at most L
 *   trend:<proc>   --max-trend-growth L: a site that grows at every step
 *                  may grow by at most L; no process of 2+ snapshots: exit 2
 * Every input is loaded and validated before anything is evaluated (each
 * section's checksum, and whole the sections a rule reads: gate_skip), so
 * a damaged file stops the gate with exit 2 and its name.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "cli.h"
#include "escape.h"
#include "formats.h"
#include "gate.h"
#include "gateleaks.h"
#include "pycheck.h"
#include "rules.h"
#include "snapsave.h"
#include "growth.h"
#include "verdict.h"

struct gate {
    struct verdict g;
    struct gate_rules r;
    struct snap *snaps;
    int nsnaps;
    struct snap base;
    struct stats **keep;   /* stats whose entries findings point to */
    int nkeep;
    size_t capkeep;
    struct trend **trends;
    int ntrends;
    size_t captrends;
    struct leakcheck *leaks;  /* the leak check and its suppressions */
    struct pycheck *py;       /* --python-fail-on's findings' sites */
};

/* --- bookkeeping ----------------------------------------------------------- */

static struct stats *keep_stats(struct gate *gt, enum stats_key key)
{
    struct stats_opts o = {.key = key};
    if (grow_array((void **)&gt->keep, &gt->capkeep, (size_t)gt->nkeep + 1,
                   sizeof(*gt->keep)) < 0)
        return NULL;
    struct stats *st = stats_new(&o);
    if (st)
        gt->keep[gt->nkeep++] = st;
    return st;
}

/* --- processes ------------------------------------------------------------- */

static int cmp_pid(const void *pa, const void *pb)
{
    const struct snap *a = *(const struct snap *const *)pa, *b = *(const struct snap *const *)pb;
    if (a->meta.pid != b->meta.pid)
        return a->meta.pid < b->meta.pid ? -1 : 1;
    return (a->meta.seq > b->meta.seq) - (a->meta.seq < b->meta.seq);
}

static int gate_group(struct gate *gt, char **paths)
{
    const struct snap **v = malloc(gt->nsnaps * sizeof(*v));
    gt->g.procs = calloc(gt->nsnaps, sizeof(*gt->g.procs));
    if (!v || !gt->g.procs) {
        free(v);
        return -1;
    }
    for (int i = 0; i < gt->nsnaps; i++)
        v[i] = &gt->snaps[i];
    qsort(v, gt->nsnaps, sizeof(*v), cmp_pid);
    for (int i = 0; i < gt->nsnaps; i++) {
        struct gate_proc *q;
        if (i && v[i]->meta.pid == v[i - 1]->meta.pid && v[i]->meta.pid != 0) {
            q = &gt->g.procs[gt->g.nprocs - 1];
            q->nseries++;
        } else {
            q = &gt->g.procs[gt->g.nprocs++];
            q->series = &v[i];
            q->nseries = 1;
        }
        q->last = v[i];
        q->path = paths[v[i] - gt->snaps];
    }
    return 0; /* v is kept: procs point into it (freed with procs[0].series) */
}

/* --- growth ---------------------------------------------------------------- */

static int gate_peak(struct gate *gt)
{
    struct gate_check *c = verdict_check_add(&gt->g, "peak-growth", -1);
    int64_t now = 0, old = (int64_t)gt->base.meta.peak_bytes;
    if (!c)
        return -1;
    for (int i = 0; i < gt->g.nprocs; i++)
        now += (int64_t)gt->g.procs[i].last->meta.peak_bytes;
    int64_t allowed = rules_allowed(&gt->r.growth, old);
    c->failed = now - old > allowed;
    snprintf(c->msg, sizeof(c->msg), "peak %lld bytes, baseline %lld (%+lld, allowed +%lld)",
             (long long)now, (long long)old, (long long)(now - old), (long long)allowed);
    if (c->failed) {
        struct gate_finding *f = verdict_finding_add(&gt->g, "peak-growth", -1, NULL);
        if (!f)
            return -1;
        f->bytes = now;
        f->delta = now - old;
        f->over = 1;
    }
    return 0;
}

static int gate_growth(struct gate *gt, char *err, size_t errlen)
{
    if (gt->r.peak)
        return gate_peak(gt);
    struct stats *old = keep_stats(gt, gt->r.key), *cur = keep_stats(gt, gt->r.key);
    struct gate_check *c = verdict_check_add(&gt->g, "growth", -1);
    size_t n;
    int nover = 0;
    if (!old || !cur || !c || stats_add_snap(old, &gt->base, gt->r.baseline, err, errlen) < 0)
        return -1;
    for (int i = 0; i < gt->g.nprocs; i++)
        if (stats_add_snap(cur, gt->g.procs[i].last, gt->g.procs[i].path, err, errlen) < 0)
            return -1;
    stats_compare(cur, old);
    struct stat_entry **e = stats_sort(cur, 1, &n);
    for (size_t i = 0; e && i < n; i++) {
        int64_t was = e[i]->size - e[i]->size_diff;
        if (e[i]->size_diff <= 0 || e[i]->size_diff <= rules_allowed(&gt->r.growth, was))
            continue;
        struct gate_finding *f = verdict_finding_add(&gt->g, "growth", -1, e[i]);
        if (!f)
            return -1;
        f->bytes = e[i]->size;
        f->blocks = e[i]->count;
        f->delta = e[i]->size_diff;
        f->over = 1;
        nover++;
    }
    if (!e)
        return -1;
    c->failed = nover > 0;
    snprintf(c->msg, sizeof(c->msg), "%d site%s grew more than allowed over %s", nover,
             nover == 1 ? "" : "s", gt->r.baseline);
    return 0;
}

static int gate_trend(struct gate *gt, int proc, char *err, size_t errlen)
{
    const struct gate_proc *p = &gt->g.procs[proc];
    struct gate_check *c = verdict_check_add(&gt->g, "trend", proc);
    size_t n;
    int nover = 0;
    if (!c || grow_array((void **)&gt->trends, &gt->captrends, (size_t)gt->ntrends + 1,
                         sizeof(*gt->trends)) < 0)
        return -1;
    if (p->nseries < 2) {
        c->skipped = 1;
        snprintf(c->msg, sizeof(c->msg), "one snapshot: no series");
        return 0;
    }
    struct trend *tr = trend_new(gt->r.key);
    if (!tr)
        return -1;
    gt->trends[gt->ntrends++] = tr;
    if (trend_run(tr, p->series, p->nseries, err, errlen) < 0)
        return -1;
    const struct trend_site *ts = trend_sites(tr, &n);
    for (size_t i = 0; i < n; i++) {
        if (ts[i].last - ts[i].first <= rules_allowed(&gt->r.trend, ts[i].first))
            continue;
        struct gate_finding *f = verdict_finding_add(&gt->g, "trend", proc, ts[i].e);
        if (!f)
            return -1;
        f->bytes = ts[i].last;
        f->blocks = ts[i].last_count;
        f->delta = ts[i].last - ts[i].first;
        f->over = 1;
        nover++;
    }
    c->failed = nover > 0;
    snprintf(c->msg, sizeof(c->msg), "%d site%s grew more than allowed across %d snapshots",
             nover, nover == 1 ? "" : "s", p->nseries);
    return 0;
}

/* --- driver ---------------------------------------------------------------- */

/* How many processes have a series (2+ snapshots) the trend rule can judge. */
static int gate_series(const struct gate *gt)
{
    int n = 0;
    for (int i = 0; i < gt->g.nprocs; i++)
        n += gt->g.procs[i].nseries >= 2;
    return n;
}

static int gate_eval(struct gate *gt, char *err, size_t errlen)
{
    int rc = 0;
    gt->g.key = gt->r.key;
    for (int i = 0; i < gt->g.nprocs && rc == 0; i++)
        rc = leakcheck_check(gt->leaks, &gt->g, i, err, errlen);
    for (int i = 0; i < gt->g.nprocs && rc == 0 && gt->r.py_fail; i++)
        rc = gt->py || (gt->py = pycheck_new())
                 ? pycheck_check(gt->py, &gt->r, &gt->g, i, leakcheck_supp(gt->leaks), err,
                                 errlen) : -1;
    if (rc == 0 && gt->r.baseline)
        rc = gate_growth(gt, err, errlen);
    for (int i = 0; i < gt->g.nprocs && rc == 0 && gt->r.trend.set; i++)
        rc = gate_trend(gt, i, err, errlen);
    if (rc == 0 && gt->r.trend.set && gate_series(gt) == 0) {
        snprintf(err, errlen, "gate: --max-trend-growth cannot be checked: no process has "
                 "two snapshots or more (HEAPSNAP_INTERVAL, HEAPSNAP_SIGNAL or the API take them)");
        rc = -2;
    }
    if (rc == -1 && !err[0])
        snprintf(err, errlen, "gate: out of memory");
    for (int i = 0; i < gt->g.nchecks; i++)
        gt->g.failed |= gt->g.checks[i].failed;
    return rc;
}

static int gate_write(struct gate *gt, char *err, size_t errlen)
{
    static int (*const writers[])(FILE *, const struct verdict *,
                                  const struct gate_rules *) = {
        out_text, out_json, junit_write, sarif_write,
        ghanno_write};
    for (int i = 0; i < gt->r.nout; i++) {
        const char *path = gt->r.out_path[i] ? gt->r.out_path[i] : "-";
        struct save_tmp t;
        /* Reports are for sharing: 0666 less the umask, like any new file. */
        if (save_begin(&t, path, 0666, err, errlen) < 0)
            return -1;
        if (writers[gt->r.out_fmt[i]](t.f, &gt->g, &gt->r) < 0) {
            snprintf(err, errlen, "%s: cannot write", t.path);
            save_abort(&t);
            return -1;
        }
        if (save_commit(&t, err, errlen) < 0)
            return -1;
    }
    return 0;
}

static void gate_free(struct gate *gt)
{
    for (int i = 0; i < gt->nkeep; i++)
        stats_free(gt->keep[i]);
    for (int i = 0; i < gt->ntrends; i++)
        trend_free(gt->trends[i]);
    if (gt->g.procs && gt->g.nprocs)
        free(gt->g.procs[0].series);
    free(gt->g.procs);
    free(gt->g.checks);
    free(gt->g.findings);
    free(gt->keep);
    free(gt->trends);
    leakcheck_free(gt->leaks); /* its loss records point into the snapshots */
    pycheck_free(gt->py);
    for (int i = 0; gt->snaps && i < gt->nsnaps; i++)
        snap_free(&gt->snaps[i]);
    free(gt->snaps);
    snap_free(&gt->base);
    rules_fini(&gt->r);
}

/* The sections no rule reads, left as they are stored (snap_load_skip;
 * their checksums are still checked): the peak's capture (--metric peak is
 * the process's, from META), the temporaries' counts, the timelines, the
 * state file's, the failed allocations, the collector's frees, the
 * retainers' rows, and the sites' sums unless a growth or trend rule
 * weighs them. */
static uint32_t gate_skip(const struct gate_rules *r)
{
    uint32_t skip = SNAP_SEC(PEAK) | SNAP_SKIP_LINES | SNAP_SKIP_EXTRAS | SNAP_SEC(RETAINERS);
    return r->growth.set || r->trend.set ? skip : skip | SNAP_SEC(STATS);
}

static int gate_load(struct gate *gt, char **paths, char *err, size_t errlen)
{
    if (!(gt->snaps = calloc(gt->nsnaps, sizeof(*gt->snaps)))) {
        snprintf(err, errlen, "gate: out of memory");
        return -1;
    }
    for (int i = 0; i < gt->nsnaps; i++)
        if (snap_load_skip(paths[i], &gt->snaps[i], gate_skip(&gt->r), err, errlen) < 0)
            return -1;
    if (gt->r.baseline &&
        snap_load_skip(gt->r.baseline, &gt->base, gate_skip(&gt->r), err, errlen) < 0)
        return -1;
    if (!(gt->leaks = leakcheck_new(&gt->r, gt->snaps, paths, gt->nsnaps, err, errlen)))
        return -1;
    gt->g.supp = leakcheck_supp(gt->leaks);
    if (gt->r.growth.set && !gt->r.baseline) {
        snprintf(err, errlen, "gate: --max-growth needs --baseline OLD");
        return -1;
    }
    return gate_group(gt, paths);
}

int cmd_gate(int argc, char **argv, char *err, size_t errlen)
{
    struct gate gt;
    memset(&gt, 0, sizeof(gt));
    rules_init(&gt.r);
    int rc = rules_getopt(argc, argv, &gt.r, err, errlen);
    if (rc < 0 && optind >= argc) {
        snprintf(err, errlen, "gate: no snapshot given (heapsnap gate SNAP... [rules])");
        rc = 2;
    }
    if (rc < 0) {
        gt.nsnaps = argc - optind;
        if (gate_load(&gt, argv + optind, err, errlen) < 0 || gate_eval(&gt, err, errlen) < 0 ||
            gate_write(&gt, err, errlen) < 0)
            rc = 2;
        else
            rc = gt.g.failed ? gt.r.exitcode : 0;
    }
    gate_free(&gt);
    return rc;
}
