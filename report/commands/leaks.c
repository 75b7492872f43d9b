/*
 * leaks.c - `heapsnap leaks SNAP...`: the reference model's verdict as
 * Valgrind-style loss records and a LEAK SUMMARY, in text or JSON.
 *
 * The records come from lossrec_new (grouping, filters, suppressions,
 * order) and print through lossprint_sites; this file parses the options.
 * Text starts with the LEAK SUMMARY (one line per kind, always all six)
 * and, with --suppressions, which matched and which are stale; then the
 * records of the LEAKS_SITES sites of most bytes (-n), largest first, as
 * LeakSanitizer orders them and a terminal user reads them (Valgrind's
 * smallest-first flood of 5,000 records put the largest 30,000 lines
 * down); one last line says what -n left out.  JSON lists every record
 * unless -n is given: machine readers want them all.  --why SITE prints
 * who holds SITE's memory instead (pyholders_print, retainers_print, and
 * block by block bwhy_print; JSON: heapsnap-leaks-why).  Exit 0 whatever leaked: deciding failure is
 * the gate's job.
 */
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "blockwhy.h"
#include "cli.h"
#include "commands.h"
#include "config.h"
#include "json.h"
#include "jsondoc.h"
#include "lossprint.h"
#include "lset.h"
#include "lossrec.h"
#include "pygarbage.h"
#include "pyholders.h"
#include "pyleakreport.h"
#include "retainers.h"
#include "supp.h"

#define LEAKS_MAX_SUPP_FILES 16
#define LEAKS_SITES 10 /* sites text shows without -n: a screen's worth */
#define LEAKS_JSON_VERSION 1

struct leaks_opts {
    struct lossrec_opts lr;
    struct lossprint_opts pr;  /* --refs, --gen-suppressions, --all-frames */
    int json;                  /* --format json */
    int limit_given;           /* -n given: JSON keeps only those sites too */
    const char *why;           /* --why SITE */
    int nsupp;
    const char *supp[LEAKS_MAX_SUPP_FILES];
};

static const char leaks_shortopts[] = ":n:h";
static const struct option leaks_longopts[] = {
    {"kinds", required_argument, NULL, 'k'},
    {"include", required_argument, NULL, 'i'},
    {"exclude", required_argument, NULL, 'x'},
    {"suppressions", required_argument, NULL, 's'},
    {"refs", no_argument, NULL, 'r'},
    {"sort", required_argument, NULL, 'o'},
    {"format", required_argument, NULL, 'f'},
    {"why", required_argument, NULL, 'w'},
    {"gen-suppressions", optional_argument, NULL, 'g'},
    {"all-frames", no_argument, NULL, 'a'},
    CONFIG_LONGOPTS,
    {"help", no_argument, NULL, 'h'},
    {NULL, 0, NULL, 0},
};

static void leaks_usage(void)
{
    printf("usage: heapsnap leaks SNAP... [options]\n"
           "A LEAK SUMMARY, then the loss records from the reference model (run with\n"
           "--leaks or HEAPSNAP_LEAKS=1) of the largest sites, largest first: a site's\n"
           "records are one line and its largest record.  Several snapshots are combined.\n"
           "  --kinds LIST        kinds of record to show: direct, indirect, cycle,\n"
           "                      possible, reachable, all (default direct,cycle)\n"
           "  --include PAT       keep records whose allocation site's file, function or\n"
           "                      module matches the fnmatch PAT (repeatable)\n"
           "  --exclude PAT       drop records whose allocation site matches PAT\n"
           "  --suppressions FILE\n"
           "                      LeakSanitizer leak: lines and/or Valgrind { } blocks\n"
           "                      (repeatable; { heapsnap:LeakedRef } blocks for Python\n"
           "                      objects with leaked references); matched and stale\n"
           "                      ones are listed\n"
           "  --gen-suppressions[=lsan|valgrind]\n"
           "                      print a suppression after each record (and a\n"
           "                      heapsnap:LeakedRef block after each group of Python\n"
           "                      objects with leaked references)\n"
           "  --refs              print each record's refcount range\n"
           "  --all-frames        stacks keep the allocator's frames before the program's\n"
           "                      (operator new, strdup, std::vector's templates...),\n"
           "                      marked [wrapper]; by default a stack starts at the\n"
           "                      program's first frame\n"
           "  -n N                the N sites of most bytes (default 10; 0 = every site\n"
           "                      and every record); JSON: every record unless -n is given\n"
           "  --format text|json  JSON is described in docs/json.md\n"
           "  --why SITE          who keeps SITE's memory alive (file.c:12 or a function)\n"
           CONFIG_HELP
           "Filters and suppressions remove records from the summary too; suppressed\n"
           "bytes are counted on the 'suppressed' line.\n");
}

