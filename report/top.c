/*
 * top.c - `heapsnap top SNAP... [options]`: live memory grouped by a key,
 * biggest first, in tracemalloc's Statistic lines.  Several snapshots are
 * summed (one process's series, or the processes of a fork tree).
 * --retainers prints report/retainers.c's "who keeps it alive" view instead.
 */
#include <stdio.h>
#include <stdlib.h>
#include <unistd.h>

#include "cli.h"
#include "leakset.h"
#include "retainers.h"
#include "stats.h"

static void top_usage(void)
{
    printf("usage: heapsnap top SNAP... [options]\n"
           "Live memory by allocation site, biggest first (tracemalloc's statistics()).\n"
           "Several snapshots are summed.\n%s", stats_help);
}

/* --retainers: who keeps the biggest sites' reachable memory alive. */
static int top_retainers(const struct stats_opts *o, const struct snap *snaps, char **paths,
                         int n, char *err, size_t errlen)
{
    char why[1024];
    for (int i = 0; i < n; i++)
        if (lset_require(&snaps[i], paths[i], err, errlen) < 0)
            return 2;
    if (ret_print(snaps, paths, n, NULL, o->limit, stdout, why, sizeof(why)) < 0) {
        snprintf(err, errlen, "%s", why);
        return 2;
    }
    return 0;
}

int cmd_top(int argc, char **argv, char *err, size_t errlen)
{
    struct stats_opts o;
    int rc = stats_getopt("top", argc, argv, &o, top_usage, err, errlen);
    if (rc >= 0)
        return rc;
    if (optind >= argc) {
        snprintf(err, errlen, "top: no snapshot given (heapsnap top SNAP... [options])");
        return 2;
    }
    /* Validate every file before symbolizing any (no warnings, then an error). */
    int n = argc - optind, loaded = 0;
    struct snap *snaps = calloc(n, sizeof(*snaps));
    struct stats *st = stats_new(&o);
    rc = 0;
    if (!snaps || !st) {
        snprintf(err, errlen, "top: out of memory");
        rc = 2;
    }
    for (; rc == 0 && loaded < n; loaded++)
        if (snap_load(argv[optind + loaded], &snaps[loaded], err, errlen) < 0)
            rc = 2;
    if (rc == 0 && o.retainers) {
        rc = top_retainers(&o, snaps, argv + optind, n, err, errlen);
        goto out;
    }
    for (int i = 0; rc == 0 && i < n; i++)
        if (stats_add_snap(st, &snaps[i], argv[optind + i], err, errlen) < 0)
            rc = 2;
    if (rc == 0 && stats_print(st, stdout, 0) < 0) {
        snprintf(err, errlen, "top: out of memory");
        rc = 2;
    }
out:
    stats_free(st);
    for (int i = 0; snaps && i < n; i++)
        snap_free(&snaps[i]);
    free(snaps);
    return rc;
}
