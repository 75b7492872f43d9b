/*
 * top.c - `heapsnap top SNAP... [options]`: live memory grouped by a key,
 * biggest first, in tracemalloc's Statistic lines.  Several snapshots are
 * summed (one process's series, or the processes of a fork tree).
 */
#include <stdio.h>
#include <unistd.h>

#include "cli.h"
#include "stats.h"

static void top_usage(void)
{
    printf("usage: heapsnap top SNAP... [options]\n"
           "Live memory by allocation site, biggest first (tracemalloc's statistics()).\n"
           "Several snapshots are summed.\n%s", stats_help);
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
    struct stats *st = stats_new(&o);
    if (!st) {
        snprintf(err, errlen, "top: out of memory");
        return 2;
    }
    rc = 0;
    for (int i = optind; i < argc && rc == 0; i++)
        if (stats_add_file(st, argv[i], err, errlen) < 0)
            rc = 2;
    if (rc == 0 && stats_print(st, stdout, 0) < 0) {
        snprintf(err, errlen, "top: out of memory");
        rc = 2;
    }
    stats_free(st);
    return rc;
}
