/*
 * top.c - `heapsnap top SNAP... [options]`: live memory grouped by a key,
 * biggest first, in tracemalloc's Statistic lines.  Several snapshots are
 * summed (one process's series, or the processes of a fork tree).
 * --retainers prints report/retainers.c's "who keeps it alive" view instead.
 * --peak (or SNAP@peak) groups what each site held at the traced peak
 * (report/peak.c); --temporary lists sites by temporary allocations.
 * --failed lists the sites of failed allocations (FAILED).
 * --format json writes the "heapsnap-top" document of docs/json.md.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "cli.h"
#include "jsondoc.h"
#include "frames.h"
#include "lset.h"
#include "peak.h"
#include "retainers.h"
#include "stats.h"

static void top_usage(void)
{
    printf("usage: heapsnap top SNAP... [options]\n"
           "Live memory by allocation site, biggest first (tracemalloc's statistics()).\n"
           "Several snapshots are summed.\n");
    printf(stats_help, stats_help_top);
}

/* --retainers: who keeps the biggest sites' reachable memory alive. */
static int top_retainers(const struct stats_opts *o, const struct snap *snaps, char **paths,
                         int n, char *err, size_t errlen)
{
    char why[1024];
    for (int i = 0; i < n; i++)
        if (lset_require(&snaps[i], paths[i], err, errlen) < 0)
            return 2;
    if (retainers_print(snaps, paths, n, NULL, o->limit, stdout, why, sizeof(why)) < 0) {
        snprintf(err, errlen, "%s", why);
        return 2;
    }
    return 0;
}

static const char *base_of(const char *path)
{
    const char *slash = strrchr(path, '/');
    return slash ? slash + 1 : path;
}

/* Whether s is one of the snapshots --pid / --exe select. */
static int top_selected(const struct stats_opts *o, const struct snap *s)
{
    if (o->pid && s->meta.pid != (uint32_t)o->pid)
        return 0;
    return !o->exe || !strcmp(o->exe, s->exe) || !strcmp(o->exe, base_of(s->exe));
}

/* One line on stderr when the sum mixes executables: their sites add up
 * only by name, which is rarely what was meant. */
static void top_note_mixed(const struct snap *snaps, const int *sel, int n)
{
    char names[512] = "";
    size_t len = 0;
    int nexe = 0;
    for (int i = 0; i < n; i++) {
        int seen = !sel[i];
        for (int j = 0; j < i && !seen; j++)
            seen = sel[j] && !strcmp(snaps[j].exe, snaps[i].exe);
        if (seen)
            continue;
        if (nexe++ < 4 && len < sizeof(names) - 1)
            len += (size_t)snprintf(names + len, sizeof(names) - len, "%s%s",
                                    nexe > 1 ? ", " : "", base_of(snaps[i].exe));
    }
    if (nexe > 1)
        fprintf(stderr, "heapsnap: note: summing snapshots of %d executables (%s%s); "
                "--exe NAME or --pid PID selects\n", nexe, names, nexe > 4 ? ", ..." : "");
}

/* --format json: the "heapsnap-top" document (docs/json.md). */
static int top_json(const struct stats_opts *o, struct stats *st, const struct snap *snaps,
                    char **paths, int n)
{
    struct json j;
    jdoc_begin(&j, stdout, "heapsnap-top", 1);
    json_kstr(&j, "key", stats_key_names[o->key]);
    json_kbool(&j, "cumulative", o->cumulative);
    json_kstr(&j, "sort", stats_sort_names[o->sort]);
    json_kbool(&j, "leaked", o->leaked);
    json_kbool(&j, "failed", o->failed);
    json_key(&j, "snapshots");
    json_arr_begin(&j);
    for (int i = 0; i < n; i++)
        if (top_selected(o, &snaps[i]))
            jdoc_snapshot(&j, &snaps[i], paths[i]);
    json_arr_end(&j);
    int rc = jdoc_groups(&j, st, 0);
    jdoc_end(&j);
    return rc;
}

