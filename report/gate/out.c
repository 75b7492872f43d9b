/*
 * out.c - the gate's human text and its JSON document, and the one-line
 * message every format uses for a finding (so text, JUnit, SARIF and GitHub
 * annotations say the same thing).  Text lists each check's findings by
 * site, the site of most bytes first, -n of them (default GATE_SITES): a
 * program with 5,000 leaking sites printed 27,000 lines.  The other formats
 * list every finding: machines read them.
 *
 * JSON is written with json_* (the writer `leaks --format json`
 * uses) and documented in docs/json.md ("heapsnap gate --format json"):
 *   {"schema": "heapsnap-gate", "kind": "gate", "version": 2,
 *    "status": "pass"|"fail", "exitcode": N,
 *    "processes": [{"pid", "exe", "snapshot", "snapshots"}],
 *    "checks": [{"rule", "process", "status": "pass"|"fail"|"skip", "message"}],
 *    "findings": [{"rule", "process", "site", "bytes", "blocks", "delta",
 *                  "counted", "suppression", "stack": [{"file", "line", "function"}]}],
 *    "suppressions": [{"name", "syntax", "file", "line", "records", "bytes",
 *                      "blocks", "stale"}]}
 * "process" is an index into "processes", or -1 for all of them.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "formats.h"
#include "json.h"
#include "supp.h"

/* 2: findings carry "suppression", and "suppressions" lists them all. */
#define GATE_JSON_VERSION 2

static const char *check_status(const struct gate_check *c)
{
    return c->failed ? "FAIL" : c->skipped ? "SKIP" : "PASS";
}

/* One finding's lines: its message, its mark, its stack. */
static void text_finding(FILE *out, const struct verdict *g, const struct gate_finding *f)
{
    char msg[8600], where[300];
    verdict_message(g, f, msg, sizeof(msg));
    fprintf(out, "  %s", msg);
    if (f->supp >= 0)
        fprintf(out, " [suppressed by %s]", supp_matched(g->supp, f->supp)->name);
    fputs(f->supp >= 0 || f->over ? "\n"
          : f->owned ? " [counted in the record that owns it]\n"
                     : " [within its site limit]\n", out);
    for (int j = 0; f->e && j < f->e->nframes && f->e->nframes > 1; j++)
        fprintf(out, "    File \"%s\", line %d, in %s\n",
                frames_where(f->e->frames[j], where, sizeof(where)), f->e->frames[j]->line,
                f->e->frames[j]->func);
}

/* A check's findings of one site: they are at[first, first + n). */
struct site_group {
    char site[4200];
    int64_t bytes, blocks;
    size_t first, n;
};

static const struct verdict *sort_g; /* the verdict the comparisons read */

/* By site, then bytes, descending. */
static int cmp_by_site(const void *pa, const void *pb)
{
    const struct gate_finding *a = *(void *const *)pa, *b = *(void *const *)pb;
    char sa[4200], sb[4200];
    verdict_site(sort_g, a, sa, sizeof(sa));
    verdict_site(sort_g, b, sb, sizeof(sb));
    int c = strcmp(sa, sb);
    if (c)
        return c;
    return (a->bytes < b->bytes) - (a->bytes > b->bytes);
}

static int cmp_group(const void *pa, const void *pb)
{
    const struct site_group *a = pa, *b = pb;
    if (a->bytes != b->bytes)
        return a->bytes > b->bytes ? -1 : 1;
    return strcmp(a->site, b->site);
}

/* Check c's findings grouped by site, the site of most bytes first, the
 * r->limit largest listed (a site of several: one line and its largest
 * finding), then one line of what was left out.  -1 out of memory. */
static int text_findings(FILE *out, const struct verdict *g, const struct gate_check *c,
                         long limit)
{
    size_t n = 0, ng = 0, shown = 0, listed = 0;
    const struct gate_finding **at = malloc(((size_t)g->nfindings + 1) * sizeof(*at));
    struct site_group *gr = calloc((size_t)g->nfindings + 1, sizeof(*gr));
    if (!at || !gr) {
        free(at), free(gr);
        return -1;
    }
    for (int k = 0; k < g->nfindings; k++)
        if (verdict_finding_of(c, &g->findings[k]))
            at[n++] = &g->findings[k];
    sort_g = g;
    qsort(at, n, sizeof(*at), cmp_by_site);
    for (size_t i = 0; i < n; i++) {
        char site[4200];
        verdict_site(g, at[i], site, sizeof(site));
        if (!ng || strcmp(site, gr[ng - 1].site)) {
            snprintf(gr[ng].site, sizeof(gr[ng].site), "%s", site);
            gr[ng++].first = i;
        }
        gr[ng - 1].n++;
        gr[ng - 1].bytes += at[i]->bytes;
        gr[ng - 1].blocks += at[i]->blocks;
    }
    qsort(gr, ng, sizeof(*gr), cmp_group);
    size_t keep = limit > 0 && (size_t)limit < ng ? (size_t)limit : ng;
    for (size_t k = 0; k < keep; k++) {
        size_t all = limit == 0 ? gr[k].n : 1;
        if (gr[k].n > 1)
            fprintf(out, "  %zu findings, %lld bytes in %lld blocks at %s\n", gr[k].n,
                    (long long)gr[k].bytes, (long long)gr[k].blocks, gr[k].site);
        for (size_t i = gr[k].first; i < gr[k].first + all; i++)
            text_finding(out, g, at[i]);
        shown += all;
        listed++;
    }
    if (shown < n && listed < ng)
        fprintf(out, "  ... %zu more findings in %zu more sites: -n 0 shows all\n", n - shown,
                ng - listed);
    else if (shown < n)
        fprintf(out, "  ... %zu more findings at the sites above: -n 0 shows all\n", n - shown);
    free(at);
    free(gr);
    return 0;
}

