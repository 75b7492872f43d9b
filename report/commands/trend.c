/*
 * trend.c - `heapsnap trend SNAP1 SNAP2 ... SNAPn`: reads a series of
 * snapshots of one process and prints the call sites that keep growing
 * across it, as text or as the "heapsnap-trend" JSON document.  The
 * analysis is report/model/growth.c's, shared with the gate's
 * --max-trend-growth rule.
 */
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "cli.h"
#include "commands.h"
#include "config.h"
#include "escape.h"
#include "fmt.h"
#include "jsondoc.h"
#include "growth.h"
#include "statsopt.h"

static void trend_usage(void)
{
    printf("usage: heapsnap trend SNAP1 SNAP2 ... [--key KEY] [-n N] [--alloc-fn PAT]\n"
           "Call sites whose live bytes grew at every step of a series of snapshots of\n"
           "one process (ordered by snapshot number), biggest growth first, with how\n"
           "many of their blocks in the last snapshot survived 0, 1, 2... epochs (an\n"
           "epoch ends at each snapshot).  A cache that never evicts has old blocks and\n"
           "grows at every step; a steady working set does neither.\n"
           "  -k, --key KEY   lineno (default), filename, function, module, traceback;\n"
           "                  type: Python objects by their type; lineno,type (filename,\n"
           "                  function, module): by both (docs/python.md)\n"
           "  -n N            print at most N sites (default 10, 0 = all)\n"
           "      --format text|json  JSON is described in docs/json.md\n"
           CONFIG_HELP);
}

static void trend_print_site(const struct trend *tr, enum stats_key k,
                             const struct trend_site *ts)
{
    char key[4200], line[4600], ages[512];
    size_t len = 0;
    stats_key(k, ts->e, key, sizeof(key));
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
            if (cli_parse_format(optarg, &o->json, err, errlen) < 0)
                return cli_prefix(err, errlen, "trend"), 2;
        } else if ((r = config_opt(c, optarg, err, errlen)) != 0) {
            if (r < 0)
                return cli_prefix(err, errlen, "trend"), 2;
        } else if (c == 'k') { /* KEY, type, or KEY,type (not traceback,type) */
            const char *comma = strchr(optarg, ',');
            size_t i = 0, n = comma ? (size_t)(comma - optarg) : strlen(optarg);
            o->by_type = comma && !strcmp(comma + 1, "type");
            while (i <= KEY_TYPE && (strlen(stats_key_names[i]) != n ||
                                     strncmp(optarg, stats_key_names[i], n) ||
                                     (o->by_type && (i == KEY_TYPE || i == KEY_TRACEBACK))))
                i++;
            if (i > KEY_TYPE || (comma && !o->by_type)) {
                cli_bad_value(err, errlen, "--key", optarg,
                              "lineno, filename, function, module, traceback, type, "
                              "lineno,type, filename,type, function,type, module,type");
                return cli_prefix(err, errlen, "trend"), 2;
            }
            o->key = (enum stats_key)i;
        } else
            return cli_bad_option("trend", c, argv, longopts, err, errlen);
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
    char kname[32];
    snprintf(kname, sizeof(kname), "%s%s", stats_key_names[o->key], o->by_type ? ",type" : "");
    json_kstr(&j, "key", kname);
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
    trend_by_type(tr, o->by_type);
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
            trend_print_site(tr, o->key, &s[i]);
    }
    trend_free(tr);
    return rc;
}

/* The sections a trend never reads, left as they are stored
 * (snap_load_skip; their checksums are still checked): it weighs the
 * sites' sums and ages the last snapshot's blocks (BLOCKS), typed by
 * PYTYPES under --key type or KEY,type; the peak's capture, the
 * timelines and what the leak check made are not looked at. */
static uint32_t trend_skip(const struct stats_opts *o)
{
    uint32_t skip = SNAP_SEC(PEAK) | SNAP_SKIP_LINES | SNAP_SKIP_EXTRAS | SNAP_SKIP_CHECK;
    return o->by_type || o->key == KEY_TYPE ? skip : skip | SNAP_SKIP_PYOBJ;
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
    if (statsopt_site_alone(&o)) /* a line is a site's, as top's default view */
        frames_site_only();
    rc = in && ser ? 0 : 2;
    if (rc)
        snprintf(err, errlen, "trend: out of memory");
    for (int i = 0; i < n && rc == 0; i++) {
        ser[i] = &in[i];
        if (snap_load_skip(argv[optind + i], &in[i], trend_skip(&o), err, errlen) < 0)
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