static int leaks_opt(int c, const char *arg, struct leaks_opts *o, char *err, size_t errlen)
{
    uint64_t cnt;
    switch (c) {
    case 'k': return lossrec_parse_kinds(arg, &o->lr.kinds, err, errlen) < 0 ? -1 : 1;
    case 'r': o->pr.refs = 1; return 1;
    case 'a': o->pr.all_frames = 1; return 1;
    case 'w': o->why = arg; return 1;
    case 'n':
        if (cli_parse_count(arg, INT32_MAX, &cnt) < 0)
            return cli_bad_value(err, errlen, "-n", arg, "a count from 0 to 2147483647");
        o->lr.limit = (long)cnt;
        o->limit_given = 1;
        return 1;
    case 'o': /* largest first is the order: kept for the scripts that ask */
        if (strcmp(arg, "size") != 0)
            return cli_bad_value(err, errlen, "--sort", arg, "size");
        return 1;
    case 'f':
        return cli_parse_format(arg, &o->json, err, errlen) < 0 ? -1 : 1;
    case 'g':
        if (arg && strcmp(arg, "lsan") && strcmp(arg, "valgrind"))
            return cli_bad_value(err, errlen, "--gen-suppressions", arg, "lsan, valgrind");
        o->pr.gen = arg && !strcmp(arg, "valgrind") ? 2 : 1;
        return 1;
    case 's':
        if (o->nsupp == LEAKS_MAX_SUPP_FILES)
            return snprintf(err, errlen, "too many --suppressions files"), -1;
        o->supp[o->nsupp++] = arg;
        return 1;
    case 'i':
    case 'x':
        return frames_filter_add(&o->lr.filter, c == 'x', arg, err, errlen) < 0 ? -1 : 1;
    }
    return config_opt(c, arg, err, errlen);
}

/* Returns -1 to go on (operands at optind), else an exit code. */
static int leaks_getopt(int argc, char **argv, struct leaks_opts *o, char *err, size_t errlen)
{
    char why[512];
    int c;
    memset(o, 0, sizeof(*o));
    o->lr.kinds = LOSSREC_KINDS_DEFAULT;
    o->lr.by_site = 1;
    optind = 1;
    opterr = 0;
    while ((c = getopt_long(argc, argv, leaks_shortopts, leaks_longopts, NULL)) != -1) {
        if (c == 'h') {
            leaks_usage();
            return 0;
        }
        int r = leaks_opt(c, optarg, o, why, sizeof(why));
        if (r < 0) {
            snprintf(err, errlen, "leaks: %s", why);
            return 2;
        }
        if (r == 0)
            return cli_bad_option("leaks", c, argv, leaks_longopts, err, errlen);
    }
    if (optind >= argc) {
        snprintf(err, errlen, "leaks: no snapshot given (heapsnap leaks SNAP... [options])");
        return 2;
    }
    if (!o->limit_given && !o->json)
        o->lr.limit = LEAKS_SITES;
    return config_load("leaks", err, errlen) ? 2 : -1;
}

/* --- text ---------------------------------------------------------------- */

static void print_total(const char *name, const struct lossrec_total *t, FILE *out)
{
    fprintf(out, "   %s: %llu bytes in %llu blocks\n", name, (unsigned long long)t->bytes,
            (unsigned long long)t->blocks);
}

