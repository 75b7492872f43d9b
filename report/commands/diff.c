/*
 * diff.c - `heapsnap diff OLD NEW [options]`: tracemalloc's compare_to.
 * Groups are ordered by the size of their change, and groups that exist only
 * in OLD are shown with size=0 B (-N).  --peak compares the two peaks;
 * SNAP@peak reads one snapshot's peak (peak_split): `diff RUN@peak RUN`
 * is what was freed between the peak and the end.  `diff SNAP...` with more
 * than two snapshots of one process (a series, series.h) compares its
 * earliest and its latest, and says so.  --format json writes the
 * "heapsnap-diff" document of docs/json.md.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "cli.h"
#include "commands.h"
#include "jsondoc.h"
#include "peakread.h"
#include "series.h"
#include "stats.h"
#include "statsopt.h"

static void diff_usage(void)
{
    printf("usage: heapsnap diff OLD NEW [options]\n"
           "       heapsnap diff SNAP... [options]   (one process's series)\n"
           "What changed between two snapshots (tracemalloc's compare_to()),\n"
           "biggest change first.  OLD or NEW may be SNAP@peak: that snapshot's\n"
           "peak (diff RUN.hsnap@peak RUN.hsnap: what was freed after the peak).\n"
           "More than two snapshots of one process: its earliest against its latest.\n");
    printf(statsopt_help, "");
}

struct diff_in {
    int n;               /* snapshots given */
    struct snap *s;      /* n of them, loaded (the first `loaded`) */
    char (*path)[4096];  /* without @peak */
    int loaded;
    int old, cur;        /* the two compared */
    struct series sr;
    char note[768];
};

static int diff_json(const struct stats_opts *o, struct stats *cur, const struct diff_in *in)
{
    struct json j;
    jdoc_begin(&j, stdout, "heapsnap-diff", 1);
    json_kstr(&j, "key", stats_key_names[o->key]);
    json_kbool(&j, "cumulative", o->cumulative);
    json_kbool(&j, "leaked", o->leaked);
    jdoc_series(&j, &in->sr, in->n > 2 ? "earliest_latest" : "given", 2, 0, in->note);
    json_key(&j, "old");
    jdoc_snapshot(&j, &in->s[in->old], in->path[in->old]);
    json_key(&j, "new");
    jdoc_snapshot(&j, &in->s[in->cur], in->path[in->cur]);
    int rc = jdoc_groups(&j, cur, 1);
    jdoc_end(&j);
    return rc;
}

static void diff_when(const struct snap *s, char *buf, size_t len)
{
    time_t t = (time_t)(s->meta.time_ns / 1000000000u);
    struct tm tm;
    buf[0] = '\0';
    if (localtime_r(&t, &tm))
        strftime(buf, len, "%H:%M:%S", &tm);
}

/* More than two snapshots: they must be one process's series; OLD is its
 * earliest, NEW its latest.  0, or -1 with err. */
static int diff_series(struct diff_in *in, char *err, size_t errlen)
{
    char *paths[3];
    if (series_pick(&in->sr, in->s, in->n, NULL, 0) < 0) {
        snprintf(err, errlen, "diff: out of memory");
        return -1;
    }
    if (in->n == 2) {
        in->old = 0;
        in->cur = 1;
        return 0;
    }
    if (in->sr.nprocs != 1) {
        snprintf(err, errlen, "diff: %d snapshots of %d processes: give OLD NEW, or the "
                 "snapshots of one process (--pid in top selects one)", in->n, in->sr.nprocs);
        return -1;
    }
    in->cur = series_used(&in->sr, 0);
    in->old = in->cur;
    for (int i = 0; i < in->n; i++)
        if (series_later(&in->s[in->old], &in->s[i]))
            in->old = i;
    char wo[32], wn[32];
    diff_when(&in->s[in->old], wo, sizeof(wo));
    diff_when(&in->s[in->cur], wn, sizeof(wn));
    paths[0] = in->path[in->old];
    paths[1] = in->path[in->cur];
    const char *exe = strrchr(in->s[in->cur].exe, '/');
    snprintf(in->note, sizeof(in->note),
             "%d snapshots of pid %u (%s): the earliest, %s (%s), against the latest, %s (%s)",
             in->n, in->s[in->cur].meta.pid, exe ? exe + 1 : in->s[in->cur].exe, wo, paths[0],
             wn, paths[1]);
    fprintf(stderr, "heapsnap: %s\n", in->note);
    return 0;
}

/* Loads every snapshot given; 0, or 2 with err. */
static int diff_load(struct diff_in *in, const struct stats_opts *o, char **argv, int n,
                     char *err, size_t errlen)
{
    in->n = n;
    in->s = calloc(n, sizeof(*in->s));
    in->path = calloc(n, sizeof(*in->path));
    if (!in->s || !in->path) {
        snprintf(err, errlen, "diff: out of memory");
        return 2;
    }
    for (; in->loaded < n; in->loaded++) {
        int at = peak_split(argv[in->loaded], in->path[in->loaded], sizeof(in->path[0]));
        if (at < 0) {
            snprintf(err, errlen, "diff: path too long");
            return 2;
        }
        if (at && statsopt_check_at_peak("diff", o, in->path[in->loaded], err, errlen) < 0)
            return 2;
        if (snap_load_skip(in->path[in->loaded], &in->s[in->loaded], statsopt_skip(o, at), err,
                           errlen) < 0)
            return 2;
        in->s[in->loaded].at_peak = at;
    }
    return diff_series(in, err, errlen) < 0 ? 2 : 0;
}

static void diff_free(struct diff_in *in)
{
    for (int i = 0; i < in->loaded; i++)
        snap_free(&in->s[i]);
    free(in->s);
    free(in->path);
    series_free(&in->sr);
}

int cmd_diff(int argc, char **argv, char *err, size_t errlen)
{
    struct stats_opts o;
    int rc = statsopt_parse("diff", argc, argv, &o, diff_usage, err, errlen);
    if (rc >= 0)
        return rc;
    if (argc - optind < 2) {
        snprintf(err, errlen, "diff: want two snapshots (heapsnap diff OLD NEW [options])");
        return 2;
    }
    if (statsopt_site_alone(&o)) /* as top's default view */
        frames_site_only();
    struct stats *old = stats_new(&o), *cur = stats_new(&o);
    struct diff_in in;
    memset(&in, 0, sizeof(in));
    rc = 0;
    if (!old || !cur) {
        snprintf(err, errlen, "diff: out of memory");
        rc = 2;
    } else if (diff_load(&in, &o, argv + optind, argc - optind, err, errlen) != 0 ||
               stats_add_snap(old, &in.s[in.old], in.path[in.old], err, errlen) < 0 ||
               stats_add_snap(cur, &in.s[in.cur], in.path[in.cur], err, errlen) < 0) {
        rc = 2;
    } else if (stats_compare(cur, old) < 0 ||
               (o.json ? diff_json(&o, cur, &in) : stats_print(cur, stdout, 1)) < 0) {
        snprintf(err, errlen, "diff: out of memory");
        rc = 2;
    }
    stats_free(old);
    stats_free(cur);
    diff_free(&in);
    return rc;
}
