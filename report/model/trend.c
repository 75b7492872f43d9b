/*
 * trend.c - `heapsnap trend SNAP1 SNAP2 ... SNAPn`: which call sites keep
 * growing across a series of snapshots of ONE process (interval snapshots of
 * a service, or heapsnap_take_snapshot() calls in a test).
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
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "cli.h"
#include "config.h"
#include "escape.h"
#include "fmt.h"
#include "jsondoc.h"
#include "trend.h"

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

/* Groups the last snapshot's blocks by age bucket, one stats each. */
static int trend_ages(struct trend *tr)
{
    const struct snap *s = tr->series[tr->n - 1];
    struct hsnap_stat *v = calloc(s->ntraces + 1, sizeof(*v));
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
    for (int i = 0; i < n; i++)
        if (!(tr->st[i] = stats_new(&tr->o)) ||
            stats_add_snap(tr->st[i], tr->series[i], tr->series[i]->exe, err, errlen) < 0)
            goto oom;
    if (tr->series[n - 1]->has_blocks && trend_ages(tr) < 0)
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

/* --- the command --------------------------------------------------------- */

static void trend_usage(void)
{
    printf("usage: heapsnap trend SNAP1 SNAP2 ... [--key KEY] [-n N] [--alloc-fn PAT]\n"
           "Call sites whose live bytes grew at every step of a series of snapshots of\n"
           "one process (ordered by snapshot number), biggest growth first, with how\n"
           "many of their blocks in the last snapshot survived 0, 1, 2... epochs (an\n"
           "epoch ends at each snapshot).  A cache that never evicts has old blocks and\n"
           "grows at every step; a steady working set does neither.\n"
           "  -k, --key KEY   lineno (default), filename, function, module, traceback\n"
           "  -n N            print at most N sites (default 10, 0 = all)\n"
           "      --format text|json  JSON is described in docs/json.md\n"
           CONFIG_HELP);
}

static void trend_print_site(const struct trend *tr, const struct trend_site *ts)
{
    char key[4200], line[4600], ages[512];
    size_t len = 0;
    stats_key(tr->o.key, ts->e, key, sizeof(key));
    fmt_statistic_diff(line, sizeof(line), key, ts->last, ts->last - ts->first, ts->last_count,
                       ts->last_count - ts->first_count);
    printf("%s\n", line);
    if (!trend_has_ages(tr))
        return;
    for (int b = 0; b < TREND_AGES; b++)
        if (ts->ages[b] && len < sizeof(ages) - 40)
            len += (size_t)snprintf(ages + len, sizeof(ages) - len, " %d%s:%lld", b,
                                    b == TREND_AGES - 1 ? "+" : "", (long long)ts->ages[b]);
    printf("    blocks by epochs survived:%s\n", len ? ages : " none");
}

static int trend_parse(int argc, char **argv, struct stats_opts *o, char *err, size_t errlen)
{
    static const struct option longopts[] = {
        {"key", required_argument, NULL, 'k'}, {"help", no_argument, NULL, 'h'},
        {"format", required_argument, NULL, 'f'}, CONFIG_LONGOPTS, {NULL, 0, NULL, 0}};
    static const char *keys[] = {"lineno", "filename", "function", "module", "traceback"};
    int c, r;
    memset(o, 0, sizeof(*o));
    o->limit = 10;
    optind = 1;
    opterr = 0;
    while ((c = getopt_long(argc, argv, ":k:n:h", longopts, NULL)) != -1) {
        if (c == 'h') {
            trend_usage();
            return 0;
        } else if (c == 'n') {
            uint64_t n;
            if (cli_parse_count(optarg, INT32_MAX, &n) < 0) {
                cli_bad_value(err, errlen, "-n", optarg, "a count from 0 to 2147483647");
                return cli_prefix(err, errlen, "trend"), 2;
            }
            o->limit = (long)n;
        } else if (c == 'f') {
            if (jdoc_format(optarg, &o->json, err, errlen) < 0)
                return cli_prefix(err, errlen, "trend"), 2;
        } else if ((r = config_opt(c, optarg, err, errlen)) != 0) {
            if (r < 0)
                return cli_prefix(err, errlen, "trend"), 2;
        } else if (c == 'k') {
            size_t i = 0;
            while (i < 5 && strcmp(optarg, keys[i]) != 0)
                i++;
            if (i == 5) {
                cli_bad_value(err, errlen, "--key", optarg,
                              "lineno, filename, function, module, traceback");
                return cli_prefix(err, errlen, "trend"), 2;
            }
            o->key = (enum stats_key)i;
        } else
            return cli_bad_option("trend", c, argv, err, errlen);
    }
    if (argc - optind < 2) {
        snprintf(err, errlen, "trend: want at least two snapshots of one process");
        return 2;
    }
    return config_load("trend", err, errlen) ? 2 : -1;
}

/* --format json: the "heapsnap-trend" document (docs/json.md). */
static void trend_json(const struct trend *tr, const struct snap **ser, char **paths, int n,
                       const struct stats_opts *o)
{
    struct json j;
    size_t ns;
    const struct trend_site *s = trend_sites(tr, &ns);
    int left_out, m = trend_steady(tr, &left_out);
    char key[4200];
    jdoc_begin(&j, stdout, "heapsnap-trend", 1);
    json_kstr(&j, "key", stats_key_names[o->key]);
    json_key(&j, "snapshots");
    json_arr_begin(&j);
    for (int i = 0; i < n; i++)
        jdoc_snapshot(&j, ser[i], paths[i]);
    json_arr_end(&j);
    json_ku64(&j, "steady", (uint64_t)m);
    json_kbool(&j, "exit_left_out", left_out);
    json_ku64(&j, "sites_total", ns);
    json_key(&j, "sites");
    json_arr_begin(&j);
    for (size_t i = 0; i < ns && (o->limit == 0 || (long)i < o->limit); i++) {
        stats_key(o->key, s[i].e, key, sizeof(key));
        json_obj_begin(&j);
        json_kstr(&j, "key", key);
        json_ki64(&j, "first_bytes", s[i].first);
        json_ki64(&j, "last_bytes", s[i].last);
        json_ki64(&j, "first_blocks", s[i].first_count);
        json_ki64(&j, "last_blocks", s[i].last_count);
        json_key(&j, "ages");
        if (trend_has_ages(tr)) {
            json_arr_begin(&j);
            for (int b = 0; b < TREND_AGES; b++)
                json_i64(&j, s[i].ages[b]);
            json_arr_end(&j);
        } else {
            json_null(&j);
        }
        jdoc_key_fields(&j, o->key, s[i].e);
        json_obj_end(&j);
    }
    json_arr_end(&j);
    jdoc_end(&j);
}

static int trend_report(const struct snap **ser, char **paths, int n,
                        const struct stats_opts *o, char *err, size_t errlen)
{
    struct trend *tr = trend_new(o->key);
    size_t ns;
    if (!tr) {
        snprintf(err, errlen, "trend: out of memory");
        return 2;
    }
    int rc = trend_run(tr, ser, n, err, errlen) < 0 ? 2 : 0;
    if (rc == 0 && o->json) {
        trend_json(tr, ser, paths, n, o);
    } else if (rc == 0) {
        const struct trend_site *s = trend_sites(tr, &ns);
        char exe[600];
        int left_out, m = trend_steady(tr, &left_out);
        printf("%zu growing site%s across %d snapshots of pid %u (%s)%s\n", ns,
               ns == 1 ? "" : "s", m, ser[0]->meta.pid, esc_text(ser[0]->exe, exe, sizeof(exe)),
               left_out ? "; its exit snapshot left out" : "");
        for (size_t i = 0; i < ns && (o->limit == 0 || (long)i < o->limit); i++)
            trend_print_site(tr, &s[i]);
    }
    trend_free(tr);
    return rc;
}

int cmd_trend(int argc, char **argv, char *err, size_t errlen)
{
    struct stats_opts o;
    int rc = trend_parse(argc, argv, &o, err, errlen);
    if (rc >= 0)
        return rc;
    int n = argc - optind;
    struct snap *in = calloc((size_t)n, sizeof(*in));
    const struct snap **ser = calloc((size_t)n, sizeof(*ser));
    rc = in && ser ? 0 : 2;
    if (rc)
        snprintf(err, errlen, "trend: out of memory");
    for (int i = 0; i < n && rc == 0; i++) {
        ser[i] = &in[i];
        if (snap_load(argv[optind + i], &in[i], err, errlen) < 0)
            rc = 2;
        else if (in[i].meta.pid != in[0].meta.pid) {
            snprintf(err, errlen, "%s: pid %u, but %s is pid %u (trend takes one process's "
                     "series)", argv[optind + i], in[i].meta.pid, argv[optind], in[0].meta.pid);
            rc = 2;
        }
    }
    if (rc == 0)
        rc = trend_report(ser, argv + optind, n, &o, err, errlen);
    for (int i = 0; in && i < n; i++)
        snap_free(&in[i]);
    free(in);
    free(ser);
    return rc;
}