static void print_supps(const struct supp_set *ss, FILE *out)
{
    fprintf(out, "SUPPRESSIONS:\n");
    for (size_t i = 0; i < supp_count(ss); i++) {
        const struct supp_info *si = supp_get(ss, i);
        if (si->records && si->pyref)
            fprintf(out, "   matched: %s (%s:%d): %llu Python objects with leaked references, "
                    "%llu bytes\n", si->name, si->file, si->line,
                    (unsigned long long)si->blocks, (unsigned long long)si->bytes);
        else if (si->records)
            fprintf(out, "   matched: %s (%s:%d): %llu records, %llu bytes in %llu blocks\n",
                    si->name, si->file, si->line, (unsigned long long)si->records,
                    (unsigned long long)si->bytes, (unsigned long long)si->blocks);
        else
            fprintf(out, "   stale: %s (%s:%d)\n", si->name, si->file, si->line);
    }
}

static void leaks_summary(const struct leaks_opts *o, const struct lossrec_set *ls, FILE *out)
{
    static const enum lossrec_kind order[LOSSREC_NKINDS] = {LOSSREC_DIRECT, LOSSREC_INDIRECT, LOSSREC_CYCLE,
                                                  LOSSREC_POSSIBLE, LOSSREC_REACHABLE};
    struct lossrec_total supp;
    const struct lossrec_total *sum = lossrec_summary(ls, &supp);
    fprintf(out, "LEAK SUMMARY:\n");
    for (int k = 0; k < LOSSREC_NKINDS; k++)
        print_total(lossrec_kind_words[order[k]], &sum[order[k]], out);
    struct lossrec_total rt = lossrec_runtime(ls);
    if (rt.blocks) /* the C and C++ runtimes' own: never the program's */
        print_total("runtime", &rt, out);
    print_total("suppressed", &supp, out);
    if (o->lr.supp && supp_count(o->lr.supp))
        print_supps(o->lr.supp, out);
}

static void leaks_text(const struct leaks_opts *o, const struct lossrec_set *ls, FILE *out)
{
    if (lossrec_unstopped(ls))
        fprintf(out, "note: %u threads could not be stopped: their registers were not "
                "read, so no block is reported lost (the check is incomplete)\n\n",
                lossrec_unstopped(ls));
    if (lossrec_partial(ls))
        fprintf(out, "note: %llu blocks could not be read whole (a PROT_NONE page or an "
                "unmapped range in them): scanned partially; what they point to from "
                "there counts as unreferenced\n\n", (unsigned long long)lossrec_partial(ls));
    leaks_summary(o, ls, out);
    lossprint_sites(ls, o->lr.limit == 0, &o->pr, "-n 0 shows all", out);
}

/* --- JSON (docs/json.md) ------------------------------------------------- */

static void json_frame(struct json *j, const struct frame *f, int site, int wrapper)
{
    char addr[24];
    snprintf(addr, sizeof(addr), "0x%llx", (unsigned long long)f->ip);
    json_obj_begin(j);
    jdoc_frame_fields(j, f);
    json_kstr(j, "address", addr);
    json_kbool(j, "site", site);
    json_kbool(j, "wrapper", wrapper);
    json_obj_end(j);
}

static void json_cycle(struct json *j, const struct lossrec_record *r)
{
    json_key(j, "cycle");
    if (!r->ring_blocks) {
        json_null(j);
        return;
    }
    json_obj_begin(j);
    json_ku64(j, "blocks", r->ring_blocks);
    json_ku64(j, "cycles", r->ncycles);
    json_key(j, "sites");
    json_arr_begin(j);
    for (int i = 0; i < r->nring; i++)
        json_str(j, r->ring[i]);
    json_arr_end(j);
    json_ku64(j, "more", r->ring_blocks - (uint32_t)r->nring);
    json_obj_end(j);
}

