/*
 * out.c - the gate's human text and its JSON document, and the one-line
 * message every format uses for a finding (so text, JUnit, SARIF and GitHub
 * annotations say the same thing).
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

int out_text(FILE *out, const struct verdict *g, const struct gate_rules *r)
{
    char proc[300], msg[8600], where[300];
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
        for (int k = 0; k < g->nfindings; k++) {
            const struct gate_finding *f = &g->findings[k];
            if (!verdict_finding_of(c, f))
                continue;
            verdict_message(g, f, msg, sizeof(msg));
            fprintf(out, "  %s", msg);
            if (f->supp >= 0)
                fprintf(out, " [suppressed by %s]", supp_matched(g->supp, f->supp)->name);
            fputs(f->supp >= 0 || f->over ? "\n"
                  : f->owned ? " [counted in the record that owns it]\n"
                             : " [within its site limit]\n", out);
            for (int j = 0; f->e && j < f->e->nframes && f->e->nframes > 1; j++)
                fprintf(out, "    File \"%s\", line %d, in %s\n",
                        frames_where(f->e->frames[j], where, sizeof(where)),
                        f->e->frames[j]->line, f->e->frames[j]->func);
        }
    }
    size_t nstale, nsupp = verdict_nsupp(g, &nstale);
    if (nsupp)
        fprintf(out, "SUPPRESSIONS: %zu matched, %zu stale\n", nsupp - nstale, nstale);
    for (size_t i = 0; i < nsupp; i++) {
        verdict_supp_line(g, i, msg, sizeof(msg));
        fprintf(out, "   %s\n", msg);
    }
    (void)r;
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
