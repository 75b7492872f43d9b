/*
 * gateout.c - the gate's human text and its JSON document, and the one-line
 * message every format uses for a finding (so text, JUnit, SARIF and GitHub
 * annotations say the same thing).
 *
 * JSON (documented in docs/ci.md, same conventions as docs/json.md: a
 * top-level "heapsnap" kind and version, sizes in bytes as integers):
 *   {"kind": "gate", "version": 1, "status": "pass"|"fail", "exitcode": N,
 *    "processes": [{"pid", "exe", "snapshot", "snapshots"}],
 *    "checks": [{"rule", "process", "status": "pass"|"fail"|"skip", "message"}],
 *    "findings": [{"rule", "process", "site", "bytes", "blocks", "delta",
 *                  "counted", "stack": [{"file", "line", "function"}]}]}
 * "process" is an index into "processes", or -1 for all of them.
 */
#include <stdio.h>
#include <string.h>

#include "gate.h"

void gate_message(const struct gate_report *g, const struct gate_finding *f, char *buf,
                  size_t n)
{
    char site[4200], pbuf[300];
    gate_site(g, f, site, sizeof(site));
    const char *proc = gate_proc_name(g, f->proc, pbuf, sizeof(pbuf));
    if (!strncmp(f->rule, "leak-", 5))
        snprintf(buf, n, "%lld bytes in %lld blocks leaked (%s) at %s in %s", (long long)f->bytes,
                 (long long)f->blocks, f->rule + 5, site, proc);
    else if (!strcmp(f->rule, "peak-growth"))
        snprintf(buf, n, "peak grew by %lld bytes to %lld bytes in %s", (long long)f->delta,
                 (long long)f->bytes, proc);
    else
        snprintf(buf, n, "live bytes at %s grew by %lld to %lld (%s) in %s", site,
                 (long long)f->delta, (long long)f->bytes,
                 strcmp(f->rule, "trend") ? "over the baseline" : "across the series", proc);
}

int gate_finding_of(const struct gate_check *c, const struct gate_finding *f)
{
    if (f->proc != c->proc)
        return 0;
    if (!strcmp(c->rule, "leaks"))
        return !strncmp(f->rule, "leak-", 5);
    return !strcmp(f->rule, c->rule);
}

static const char *check_status(const struct gate_check *c)
{
    return c->failed ? "FAIL" : c->skipped ? "SKIP" : "PASS";
}

int gate_write_text(FILE *out, const struct gate_report *g, const struct gate_rules *r)
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
                gate_proc_name(g, c->proc, proc, sizeof(proc)), c->msg);
        for (int k = 0; k < g->nfindings; k++) {
            const struct gate_finding *f = &g->findings[k];
            if (!gate_finding_of(c, f))
                continue;
            gate_message(g, f, msg, sizeof(msg));
            fprintf(out, "  %s%s\n", msg, f->suppressed ? " [suppressed]" : !f->over ?
                    " [within its site limit]" : "");
            for (int j = 0; f->e && j < f->e->nframes && f->e->nframes > 1; j++)
                fprintf(out, "    File \"%s\", line %d, in %s\n", f->e->frames[j].file,
                        f->e->frames[j].line, f->e->frames[j].func);
        }
    }
    (void)r;
    return ferror(out) ? -1 : 0;
}

static void json_stack(FILE *out, const struct stat_entry *e)
{
    fputs("[", out);
    for (int j = 0; e && j < e->nframes; j++) {
        fputs(j ? ", {\"file\": " : "{\"file\": ", out);
        emit_json_str(out, e->frames[j].file);
        fprintf(out, ", \"line\": %d, \"function\": ", e->frames[j].line);
        emit_json_str(out, e->frames[j].func);
        fputs("}", out);
    }
    fputs("]", out);
}

static void json_finding(FILE *out, const struct gate_report *g, const struct gate_finding *f)
{
    char site[4200];
    gate_site(g, f, site, sizeof(site));
    fprintf(out, "    {\"rule\": \"%s\", \"process\": %d, \"site\": ", f->rule, f->proc);
    emit_json_str(out, site);
    fprintf(out, ", \"bytes\": %lld, \"blocks\": %lld, \"delta\": %lld, \"counted\": %s, "
            "\"stack\": ", (long long)f->bytes, (long long)f->blocks, (long long)f->delta,
            f->over ? "true" : "false");
    json_stack(out, f->e);
    fputs("}", out);
}

int gate_write_json(FILE *out, const struct gate_report *g, const struct gate_rules *r)
{
    fprintf(out, "{\"kind\": \"gate\", \"version\": 1, \"status\": \"%s\", \"exitcode\": %d,\n"
            " \"processes\": [\n", g->failed ? "fail" : "pass", g->failed ? r->exitcode : 0);
    for (int i = 0; i < g->nprocs; i++) {
        const struct gate_proc *p = &g->procs[i];
        fprintf(out, "    {\"pid\": %u, \"exe\": ", p->last->meta.pid);
        emit_json_str(out, p->last->exe);
        fputs(", \"snapshot\": ", out);
        emit_json_str(out, p->path);
        fprintf(out, ", \"snapshots\": %d}%s\n", p->nseries, i + 1 < g->nprocs ? "," : "");
    }
    fputs(" ],\n \"checks\": [\n", out);
    for (int i = 0; i < g->nchecks; i++) {
        const struct gate_check *c = &g->checks[i];
        fprintf(out, "    {\"rule\": \"%s\", \"process\": %d, \"status\": \"%s\", \"message\": ",
                c->rule, c->proc, c->failed ? "fail" : c->skipped ? "skip" : "pass");
        emit_json_str(out, c->msg);
        fprintf(out, "}%s\n", i + 1 < g->nchecks ? "," : "");
    }
    fputs(" ],\n \"findings\": [\n", out);
    for (int i = 0; i < g->nfindings; i++) {
        json_finding(out, g, &g->findings[i]);
        fputs(i + 1 < g->nfindings ? ",\n" : "\n", out);
    }
    fputs(" ]}\n", out);
    return ferror(out) ? -1 : 0;
}