static void json_record(struct json *j, const struct lossrec_record *r, int all_frames)
{
    json_obj_begin(j);
    json_ku64(j, "index", (uint64_t)r->index);
    json_kstr(j, "class", lossrec_kind_names[r->kind]);
    json_kbool(j, "owned_by_another_leak", r->owned);
    json_ku64(j, "blocks", r->blocks);
    json_ku64(j, "bytes", r->bytes);
    json_ku64(j, "indirect_blocks", r->indirect_blocks);
    json_ku64(j, "indirect_bytes", r->indirect_bytes);
    json_ku64(j, "total_bytes", r->bytes + r->indirect_bytes);
    json_ku64(j, "refcount_min", r->ref_min);
    json_ku64(j, "refcount_max", r->ref_max);
    json_kstr(j, "site", r->site_name);
    json_key(j, "frames");
    json_arr_begin(j);
    for (int i = all_frames ? 0 : r->first; i < r->nframes; i++)
        json_frame(j, r->frames[i], i == r->site, i < r->trace->nwrap);
    json_arr_end(j);
    json_cycle(j, r);
    json_obj_end(j);
}

static void json_total(struct json *j, const char *key, const struct lossrec_total *t)
{
    json_key(j, key);
    json_obj_begin(j);
    json_ku64(j, "bytes", t->bytes);
    json_ku64(j, "blocks", t->blocks);
    json_obj_end(j);
}

static void json_snaps(struct json *j, const struct snap *snaps, char **paths, int n)
{
    json_key(j, "snapshots");
    json_arr_begin(j);
    for (int i = 0; i < n; i++) {
        json_obj_begin(j);
        json_kstr(j, "path", paths[i]);
        json_ku64(j, "pid", snaps[i].meta.pid);
        json_kstr(j, "exe", snaps[i].exe);
        json_ku64(j, "unstopped_threads", snaps[i].lk.head.unstopped);
        json_obj_end(j);
    }
    json_arr_end(j);
}

static void leaks_json(const struct leaks_opts *o, const struct lossrec_set *ls,
                       const struct snap *snaps, char **paths, int nsnaps, FILE *out)
{
    static const char *const keys[LOSSREC_NKINDS] = {"direct", "indirect", "cycle",
                                                "possibly_lost", "still_reachable"};
    struct json j;
    size_t n;
    struct lossrec_record *const *v = lossrec_shown(ls, &n);
    struct lossrec_total supp;
    const struct lossrec_total *sum = lossrec_summary(ls, &supp);
    size_t nsites;
    lossrec_groups(ls, &nsites, &nsites);
    jdoc_begin(&j, out, "heapsnap-leaks", LEAKS_JSON_VERSION);
    json_snaps(&j, snaps, paths, nsnaps);
    json_ku64(&j, "records_total", lossrec_ranked(ls));
    json_ku64(&j, "sites_total", nsites);
    json_key(&j, "records");
    json_arr_begin(&j);
    for (size_t i = 0; i < n; i++)
        json_record(&j, v[i], o->pr.all_frames);
    json_arr_end(&j);
    json_key(&j, "summary");
    json_obj_begin(&j);
    for (int k = 0; k < LOSSREC_NKINDS; k++)
        json_total(&j, keys[k], &sum[k]);
    struct lossrec_total rt = lossrec_runtime(ls);
    json_total(&j, "runtime", &rt);
    json_total(&j, "suppressed", &supp);
    json_obj_end(&j);
    supp_json(&j, o->lr.supp);
    pyleakref_json(&j, snaps, nsnaps, o->lr.supp); /* out of memory: a snapshot's left out */
    jdoc_end(&j);
}

/* Whether any of snaps holds RETAINERS (a native leak check's), or a leak
 * check that ran without them (out of memory: retainers_print says so). */
static int leaks_any_retainers(const struct snap *snaps, int n)
{
    for (int i = 0; i < n; i++)
        if (snaps[i].has_retainers || snaps[i].lk.present)
            return 1;
    return 0;
}

/* Why --why SITE found nothing in snapshots that hold the Python graph
 * and no leak check (py: the objects pyholders_print found). */
