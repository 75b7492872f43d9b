/*
 * timeline.c - `heapsnap timeline SNAP...`: memory over time, per process
 * (memline_build): the traced heap, the resident set, and the live
 * bytes of the largest allocation sites at each point, as a table or as
 * JSON (docs/json.md).  Snapshots of one process are merged (each carries
 * its history since the start); each process has its own table.  --kind
 * keeps one kind of memory: its bytes at each point (MAPLINE) and its sites.
 */
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli.h"
#include "commands.h"
#include "escape.h"
#include "fmt.h"
#include "frames.h"
#include "json.h"
#include "memline.h"
#include "sitelineread.h"

#define TL_COLUMNS 5        /* sites shown as columns by default */
#define TL_MAX_COLUMNS 16
#define TL_JSON_VERSION 1

struct tl_opts {
    int json;
    unsigned columns;
    int kind; /* --kind: SNAP_KIND_* */
};

static const char *const tl_kinds[] = {"all", "malloc", "mmap"}; /* SNAP_KIND_* */

static void tl_usage(void)
{
    printf("usage: heapsnap timeline [options] SNAP...\n"
           "Memory over time: at each point the traced heap, the resident set (RSS)\n"
           "and the live bytes of the largest allocation sites, as the shim sampled\n"
           "them (HEAPSNAP_SITELINE).  The snapshots of one process are merged (each\n"
           "holds its history since the start); every process has its own table.\n"
           "A site column shows \"-\" where the site was not among the point's largest\n"
           "(its bytes are then in \"other\").  Snapshots without per-site data (format\n"
           "1, or HEAPSNAP_SITELINE=0) show the traced heap alone.\n"
           "  -n N               sites shown as columns (default %d, at most %d)\n"
           "      --format text|json  JSON is described in docs/json.md\n"
           CLI_KIND_HELP
           "                     (the heap and the sites of that kind at each point;\n"
           "                     RSS stays the whole process's)\n",
           TL_COLUMNS, TL_MAX_COLUMNS);
}

static int tl_getopt(int argc, char **argv, struct tl_opts *o, char *err, size_t errlen)
{
    static const struct option longopts[] = {{"format", required_argument, NULL, 'f'},
                                             {"kind", required_argument, NULL, 'K'},
                                             {"help", no_argument, NULL, 'h'},
                                             {NULL, 0, NULL, 0}};
    uint64_t n;
    int c;
    o->json = 0;
    o->columns = TL_COLUMNS;
    o->kind = SNAP_KIND_ALL;
    optind = 1;
    opterr = 0;
    while ((c = getopt_long(argc, argv, ":n:h", longopts, NULL)) != -1) {
        if (c == 'h') {
            tl_usage();
            return 0;
        } else if (c == 'n' && cli_parse_count(optarg, TL_MAX_COLUMNS, &n) == 0) {
            o->columns = (unsigned)n;
        } else if (c == 'n') {
            cli_bad_value(err, errlen, "-n", optarg, "a count from 0 to 16");
            return cli_prefix(err, errlen, "timeline"), 2;
        } else if (c == 'f' && (!strcmp(optarg, "text") || !strcmp(optarg, "json"))) {
            o->json = !strcmp(optarg, "json");
        } else if (c == 'f') {
            cli_bad_value(err, errlen, "--format", optarg, "text, json");
            return cli_prefix(err, errlen, "timeline"), 2;
        } else if (c == 'K') {
            if (cli_parse_kind(optarg, &o->kind, err, errlen) < 0)
                return cli_prefix(err, errlen, "timeline"), 2;
        } else {
            return cli_bad_option("timeline", c, argv, longopts, err, errlen);
        }
    }
    if (optind >= argc) {
        snprintf(err, errlen, "timeline: no snapshot given (heapsnap timeline SNAP...)");
        return 2;
    }
    return -1;
}

static const char *tl_base(const char *path)
{
    const char *slash = strrchr(path, '/');
    return slash && slash[1] ? slash + 1 : path;
}