int out_text(FILE *out, const struct verdict *g, const struct gate_rules *r)
{
    char proc[300], msg[8600];
    int nfail = 0;
    for (int i = 0; i < g->nchecks; i++)
        nfail += g->checks[i].failed;
    fprintf(out, "heapsnap gate: %s (%d of %d checks failed, %d process%s)\n",
            g->failed ? "FAIL" : "PASS", nfail, g->nchecks, g->nprocs,
            g->nprocs == 1 ? "" : "es");
    for (int i = 0; i < g->nchecks; i++) {
        const struct gate_check *c = &g->checks[i];
        fprintf(out, "%s %s %s: %s\n", check_status(c), c->rule,
                verdict_proc_name(g, c->proc, proc, sizeof(proc)), c->msg);
        if (text_findings(out, g, c, r->limit) < 0)
            return -1;
    }
    size_t nstale, nsupp = verdict_nsupp(g, &nstale);
    if (nsupp)
        fprintf(out, "SUPPRESSIONS: %zu matched, %zu stale\n", nsupp - nstale, nstale);
    for (size_t i = 0; i < nsupp; i++) {
        verdict_supp_line(g, i, msg, sizeof(msg));
        fprintf(out, "   %s\n", msg);
    }
    return ferror(out) ? -1 : 0;
}

static void json_stack(struct json *j, const struct stat_entry *e)
{
    json_key(j, "stack");
    json_arr_begin(j);
    for (int i = 0; e && i < e->nframes; i++) {
        json_obj_begin(j);
        json_kstr(j, "file", e->frames[i]->file);
        json_ki64(j, "line", e->frames[i]->line);
        json_kstr(j, "function", e->frames[i]->func);
        json_obj_end(j);
    }
    json_arr_end(j);
}

static void json_finding(struct json *j, const struct verdict *g,
                         const struct gate_finding *f)
{
    char site[4200];
    verdict_site(g, f, site, sizeof(site));
    json_obj_begin(j);
    json_kstr(j, "rule", f->rule);
    json_ki64(j, "process", f->proc);
    json_kstr(j, "site", site);
    json_ki64(j, "bytes", f->bytes);
    json_ki64(j, "blocks", f->blocks);
    json_ki64(j, "delta", f->delta);
    json_ki64(j, "indirect", f->indirect);
    json_kbool(j, "counted", f->over);
    json_kstr(j, "suppression", f->supp >= 0 ? supp_matched(g->supp, f->supp)->name : NULL);
    json_stack(j, f->e);
    json_obj_end(j);
}

static void json_procs(struct json *j, const struct verdict *g)
{
    json_key(j, "processes");
    json_arr_begin(j);
    for (int i = 0; i < g->nprocs; i++) {
        const struct gate_proc *p = &g->procs[i];
        json_obj_begin(j);
        json_ku64(j, "pid", p->last->meta.pid);
        json_kstr(j, "exe", p->last->exe);
        json_kstr(j, "snapshot", p->path);
        json_ki64(j, "snapshots", p->nseries);
        json_obj_end(j);
    }
    json_arr_end(j);
}

static void json_checks(struct json *j, const struct verdict *g)
{
    json_key(j, "checks");
    json_arr_begin(j);
    for (int i = 0; i < g->nchecks; i++) {
        const struct gate_check *c = &g->checks[i];
        json_obj_begin(j);
        json_kstr(j, "rule", c->rule);
        json_ki64(j, "process", c->proc);
        json_kstr(j, "status", c->failed ? "fail" : c->skipped ? "skip" : "pass");
        json_kstr(j, "message", c->msg);
        json_obj_end(j);
    }
    json_arr_end(j);
}

int out_json(FILE *out, const struct verdict *g, const struct gate_rules *r)
{
    struct json j;
    json_init(&j, out);
    json_obj_begin(&j);
    json_kstr(&j, "schema", "heapsnap-gate");
    json_kstr(&j, "kind", "gate");
    json_ku64(&j, "version", GATE_JSON_VERSION);
    json_kstr(&j, "status", g->failed ? "fail" : "pass");
    json_ki64(&j, "exitcode", g->failed ? r->exitcode : 0);
    json_procs(&j, g);
    json_checks(&j, g);
    json_key(&j, "findings");
    json_arr_begin(&j);
    for (int i = 0; i < g->nfindings; i++)
        json_finding(&j, g, &g->findings[i]);
    json_arr_end(&j);
    supp_json(&j, g->supp);
    json_obj_end(&j);
    json_finish(&j);
    return ferror(out) ? -1 : 0;
}