static int leaks_why_none(const struct leaks_opts *o, int py, char *err, size_t errlen)
{
    if (py > 0)
        return 0;
    snprintf(err, errlen, "leaks: --why %s: no Python object allocated there (give file:LINE "
             "as shown, or a function; native blocks' holders need a leak check: --leaks)",
             o->why);
    return 2;
}

/* --why SITE --format json: a heapsnap-leaks-why document, the Python
 * holders' paths (pyholders_print) and the native retainers
 * (retainers_json); when the snapshots hold no retainers, "retainers" is
 * null, "retainers_error" says why, and the exit is 2 as in text unless
 * Python objects answered. */
static int leaks_why_json(const struct leaks_opts *o, const struct snap *snaps, char **paths,
                          int n, char *err, size_t errlen)
{
    struct json j;
    char why[1024];
    int rc = 0;
    jdoc_begin(&j, stdout, "heapsnap-leaks-why", 1);
    json_kstr(&j, "site", o->why);
    json_snaps(&j, snaps, paths, n);
    json_key(&j, "python_holders");
    int py = pyholders_print(snaps, n, o->why, NULL, &j);
    if (py < 0) {
        snprintf(err, errlen, "leaks: out of memory");
        return 2; /* the document is left cut short: the exit says so */
    }
    json_key(&j, "retainers");
    if (retainers_json(snaps, paths, n, o->why, &j, why, sizeof(why)) < 0) {
        json_null(&j);
        json_kstr(&j, "retainers_error", why);
        snprintf(err, errlen, "leaks: %s", why);
        rc = py > 0 ? 0 : 2;
    }
    json_key(&j, "blocks"); /* one by one: what each block's class rests on */
    int nb = bwhy_json(snaps, n, o->why, &j);
    if (nb < 0) {
        snprintf(err, errlen, "leaks: out of memory");
        return 2;
    }
    if (nb > 0) /* a site whose blocks all leaked has no retainers */
        rc = 0;
    jdoc_end(&j);
    return rc;
}

/* --why SITE in text: the Python objects' holders, then the native
 * retainers where a leak check ran. */
static int leaks_why_text(const struct leaks_opts *o, const struct snap *snaps, char **paths,
                          int n, char *err, size_t errlen)
{
    char why[1024];
    for (int i = 0; i < n; i++)
        if (pytypes_capped_note(&snaps[i], why, sizeof(why)))
            printf("note: %s: %s\n\n", paths[i], why);
    int py = pyholders_print(snaps, n, o->why, stdout, NULL);
    if (py < 0) {
        snprintf(err, errlen, "leaks: out of memory");
        return 2;
    }
    if (!leaks_any_retainers(snaps, n))
        return leaks_why_none(o, py, err, errlen);
    /* a site whose blocks all leaked has no retainers: the blocks answer */
    int rr = retainers_print(snaps, paths, n, o->why, 0, stdout, why, sizeof(why));
    if (bwhy_print(snaps, n, o->why, stdout) <= 0 && rr < 0 && py <= 0) {
        snprintf(err, errlen, "leaks: %s", why);
        return 2;
    }
    return 0;
}

/* --- the command --------------------------------------------------------- */

static int leaks_load_supps(struct leaks_opts *o, char *err, size_t errlen)
{
    char why[1024];
    if (!o->nsupp)
        return 0;
    if (!(o->lr.supp = supp_new())) {
        snprintf(err, errlen, "leaks: out of memory");
        return -1;
    }
    for (int i = 0; i < o->nsupp; i++)
        if (supp_load(o->lr.supp, o->supp[i], why, sizeof(why)) < 0) {
            snprintf(err, errlen, "%s", why);
            return -1;
        }
    return 0;
}