/* Why a process has no per-site points, as the text's first line says it. */
static const char *tl_why_not(const struct memline *ml)
{
    return ml->latest->version < 2 ? "snapshot format 1" : "HEAPSNAP_SITELINE=0";
}

/* --- text ------------------------------------------------------------------ */

static void tl_cell(const char *s)
{
    printf(" %11s", s);
}

static void tl_size(uint64_t v)
{
    char buf[64];
    fmt_size(buf, sizeof(buf), (double)v, 0);
    tl_cell(buf);
}

static void tl_head(const struct memline *ml, size_t cols)
{
    char exe[4200];
    esc_text(tl_base(ml->latest->exe[0] ? ml->latest->exe : "?"), exe, sizeof(exe));
    printf("pid %u %s, %d snapshot%s: %zu point%s", ml->latest->meta.pid, exe, ml->nsnaps,
           ml->nsnaps == 1 ? "" : "s", ml->n, ml->n == 1 ? "" : "s");
    char kind[64] = "";
    if (ml->kind != SNAP_KIND_ALL) /* the heap and sites of one kind; the RSS the process's */
        snprintf(kind, sizeof(kind), "; the %s kind only", tl_kinds[ml->kind]);
    if (!ml->has_sites) {
        printf(", traced heap only: RSS and sites were not recorded (%s)%s\n", tl_why_not(ml),
               kind);
        printf("%9s %11s\n", "time", "heap");
        return;
    }
    printf(" (every %.3g ms at first, every %.3g ms now), the %u largest sites at each%s\n",
           ml->first_step_ns / 1e6, ml->step_ns / 1e6, ml->per_point, kind);
    for (size_t k = 0; k < cols; k++) {
        char name[4200], func[4200];
        esc_text(ml->sites[k].name, name, sizeof(name));
        esc_text(ml->sites[k].func, func, sizeof(func));
        if (strcmp(ml->sites[k].name, ml->sites[k].func))
            printf("  [%zu] %s  %s\n", k + 1, name, func);
        else
            printf("  [%zu] %s\n", k + 1, name);
    }
    printf("%9s %11s %11s", "time", "heap", "rss");
    for (size_t k = 0; k < cols; k++) {
        char h[16];
        snprintf(h, sizeof(h), "[%zu]", k + 1);
        tl_cell(h);
    }
    printf(" %11s\n", "other");
}

/* One row; 1 when a site's bytes were unknown ("-"). */
static int tl_row(const struct memline *ml, size_t i, size_t cols)
{
    const struct ml_point *p = &ml->pts[i];
    int unknown = 0;
    printf("%7.3f s", p->t_ns / 1e9);
    tl_size(p->heap);
    if (ml->has_sites) {
        uint64_t shown = 0;
        if (p->rss)
            tl_size(p->rss);
        else
            tl_cell(p->captured ? "*" : "?");
        for (size_t k = 0; k < cols; k++) {
            uint64_t b;
            if (memline_bytes(ml, p, k, &b)) {
                tl_size(b);
                shown += b;
            } else {
                tl_cell("-");
                unknown = 1;
            }
        }
        tl_size(p->heap - (shown < p->heap ? shown : p->heap));
    }
    printf("%s\n", i == ml->peak ? "  <- peak" : "");
    return unknown;
}

static void tl_text(const struct memline *ml, unsigned columns)
{
    size_t cols = ml->nsites < columns ? ml->nsites : columns;
    int unknown = 0, captured = 0;
    tl_head(ml, cols);
    for (size_t i = 0; i < ml->n; i++) {
        unknown |= tl_row(ml, i, cols);
        captured |= ml->pts[i].captured;
    }
    if (ml->n) {
        char sz[64];
        fmt_size(sz, sizeof(sz), (double)ml->pts[ml->peak].heap, 0);
        printf("peak: %s at %.3f s", sz, ml->pts[ml->peak].t_ns / 1e9);
        for (size_t e = 0; e < ml->pts[ml->peak].n && e < 3; e++) {
            const struct ml_ent *en = &ml->ent[ml->pts[ml->peak].first + e];
            char name[4200];
            fmt_size(sz, sizeof(sz), (double)en->bytes, 0);
            printf("%s %s %s", e ? "," : ";", esc_text(ml->sites[en->site].name, name, sizeof(name)), sz);
        }
        printf("\n");
    }
    if (unknown)
        printf("-: not among the point's %u largest sites (counted in other)\n", ml->per_point);
    if (captured && ml->has_sites)
        printf("*: not a sample: the traced peak, when the shim captured it (no RSS read)\n");
}

