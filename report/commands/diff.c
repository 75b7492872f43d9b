/*
 * diff.c - `heapsnap diff OLD NEW [options]`: tracemalloc's compare_to.
 * Groups are ordered by the size of their change, and groups that exist only
 * in OLD are shown with size=0 B (-N).  --peak compares the two peaks;
 * SNAP@peak reads one snapshot's peak (report/peak.c): `diff RUN@peak RUN`
 * is what was freed between the peak and the end.  --format json writes the
 * "heapsnap-diff" document of docs/json.md.
 */
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "cli.h"
#include "jsondoc.h"
#include "peak.h"
#include "stats.h"

static void diff_usage(void)
{
    printf("usage: heapsnap diff OLD NEW [options]\n"
           "What changed between two snapshots (tracemalloc's compare_to()),\n"
           "biggest change first.  OLD or NEW may be SNAP@peak: that snapshot's\n"
           "peak (diff RUN.hsnap@peak RUN.hsnap: what was freed after the peak).\n");
    printf(stats_help, "");
}

static int diff_json(const struct stats_opts *o, struct stats *cur, const struct snap *so,
                     const char *po, const struct snap *sn, const char *pn)
{
    struct json j;
    jdoc_begin(&j, stdout, "heapsnap-diff", 1);
    json_kstr(&j, "key", stats_key_names[o->key]);
    json_kbool(&j, "cumulative", o->cumulative);
    json_kbool(&j, "leaked", o->leaked);
    json_key(&j, "old");
    jdoc_snapshot(&j, so, po);
    json_key(&j, "new");
    jdoc_snapshot(&j, sn, pn);
    int rc = jdoc_groups(&j, cur, 1);
    jdoc_end(&j);
    return rc;
}

int cmd_diff(int argc, char **argv, char *err, size_t errlen)
{
    struct stats_opts o;
    int rc = stats_getopt("diff", argc, argv, &o, diff_usage, err, errlen);
    if (rc >= 0)
        return rc;
    if (argc - optind != 2) {
        snprintf(err, errlen, "diff: want two snapshots (heapsnap diff OLD NEW [options])");
        return 2;
    }
    struct stats *old = stats_new(&o), *cur = stats_new(&o);
    struct snap so, sn;
    char po[4096], pn[4096];
    int ao = peak_split(argv[optind], po, sizeof(po)), an = peak_split(argv[optind + 1], pn, sizeof(pn));
    memset(&so, 0, sizeof(so));
    memset(&sn, 0, sizeof(sn));
    rc = 0;
    if (ao < 0 || an < 0) {
        snprintf(err, errlen, "diff: path too long");
        rc = 2;
    } else if (!old || !cur) {
        snprintf(err, errlen, "diff: out of memory");
        rc = 2;
    } else if (snap_load(po, &so, err, errlen) < 0 || snap_load(pn, &sn, err, errlen) < 0 ||
               (so.at_peak = ao, sn.at_peak = an, 0) ||
               stats_add_snap(old, &so, po, err, errlen) < 0 ||
               stats_add_snap(cur, &sn, pn, err, errlen) < 0) {
        rc = 2;
    } else if (stats_compare(cur, old) < 0 ||
               (o.json ? diff_json(&o, cur, &so, po, &sn, pn) : stats_print(cur, stdout, 1)) < 0) {
        snprintf(err, errlen, "diff: out of memory");
        rc = 2;
    }
    stats_free(old);
    stats_free(cur);
    snap_free(&so);
    snap_free(&sn);
    return rc;
}
