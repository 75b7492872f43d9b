/*
 * top.c - `heapsnap top SNAP... [options]`: live memory grouped by a key,
 * biggest first, in tracemalloc's Statistic lines.  Several snapshots are
 * read by series.h's one rule: a series of one process as its latest
 * snapshot (its highest peak under --peak), several processes summed.
 * --retainers prints retainers_print's "who keeps it alive" view instead.
 * --peak (or SNAP@peak) groups what each site held at the traced peak
 * (peak_require); --temporary lists sites by temporary allocations.
 * --failed lists the sites of failed allocations (FAILED).
 * --format json writes the "heapsnap-top" document of docs/json.md.
 * --by-process prints each process's groups apart (top_by_process); with
 * --format json, the "heapsnap-top-by-process" document (top_proc_json).
 * Each of these is a view (top_view), chosen once from the parsed options
 * by top_choose; the summed views share top_summed and differ in printing.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "cli.h"
#include "commands.h"
#include "jsondoc.h"
#include "fmt.h"
#include "frames.h"
#include "lset.h"
#include "peakread.h"
#include "procrole.h"
#include "pycollected.h"
#include "pyretained.h"
#include "pyholders.h"
#include "pypath.h"
#include "retainers.h"
#include "series.h"
#include "stats.h"
#include "statsopt.h"

static void top_usage(void)
{
    printf("usage: heapsnap top SNAP... [options]\n"
           "Live memory by allocation site, biggest first (tracemalloc's statistics()).\n"
           "Several snapshots: each process's latest (its peak under --peak), summed;\n"
           "--by-process lists each process apart.\n");
    printf(statsopt_help, statsopt_help_top);
}

/* --retainers: who keeps the biggest sites' reachable memory alive. */
static int top_retainers(const struct stats_opts *o, const struct snap *snaps, char **paths,
                         int n, char *err, size_t errlen)
{
    char why[1024];
    int py = 0;
    for (int i = 0; i < n; i++)
        py |= snaps[i].py.graph;
    if (o->key == KEY_TYPE && !py) {
        snprintf(err, errlen, "top: --retainers --key type: %s has no graph of Python objects "
                 "(PYTYPES)", paths[0]);
        return 2;
    }
    if (o->json) { /* --key type only: the Python objects' holders */
        struct json j;
        jdoc_begin(&j, stdout, "heapsnap-top-retainers", 1);
        json_key(&j, "python_retainers");
        int rc = pyholders_by_type(snaps, n, o->limit, stdout, &j);
        jdoc_end(&j);
        return rc < 0 ? 2 : 0;
    }
    /* the Python objects' holders by type, then (by site) the native view */
    if (py && pyholders_by_type(snaps, n, o->limit, stdout, NULL) < 0) {
        snprintf(err, errlen, "top: out of memory");
        return 2;
    }
    if (o->key == KEY_TYPE)
        return 0;
    int native = 0, graph = 0; /* a snapshot with the Python graph needs no leak check */
    for (int i = 0; i < n; i++) {
        native |= snaps[i].has_retainers;
        graph |= snaps[i].py.graph;
        if (!snaps[i].py.graph && lset_require(&snaps[i], paths[i], err, errlen) < 0)
            return 2;
    }
    if (!native && graph) /* the holders above answered */
        return 0;
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
 * only by name, which is rarely what was meant.  Returns whether it did. */
static int top_note_mixed(const struct snap *snaps, int n)
{
    char names[512] = "";
    size_t len = 0;
    int nexe = 0;
    for (int i = 0; i < n; i++) {
        int seen = 0;
        for (int j = 0; j < i && !seen; j++)
            seen = !strcmp(snaps[j].exe, snaps[i].exe);
        if (seen)
            continue;
        if (nexe++ < 4 && len < sizeof(names) - 1)
            len += (size_t)snprintf(names + len, sizeof(names) - len, "%s%s",
                                    nexe > 1 ? ", " : "", base_of(snaps[i].exe));
    }
    if (nexe > 1)
        fprintf(stderr, "heapsnap: note: summing snapshots of %d executables (%s%s); "
                "--exe NAME or --pid PID selects\n", nexe, names, nexe > 4 ? ", ..." : "");
    return nexe > 1;
}

/* --format json: the "heapsnap-top" document (docs/json.md). */
static int top_json(const struct stats_opts *o, struct stats *st, const struct snap *snaps,
                    char **paths, int n, const struct series *sr, const char *note)
{
    struct json j;
    jdoc_begin(&j, stdout, "heapsnap-top", 1);
    json_kstr(&j, "key", stats_key_names[o->key]);
    json_kbool(&j, "cumulative", o->cumulative);
    json_kstr(&j, "sort", stats_sort_names[o->sort]);
    json_kbool(&j, "leaked", o->leaked);
    json_kbool(&j, "failed", o->failed);
    if (o->collected)
        gcfreed_json(&j, snaps, n);
    jdoc_series(&j, sr, series_rule(sr), sr->nused, sr->nprocs > 1, note);
    json_key(&j, "snapshots");
    json_arr_begin(&j);
    for (int i = 0; i < n; i++)
        jdoc_snapshot(&j, &snaps[i], paths[i]);
    json_arr_end(&j);
    int rc = jdoc_groups(&j, st, 0);
    jdoc_end(&j);
    return rc;
}

/* Moves the snapshots that count (sr->use) to the front, in the order
 * given, and returns how many there are; the rest stay behind, to be freed. */
static int top_compact(struct series *sr, struct snap *snaps, char **paths)
{
    int k = 0;
    for (int i = 0; i < sr->n; i++) {
        if (!sr->use[i])
            continue;
        struct snap s = snaps[i];
        char *p = paths[i];
        int proc = sr->proc[i];
        memmove(&snaps[k + 1], &snaps[k], (size_t)(i - k) * sizeof(*snaps));
        memmove(&paths[k + 1], &paths[k], (size_t)(i - k) * sizeof(*paths));
        memmove(&sr->proc[k + 1], &sr->proc[k], (size_t)(i - k) * sizeof(*sr->proc));
        memmove(&sr->use[k + 1], &sr->use[k], (size_t)(i - k));
        snaps[k] = s;
        paths[k] = p;
        sr->proc[k] = proc;
        sr->use[k++] = 1;
    }
    return k;
}

/* Picks the snapshots that count (series_pick after --pid / --exe), says
 * how they were read (note) and moves them to the front: *nused of them.
 * 0, or 2 with err. */
static int top_pick(const struct stats_opts *o, struct series *sr, struct snap *snaps,
                    char **paths, int n, int *nused, char *note, size_t notelen, char *err,
                    size_t errlen)
{
    unsigned char *sel = calloc(n, 1);
    int nsel = 0, rc = -1;
    for (int i = 0; sel && i < n; i++)
        nsel += sel[i] = (unsigned char)top_selected(o, &snaps[i]);
    if (sel)
        rc = series_pick(sr, snaps, n, sel, o->peak);
    free(sel);
    if (rc < 0) {
        snprintf(err, errlen, "top: out of memory");
        return 2;
    }
    if (nsel == 0) {
        snprintf(err, errlen, "top: no snapshot of the selected process (--pid, --exe)");
        return 2;
    }
    series_note(sr, snaps, paths, note, notelen);
    *nused = top_compact(sr, snaps, paths);
    return 0;
}

/* Says how the snapshots were read (note; the mixed executables' line
 * says it too) and adds those that count, snaps[0..n), to st; 0, or 2
 * with err. */
static int top_sum(struct stats *st, const struct snap *snaps, char **paths, int n,
                   const char *note, char *err, size_t errlen)
{
    if (!top_note_mixed(snaps, n) && note[0])
        fprintf(stderr, "heapsnap: %s\n", note);
    for (int i = 0; i < n; i++) {
        char att[128];
        if (snap_attached_note(&snaps[i], att, sizeof(att)))
            fprintf(stderr, "heapsnap: note: %s: %s\n", paths[i], att);
    }
    for (int i = 0; i < n; i++)
        if (stats_add_snap(st, &snaps[i], paths[i], err, errlen) < 0)
            return 2;
    return 0;
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

/* Whether snaps[i]'s parent is one of snaps[0..n) (another process). */
static int top_parent_in(const struct snap *snaps, int n, int i)
{
    for (int j = 0; j < n; j++)
        if (j != i && snaps[j].meta.pid == snaps[i].meta.ppid &&
            snaps[j].meta.pid != snaps[i].meta.pid)
            return 1;
    return 0;
}

/* The print order of --by-process: the processes whose parent is not
 * among them first (a run's program), then the others (its workers), each
 * part by pid. */
static int *top_proc_order(const struct snap *snaps, int n)
{
    int *ord = malloc((size_t)(n ? n : 1) * sizeof(*ord));
    int k = 0;
    for (int part = 0; ord && part < 2; part++) {
        int first = k;
        for (int i = 0; i < n; i++)
            if (top_parent_in(snaps, n, i) == part)
                ord[k++] = i;
        for (int a = first + 1; a < k; a++) /* insertion sort by pid */
            for (int b = a; b > first && snaps[ord[b - 1]].meta.pid > snaps[ord[b]].meta.pid; b--) {
                int t = ord[b];
                ord[b] = ord[b - 1];
                ord[b - 1] = t;
            }
    }
    return ord;
}

/* One --by-process header: "== pid 1234 (python3): parent of 2 ==",
 * "== pid 1240 (python3): child of pid 1234 ==", a multiprocessing
 * worker's with what it runs ("..., runs multiprocessing.pool.worker"),
 * a fork child's with the heap it inherited, summed apart ("; inherited
 * 4.2 MiB in 4000 blocks, not below"). */
static void top_proc_header(const struct snap *snaps, int n, int i)
{
    int kids = 0;
    for (int j = 0; j < n; j++)
        kids += j != i && snaps[j].meta.ppid == snaps[i].meta.pid &&
                snaps[j].meta.pid != snaps[i].meta.pid;
    printf("== pid %u (%s)", snaps[i].meta.pid, base_of(snaps[i].exe));
    if (top_parent_in(snaps, n, i))
        printf(": child of pid %u", snaps[i].meta.ppid);
    else if (kids)
        printf(": parent of %d", kids);
    char role[320];
    int said = top_parent_in(snaps, n, i) || kids;
    if (procrole_of(&snaps[i], role, sizeof role))
        printf("%s runs %s", said ? "," : ":", role), said = 1;
    if (snaps[i].has_inherited) { /* its parent's heap, summed apart: not in its lines */
        char sz[64];
        fmt_size(sz, sizeof(sz), (double)snaps[i].inherited.bytes, 0);
        printf("%s inherited %s in %llu blocks, not below", said ? ";" : ":", sz,
               (unsigned long long)snaps[i].inherited.blocks);
    }
    printf(" ==\n");
}

/* --by-process --format json: one process's object in "processes" (its
 * role as top_proc_header names it), its groups from st. */
static int top_proc_json(struct json *j, struct stats *st, const struct snap *snaps,
                         char **paths, int n, int i)
{
    int kids = 0;
    for (int k = 0; k < n; k++)
        kids += k != i && snaps[k].meta.ppid == snaps[i].meta.pid &&
                snaps[k].meta.pid != snaps[i].meta.pid;
    int child = top_parent_in(snaps, n, i);
    json_obj_begin(j);
    json_ku64(j, "pid", snaps[i].meta.pid);
    json_kstr(j, "exe", snaps[i].exe);
    json_ku64(j, "parent", snaps[i].meta.ppid);
    json_kstr(j, "role", child ? "child" : kids ? "parent" : "alone");
    json_ku64(j, "children", (uint64_t)kids);
    char role[320];
    if (procrole_of(&snaps[i], role, sizeof role))
        json_kstr(j, "runs", role);
    if (snaps[i].has_inherited) {
        json_key(j, "inherited");
        json_obj_begin(j);
        json_ku64(j, "bytes", snaps[i].inherited.bytes);
        json_ku64(j, "blocks", snaps[i].inherited.blocks);
        json_obj_end(j);
    }
    json_key(j, "snapshot");
    jdoc_snapshot(j, &snaps[i], paths[i]);
    int rc = jdoc_groups(j, st, 0);
    json_obj_end(j);
    return rc;
}

/* --by-process: each process of snaps[0..n) (one snapshot each, as
 * top_pick left them) grouped and printed apart, under top_proc_header's
 * line, a blank line between.  0, or 2 with err. */
static int top_by_process(const struct stats_opts *o, const struct snap *snaps, char **paths,
                          int n, const struct series *sr, const char *note, char *err,
                          size_t errlen)
{
    /* series_note's "N processes, summed": here they are not */
    size_t len = strlen(note), tail = strlen(", summed");
    if (len > tail && !strcmp(note + len - tail, ", summed"))
        fprintf(stderr, "heapsnap: %.*s, each apart\n", (int)(len - tail), note);
    else if (note[0])
        fprintf(stderr, "heapsnap: %s\n", note);
    int *ord = top_proc_order(snaps, n), rc = 0;
    if (!ord) {
        snprintf(err, errlen, "top: out of memory");
        return 2;
    }
    struct json j;
    if (o->json) { /* the fields of "heapsnap-top", "processes" for "groups" */
        jdoc_begin(&j, stdout, "heapsnap-top-by-process", 1);
        json_kstr(&j, "key", stats_key_names[o->key]);
        json_kbool(&j, "cumulative", o->cumulative);
        json_kstr(&j, "sort", stats_sort_names[o->sort]);
        json_kbool(&j, "leaked", o->leaked);
        json_kbool(&j, "failed", o->failed);
        jdoc_series(&j, sr, series_rule(sr), sr->nused, 0, note);
        json_key(&j, "processes");
        json_arr_begin(&j);
    }
    for (int k = 0; rc == 0 && k < n; k++) {
        int i = ord[k];
        char att[128];
        if (snap_attached_note(&snaps[i], att, sizeof(att)))
            fprintf(stderr, "heapsnap: note: %s: %s\n", paths[i], att);
        struct stats *st = stats_new(o);
        if (!st) {
            snprintf(err, errlen, "top: out of memory");
            rc = 2;
            break;
        }
        if (stats_add_snap(st, &snaps[i], paths[i], err, errlen) < 0)
            rc = 2;
        if (rc == 0 && o->json) {
            if (top_proc_json(&j, st, snaps, paths, n, i) < 0) {
                snprintf(err, errlen, "top: out of memory");
                rc = 2;
            }
        } else if (rc == 0) {
            if (k)
                printf("\n");
            top_proc_header(snaps, n, i);
            if ((o->temporary ? top_print_temps(st, o) : stats_print(st, stdout, 0)) < 0) {
                snprintf(err, errlen, "top: out of memory");
                rc = 2;
            }
        }
        stats_free(st);
    }
    if (o->json) {
        json_arr_end(&j);
        jdoc_end(&j);
    }
    free(ord);
    return rc;
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
static int top_load(const struct stats_opts *o, const char *arg, struct snap *s, char *err,
                    size_t errlen)
{
    char path[4096];
    int at = peak_split(arg, path, sizeof(path));
    if (at < 0) {
        snprintf(err, errlen, "top: path too long");
        return -1;
    }
    if (at && statsopt_check_at_peak("top", o, path, err, errlen) < 0)
        return -1;
    if (snap_load_skip(path, s, statsopt_skip(o, at), err, errlen) < 0)
        return -1;
    s->at_peak = at;
    return 0;
}

/* What every view of top reads: the parsed options, the snapshots that
 * count (snaps[0..n), as top_pick left them), their series and its note. */
struct top_in {
    const struct stats_opts *o;
    struct snap *snaps;
    char **paths;
    int n;
    const struct series *sr;
    const char *note;
};

/* A view of top: prints what its options ask for; 0, or 2 with err. */
typedef int (*top_view)(const struct top_in *in, char *err, size_t errlen);

/* --retained: the Python objects' retained sizes. */
static int top_view_retained(const struct top_in *in, char *err, size_t errlen)
{
    if (in->note[0])
        fprintf(stderr, "heapsnap: %s\n", in->note);
    return pyretained_print(in->o, in->snaps, in->paths, in->n, stdout, err, errlen) < 0 ? 2 : 0;
}

/* --retainers: who keeps the biggest sites alive (top_retainers). */
static int top_view_retainers(const struct top_in *in, char *err, size_t errlen)
{
    if (in->note[0])
        fprintf(stderr, "heapsnap: %s\n", in->note);
    return top_retainers(in->o, in->snaps, in->paths, in->n, err, errlen);
}

/* --by-process: each process apart (top_by_process). */
static int top_view_by_process(const struct top_in *in, char *err, size_t errlen)
{
    return top_by_process(in->o, in->snaps, in->paths, in->n, in->sr, in->note, err, errlen);
}

/* --failed's note on stderr when no snapshot has a failed allocation. */
static void top_note_no_failed(const struct top_in *in)
{
    if (in->o->failed && !top_any_failed(in->snaps, in->n))
        fprintf(stderr, "heapsnap: note: no failed allocation in %s\n",
                in->n > 1 ? "these snapshots" : "this snapshot");
}

/* The summed views' printers: st holds every snapshot's groups (top_sum);
 * each returns 0, or -1 out of memory. */
static int top_print_plain(struct stats *st, const struct top_in *in)
{
    top_note_no_failed(in);
    return stats_print(st, stdout, 0);
}

static int top_print_temporary(struct stats *st, const struct top_in *in)
{
    top_note_no_failed(in);
    return top_print_temps(st, in->o);
}

static int top_print_json(struct stats *st, const struct top_in *in)
{
    return top_json(in->o, st, in->snaps, in->paths, in->n, in->sr, in->note);
}

/* --collected: the groups, then what the collections freed in all. */
static int top_print_collected(struct stats *st, const struct top_in *in)
{
    if (stats_print(st, stdout, 0) < 0)
        return -1;
    gcfreed_print_total(in->snaps, in->n, "Collected:", stdout);
    return 0;
}

/* Every snapshot's groups summed (top_sum), then printed by print. */
static int top_summed(const struct top_in *in, int (*print)(struct stats *, const struct top_in *),
                      char *err, size_t errlen)
{
    struct stats *st = stats_new(in->o);
    if (!st) {
        snprintf(err, errlen, "top: out of memory");
        return 2;
    }
    int rc = top_sum(st, in->snaps, in->paths, in->n, in->note, err, errlen);
    if (rc == 0 && print(st, in) < 0) {
        snprintf(err, errlen, "top: out of memory");
        rc = 2;
    }
    stats_free(st);
    return rc;
}

static int top_view_plain(const struct top_in *in, char *err, size_t errlen)
{
    return top_summed(in, top_print_plain, err, errlen);
}

static int top_view_temporary(const struct top_in *in, char *err, size_t errlen)
{
    return top_summed(in, top_print_temporary, err, errlen);
}

static int top_view_json(const struct top_in *in, char *err, size_t errlen)
{
    return top_summed(in, top_print_json, err, errlen);
}

static int top_view_collected(const struct top_in *in, char *err, size_t errlen)
{
    return top_summed(in, top_print_collected, err, errlen);
}

/* The one view o asks for, chosen once: the views that are not a sum of
 * groups first, then the summed ones by how they print. */
static top_view top_choose(const struct stats_opts *o)
{
    if (o->retained)
        return top_view_retained;
    if (o->retainers)
        return top_view_retainers;
    if (o->by_process)
        return top_view_by_process;
    if (o->temporary)
        return top_view_temporary;
    if (o->json)
        return top_view_json;
    if (o->collected)
        return top_view_collected;
    return top_view_plain;
}

/* The checks between top's own views that statsopt_parse leaves to it;
 * 0, or 2 with err. */
static int top_check(const struct stats_opts *o, char *err, size_t errlen)
{
    if (o->retainers && ((o->json && o->key != KEY_TYPE) || o->sort != SORT_LIVE)) {
        snprintf(err, errlen, "top: --retainers takes neither --sort nor --format json "
                 "(but with --key type)");
        return 2;
    }
    if (o->temporary && (o->json || o->sort != SORT_LIVE)) {
        snprintf(err, errlen, "top: --temporary takes neither --format json nor --sort");
        return 2;
    }
    return 0;
}

/* Loads snaps[0..n) from paths (every file validated before any is
 * symbolized: no warnings, then an error); 0, or 2 with err. */
static int top_load_all(const struct stats_opts *o, struct snap *snaps, char **paths, int n,
                        char *err, size_t errlen)
{
    for (int i = 0; i < n; i++)
        if (top_load(o, paths[i], &snaps[i], err, errlen) < 0)
            return 2;
    return 0;
}

int cmd_top(int argc, char **argv, char *err, size_t errlen)
{
    struct stats_opts o;
    int rc = statsopt_parse("top", argc, argv, &o, top_usage, err, errlen);
    if (rc >= 0)
        return rc;
    if (optind >= argc) {
        snprintf(err, errlen, "top: no snapshot given (heapsnap top SNAP... [options])");
        return 2;
    }
    if ((rc = top_check(&o, err, errlen)) != 0)
        return rc;
    top_view view = top_choose(&o);
    /* The default view's lines, and --retainers' (sites, and the sites
     * and objects that hold them), need each stack's site alone, as run's
     * summary reads them: its other frames, the C runtime's beyond a
     * native site (libc's DWARF) and a Python stack's native words, are
     * not symbolized. */
    if (statsopt_site_alone(&o))
        frames_site_only();
    int n = argc - optind, nused = 0;
    char **paths = argv + optind;
    struct snap *snaps = calloc(n, sizeof(*snaps));
    struct series sr = {0};
    char note[512] = "";
    if (!snaps) {
        snprintf(err, errlen, "top: out of memory");
        rc = 2;
    } else
        rc = top_load_all(&o, snaps, paths, n, err, errlen);
    if (rc == 0)
        rc = top_pick(&o, &sr, snaps, paths, n, &nused, note, sizeof(note), err, errlen);
    if (rc == 0) {
        struct top_in in = {&o, snaps, paths, nused, &sr, note};
        rc = view(&in, err, errlen);
    }
    series_free(&sr);
    for (int i = 0; snaps && i < n; i++)
        snap_free(&snaps[i]);
    free(snaps);
    return rc;
}