/* --- JSON ------------------------------------------------------------------- */

static void tl_json_point(struct json *j, const struct memline *ml, const struct ml_point *p)
{
    json_obj_begin(j);
    json_ku64(j, "t_ns", p->t_ns);
    json_ku64(j, "heap", p->heap);
    if (p->captured)
        json_kbool(j, "captured_peak", 1);
    json_key(j, "rss");
    if (ml->has_sites && p->rss)
        json_u64(j, p->rss);
    else
        json_null(j);
    if (ml->has_sites) {
        json_ku64(j, "other", p->other);
        json_kbool(j, "full", p->full);
        json_key(j, "sites");
        json_arr_begin(j);
        for (size_t e = p->first; e < p->first + p->n; e++) {
            json_arr_begin(j);
            json_u64(j, ml->ent[e].site);
            json_u64(j, ml->ent[e].bytes);
            json_arr_end(j);
        }
        json_arr_end(j);
    }
    json_obj_end(j);
}

static void tl_json_proc(struct json *j, const struct memline *ml, const struct snap *snaps,
                         char **paths, const int *proc, int k, int n)
{
    const struct snap *s = ml->latest;
    json_obj_begin(j);
    if (ml->kind != SNAP_KIND_ALL)
        json_kstr(j, "kind", tl_kinds[ml->kind]);
    json_ku64(j, "pid", s->meta.pid);
    json_kstr(j, "exe", s->exe);
    json_ku64(j, "start_ns", s->meta.start_ns);
    json_key(j, "snapshots"); /* the shape every JSON document gives a snapshot */
    json_arr_begin(j);
    for (int i = 0; i < n; i++)
        if (proc[i] == k) {
            json_obj_begin(j);
            json_kstr(j, "path", paths[i]);
            json_ku64(j, "pid", snaps[i].meta.pid);
            json_kstr(j, "exe", snaps[i].exe);
            json_ku64(j, "time_ns", snaps[i].meta.time_ns);
            json_ku64(j, "sample_interval", snaps[i].meta.sample_interval);
            json_obj_end(j);
        }
    json_arr_end(j);
    json_ku64(j, "format", s->version);
    json_key(j, "recorded");
    json_obj_begin(j);
    json_kbool(j, "rss", ml->has_sites);
    json_kbool(j, "sites", ml->has_sites);
    json_obj_end(j);
    if (ml->has_sites) {
        json_ku64(j, "sites_per_point", ml->per_point);
        json_ku64(j, "first_step_ns", ml->first_step_ns);
        json_ku64(j, "step_ns", ml->step_ns);
    }
    json_key(j, "sites");
    json_arr_begin(j);
    for (size_t i = 0; i < ml->nsites; i++) {
        json_obj_begin(j);
        json_kstr(j, "site", ml->sites[i].name);
        json_kstr(j, "function", ml->sites[i].func);
        json_ku64(j, "max_bytes", ml->sites[i].max);
        json_obj_end(j);
    }
    json_arr_end(j);
    json_key(j, "points");
    json_arr_begin(j);
    for (size_t i = 0; i < ml->n; i++)
        tl_json_point(j, ml, &ml->pts[i]);
    json_arr_end(j);
    json_key(j, "peak");
    if (ml->n) {
        json_obj_begin(j);
        json_ku64(j, "point", ml->peak);
        json_ku64(j, "t_ns", ml->pts[ml->peak].t_ns);
        json_ku64(j, "heap", ml->pts[ml->peak].heap);
        json_obj_end(j);
    } else {
        json_null(j);
    }
    json_obj_end(j);
}

