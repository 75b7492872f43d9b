/*
 * verdict.c - the gate's verdict: checks and findings appended by the
 * evaluation (gate.c, gateleaks.c), and what every output format says of
 * them: a process's name, a finding's site and its one-line message, so
 * that text, JUnit, SARIF and GitHub annotations say the same thing.
 */
#include <stdio.h>
#include <string.h>

#include "cli.h"
#include "supp.h"
#include "escape.h"
#include "verdict.h"

struct gate_check *verdict_check_add(struct verdict *g, const char *rule, int proc)
{
    if (grow_array((void **)&g->checks, &g->capchecks, (size_t)g->nchecks + 1,
                   sizeof(*g->checks)) < 0)
        return NULL;
    struct gate_check *p = &g->checks[g->nchecks++];
    memset(p, 0, sizeof(*p));
    p->rule = rule;
    p->proc = proc;
    return p;
}

struct gate_finding *verdict_finding_add(struct verdict *g, const char *rule, int proc,
                                      const struct stat_entry *e)
{
    if (grow_array((void **)&g->findings, &g->capfindings, (size_t)g->nfindings + 1,
                   sizeof(*g->findings)) < 0)
        return NULL;
    struct gate_finding *p = &g->findings[g->nfindings++];
    memset(p, 0, sizeof(*p));
    p->supp = -1;
    p->rule = rule;
    p->proc = proc;
    p->e = e;
    return p;
}

const char *verdict_proc_name(const struct verdict *g, int proc, char *buf, size_t n)
{
    if (proc < 0)
        return "all processes";
    const struct snap *s = g->procs[proc].last;
    const char *base = strrchr(s->exe, '/');
    char name[256];
    esc_text(base ? base + 1 : s->exe, name, sizeof(name)); /* the snapshot's words */
    snprintf(buf, n, "%s[%u]", name, s->meta.pid);
    return buf;
}

void verdict_site(const struct verdict *g, const struct gate_finding *f, char *buf, size_t n)
{
    if (!f->e) {
        snprintf(buf, n, "(process peak)");
        return;
    }
    enum stats_key k = !strcmp(f->rule, "growth") || !strcmp(f->rule, "trend") ? g->key
                                                                              : KEY_LINENO;
    stats_key(k == KEY_TRACEBACK ? KEY_LINENO : k, f->e, buf, n);
}

void verdict_message(const struct verdict *g, const struct gate_finding *f, char *buf,
                  size_t n)
{
    char site[4200], pbuf[300];
    verdict_site(g, f, site, sizeof(site));
    const char *proc = verdict_proc_name(g, f->proc, pbuf, sizeof(pbuf));
    if (!strncmp(f->rule, "leak-", 5) && f->indirect)
        snprintf(buf, n, "%lld bytes in %lld blocks leaked (%s, %lld of them indirect) at %s "
                 "in %s", (long long)f->bytes, (long long)f->blocks, f->rule + 5,
                 (long long)f->indirect, site, proc);
    else if (!strncmp(f->rule, "leak-", 5))
        snprintf(buf, n, "%lld bytes in %lld blocks leaked (%s) at %s in %s", (long long)f->bytes,
                 (long long)f->blocks, f->rule + 5, site, proc);
    else if (!strcmp(f->rule, "python-garbage"))
        snprintf(buf, n, "%lld Python objects (%s, %lld bytes) are garbage only the collector "
                 "frees at %s in %s", (long long)f->blocks, f->e->type, (long long)f->bytes,
                 site, proc);
    else if (!strcmp(f->rule, "python-leaked-ref"))
        snprintf(buf, n, "%lld Python objects (%s, %lld bytes) have leaked references at %s "
                 "in %s", (long long)f->blocks, f->e->type, (long long)f->bytes, site, proc);
    else if (!strcmp(f->rule, "peak-growth"))
        snprintf(buf, n, "peak grew by %lld bytes to %lld bytes in %s", (long long)f->delta,
                 (long long)f->bytes, proc);
    else
        snprintf(buf, n, "live bytes at %s grew by %lld to %lld (%s) in %s", site,
                 (long long)f->delta, (long long)f->bytes,
                 strcmp(f->rule, "trend") ? "over the baseline" : "across the series", proc);
}

int verdict_finding_of(const struct gate_check *c, const struct gate_finding *f)
{
    if (f->proc != c->proc)
        return 0;
    if (!strcmp(c->rule, "leaks"))
        return !strncmp(f->rule, "leak-", 5);
    if (!strcmp(c->rule, "python"))
        return !strncmp(f->rule, "python-", 7);
    return !strcmp(f->rule, c->rule);
}

size_t verdict_nsupp(const struct verdict *g, size_t *nstale)
{
    size_t n = g->supp ? supp_count(g->supp) : 0;
    *nstale = 0;
    for (size_t i = 0; i < n; i++)
        *nstale += supp_get(g->supp, i)->records == 0;
    return n;
}

void verdict_supp_line(const struct verdict *g, size_t i, char *buf, size_t n)
{
    const struct supp_info *si = supp_get(g->supp, i);
    if (si->records && si->pyref)
        snprintf(buf, n, "matched: %s (%s:%d): %llu Python objects with leaked references, "
                 "%llu bytes", si->name, si->file, si->line, (unsigned long long)si->blocks,
                 (unsigned long long)si->bytes);
    else if (si->records)
        snprintf(buf, n, "matched: %s (%s:%d): %llu records, %llu bytes in %llu blocks",
                 si->name, si->file, si->line, (unsigned long long)si->records,
                 (unsigned long long)si->bytes, (unsigned long long)si->blocks);
    else
        snprintf(buf, n, "stale: %s (%s:%d): matched no leak", si->name, si->file, si->line);
}