/* Adds the selected snapshots to st; 0, or 2 with err. */
static int top_sum(const struct stats_opts *o, struct stats *st, const struct snap *snaps,
                   char **paths, int n, char *err, size_t errlen)
{
    int *sel = calloc(n, sizeof(*sel)), nsel = 0, rc = 0;
    if (!sel) {
        snprintf(err, errlen, "top: out of memory");
        return 2;
    }
    for (int i = 0; i < n; i++)
        nsel += sel[i] = top_selected(o, &snaps[i]);
    if (nsel == 0) {
        snprintf(err, errlen, "top: no snapshot of the selected process (--pid, --exe)");
        rc = 2;
    } else {
        top_note_mixed(snaps, sel, n);
    }
    for (int i = 0; i < n; i++) {
        char note[128];
        if (sel[i] && snap_attached_note(&snaps[i], note, sizeof(note)))
            fprintf(stderr, "heapsnap: note: %s: %s\n", paths[i], note);
    }
    for (int i = 0; rc == 0 && i < n; i++)
        if (sel[i] && stats_add_snap(st, &snaps[i], paths[i], err, errlen) < 0)
            rc = 2;
    free(sel);
    return rc;
}

/* --temporary: each group's temporaries (its size here) and their share
 * of its allocations (its count), most temporaries first. */
static int top_print_temps(struct stats *st, const struct stats_opts *o)
{
    size_t n;
    struct stat_entry **e = stats_sort(st, 0, &n);
    if (!e)
        return -1;
    if (o->limit > 0 && (size_t)o->limit < n)
        n = (size_t)o->limit;
    for (size_t i = 0; i < n; i++) {
        char key[4200], where[300];
        stats_key(o->key, e[i], key, sizeof(key));
        printf("%s: temporary=%lld, allocations=%lld (%.1f%%)\n", key, (long long)e[i]->size,
               (long long)e[i]->count, e[i]->count ? 100.0 * e[i]->size / e[i]->count : 0.0);
        for (int f = 0; o->key == KEY_TRACEBACK && f < e[i]->nframes; f++)
            printf("  File \"%s\", line %d, in %s\n",
                   frames_where(e[i]->frames[f], where, sizeof(where)), e[i]->frames[f]->line,
                   e[i]->frames[f]->func);
    }
    return 0;
}

/* --failed: whether any snapshot has a FAILED section. */
static int top_any_failed(const struct snap *snaps, int n)
{
    for (int i = 0; i < n; i++)
        if (snaps[i].nfailed)
            return 1;
    return 0;
}

/* Loads argv's snapshot i; SNAP@peak reads its peak. */
static int top_load(const char *arg, struct snap *s, char *err, size_t errlen)
{
    char path[4096];
    int at = peak_split(arg, path, sizeof(path));
    if (at < 0) {
        snprintf(err, errlen, "top: path too long");
        return -1;
    }
    if (snap_load(path, s, err, errlen) < 0)
        return -1;
    s->at_peak = at;
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
    if (o.retainers && (o.json || o.sort != SORT_LIVE)) {
        snprintf(err, errlen, "top: --retainers takes neither --format json nor --sort");
        return 2;
    }
    if (o.temporary && (o.json || o.sort != SORT_LIVE)) {
        snprintf(err, errlen, "top: --temporary takes neither --format json nor --sort");
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
        if (top_load(argv[optind + loaded], &snaps[loaded], err, errlen) < 0)
            rc = 2;
    if (rc == 0 && o.retainers) {
        rc = top_retainers(&o, snaps, argv + optind, n, err, errlen);
        goto out;
    }
    if (rc == 0)
        rc = top_sum(&o, st, snaps, argv + optind, n, err, errlen);
    if (rc == 0 && o.failed && !o.json && !top_any_failed(snaps, n))
        fprintf(stderr, "heapsnap: note: no failed allocation in %s\n",
                n > 1 ? "these snapshots" : "this snapshot");
    if (rc == 0 && (o.temporary ? top_print_temps(st, &o)
                    : o.json    ? top_json(&o, st, snaps, argv + optind, n)
                                : stats_print(st, stdout, 0)) < 0) {
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