/* --- the command -------------------------------------------------------------- */

/* The memline of process k among snaps[0..n), of one kind. */
static int tl_build(struct memline *ml, const struct snap *snaps, const int *proc, int k, int n,
                    int kind)
{
    const struct snap **mine = malloc((size_t)n * sizeof(*mine));
    int m = 0;
    if (!mine)
        return -1;
    for (int i = 0; i < n; i++)
        if (proc[i] == k)
            mine[m++] = &snaps[i];
    int rc = memline_build_kind(ml, mine, m, kind);
    free(mine);
    return rc;
}

static int tl_print(const struct tl_opts *o, const struct snap *snaps, char **paths, int n,
                    char *err, size_t errlen)
{
    int *proc = malloc((size_t)n * sizeof(*proc));
    if (!proc) {
        snprintf(err, errlen, "timeline: out of memory");
        return 2;
    }
    int nprocs = memline_procs(snaps, n, proc), rc = 0;
    struct json j;
    if (o->json) {
        json_init(&j, stdout);
        json_obj_begin(&j);
        json_kstr(&j, "schema", "heapsnap-timeline");
        json_ku64(&j, "version", TL_JSON_VERSION);
        json_key(&j, "processes");
        json_arr_begin(&j);
    }
    for (int k = 0; k < nprocs && !rc; k++) {
        struct memline ml;
        if (tl_build(&ml, snaps, proc, k, n, o->kind) < 0) {
            snprintf(err, errlen, "timeline: out of memory");
            rc = 2;
            break;
        }
        if (o->json) {
            tl_json_proc(&j, &ml, snaps, paths, proc, k, n);
        } else {
            if (k)
                printf("\n");
            tl_text(&ml, o->columns);
        }
        memline_free(&ml);
    }
    if (o->json && !rc) {
        json_arr_end(&j);
        json_obj_end(&j);
        json_finish(&j);
    }
    free(proc);
    return rc;
}

/* The sections a timeline never reads, left as they are stored
 * (snap_load_skip; their checksums are still checked): its points are
 * TIMELINE's, SITELINE's and MAPLINE's, named by TRACES, with the
 * snapshot's own from STATS and PEAK; the blocks and what the leak check
 * and the objects' passes made of them are not looked at. */
#define TL_SKIP (SNAP_SEC(BLOCKS) | SNAP_SKIP_CHECK | SNAP_SKIP_PYOBJ | SNAP_SKIP_EXTRAS)

int cmd_timeline(int argc, char **argv, char *err, size_t errlen)
{
    struct tl_opts o;
    int rc = tl_getopt(argc, argv, &o, err, errlen);
    if (rc >= 0)
        return rc;
    int n = argc - optind, loaded = 0;
    struct snap *snaps = calloc((size_t)n, sizeof(*snaps));
    if (!snaps) {
        snprintf(err, errlen, "timeline: out of memory");
        return 2;
    }
    int unknown = 0; /* a snapshot that cannot tell the kinds apart over time */
    frames_site_only(); /* a point names its sites alone (memline's site_of) */
    for (; loaded < n && !unknown; loaded++) {
        if (snap_load_skip(argv[optind + loaded], &snaps[loaded], TL_SKIP, err, errlen) < 0)
            break;
        if (o.kind != SNAP_KIND_ALL && !siteline_kinds_known(&snaps[loaded])) {
            snprintf(err, errlen, "timeline: %s: its points do not say which of their bytes were "
                     "mapped (HEAPSNAP_SITELINE=0, or an older heapsnap): no --kind",
                     argv[optind + loaded]);
            unknown = 1;
        }
    }
    rc = loaded < n || unknown ? 2 : tl_print(&o, snaps, argv + optind, n, err, errlen);
    frames_fini();
    for (int i = 0; i < loaded; i++)
        snap_free(&snaps[i]);
    free(snaps);
    return rc;
}