static int leaks_report(struct leaks_opts *o, struct snap *snaps, char **paths, int n,
                        char *err, size_t errlen)
{
    if (o->why) /* who holds it: no loss records needed */
        return o->json ? leaks_why_json(o, snaps, paths, n, err, errlen)
                       : leaks_why_text(o, snaps, paths, n, err, errlen);
    struct lossrec_set *ls = lossrec_new(&o->lr);
    int rc = 0;
    if (!ls) {
        snprintf(err, errlen, "leaks: out of memory");
        return 2;
    }
    for (int i = 0; rc == 0 && i < n; i++)
        if (lossrec_add_snap(ls, &snaps[i], paths[i], err, errlen) < 0)
            rc = 2;
    if (rc == 0 && lossrec_finish(ls) < 0) {
        snprintf(err, errlen, "leaks: out of memory");
        rc = 2;
    }
    if (rc == 0) /* the objects' matches, counted before any listing */
        pyleakref_charge(o->lr.supp, snaps, n);
    if (rc == 0 && o->json)
        leaks_json(o, ls, snaps, paths, n, stdout);
    else if (rc == 0) {
        for (int i = 0; i < n; i++) {
            char note[320];
            if (snap_attached_note(&snaps[i], note, sizeof(note)))
                printf("note: %s: %s, and their leaks are not seen (docs/leaks.md)\n\n",
                       paths[i], note);
            if (pytypes_capped_note(&snaps[i], note, sizeof(note)))
                printf("note: %s: %s\n\n", paths[i], note);
        }
        if (pygarbage_print(snaps, n, stdout) < 0 ||
            pyleakref_print(snaps, n, o->lr.supp, o->pr.gen, stdout) < 0) {
            snprintf(err, errlen, "leaks: out of memory");
            rc = 2;
        }
        leaks_text(o, ls, stdout);
    }
    lossrec_free(ls);
    return rc;
}

/* The sections no part of the report reads, left as they are stored
 * (snap_load_skip; their checksums are still checked): the sites' sums
 * (the report sums BLOCKS: lossrec_sums_only), the peak's capture, the
 * temporaries' counts, the timelines, the state file's, the failed
 * allocations and the collector's frees; the retainers' rows but for
 * --why.  STATS and PEAK each decode to 32 bytes a trace. */
static uint32_t leaks_skip(const struct leaks_opts *o)
{
    uint32_t skip = SNAP_SEC(STATS) | SNAP_SEC(PEAK) | SNAP_SKIP_LINES | SNAP_SKIP_EXTRAS;
    return o->why ? skip : skip | SNAP_SEC(RETAINERS);
}

int cmd_leaks(int argc, char **argv, char *err, size_t errlen)
{
    struct leaks_opts o;
    int rc = leaks_getopt(argc, argv, &o, err, errlen);
    if (rc >= 0)
        return rc;
    int n = argc - optind, loaded = 0;
    struct snap *snaps = calloc(n, sizeof(*snaps));
    rc = 0;
    if (!snaps) {
        snprintf(err, errlen, "leaks: out of memory");
        rc = 2;
    }
    if (rc == 0 && leaks_load_supps(&o, err, errlen) < 0)
        rc = 2;
    /* --why prints sites and what holds them: each stack is read as its
     * site alone, as top's default view reads it (statsopt_site_alone) */
    if (o.why)
        frames_site_only();
    /* Validate every file before symbolizing any (no warnings, then an error). */
    for (; rc == 0 && loaded < n; loaded++)
        if (snap_load_skip(argv[optind + loaded], &snaps[loaded], leaks_skip(&o), err,
                           errlen) < 0)
            rc = 2;
    for (int i = 0; rc == 0 && i < n; i++) /* --why: the Python graph needs no check */
        if (!(o.why && snaps[i].py.graph) &&
            lset_require(&snaps[i], argv[optind + i], err, errlen) < 0)
            rc = 2;
    if (rc == 0 && supp_add_snaps(&o.lr.supp, snaps, argv + optind, n, err, errlen) < 0)
        rc = 2;
    if (rc == 0)
        rc = leaks_report(&o, snaps, argv + optind, n, err, errlen);
    for (int i = 0; snaps && i < n; i++)
        snap_free(&snaps[i]);
    free(snaps);
    supp_free(o.lr.supp);
    return rc;
}
