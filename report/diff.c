/*
 * diff.c - `heapsnap diff OLD NEW [options]`: tracemalloc's compare_to.
 * Groups are ordered by the size of their change, and groups that exist only
 * in OLD are shown with size=0 B (-N).  --format json writes the
 * "heapsnap-diff" document of docs/json.md.
 */
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "cli.h"
#include "jsondoc.h"
#include "stats.h"

static void diff_usage(void)
{
    printf("usage: heapsnap diff OLD NEW [options]\n"
           "What changed between two snapshots (tracemalloc's compare_to()),\n"
           "biggest change first.\n");
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
    const char *po = argv[optind], *pn = argv[optind + 1];
    memset(&so, 0, sizeof(so));
    memset(&sn, 0, sizeof(sn));
    rc = 0;
    if (!old || !cur) {
        snprintf(err, errlen, "diff: out of memory");
        rc = 2;
    } else if (snap_load(po, &so, err, errlen) < 0 || snap_load(pn, &sn, err, errlen) < 0 ||
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
