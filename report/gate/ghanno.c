/*
 * ghanno.c - the gate as GitHub workflow commands: one line per counted
 * finding, which the Actions runner turns into an annotation on the file and
 * line in the pull request:
 *     ::error file=src/cache.c,line=42,title=heapsnap leak-direct::64 bytes ...
 * The file is the finding's location relative to --source-root (so it must be
 * the repository root, where the workflow runs); a finding with no frame in
 * the source tree gets no file.  Suppressed findings, and those inside a
 * --site-limit budget, are not annotated.  A stale suppression (it matched
 * no leak in any process) is a warning on its line of the suppression file:
 *     ::warning file=.heapsnap-supp,line=3,title=heapsnap stale suppression::...
 */
#include <stdio.h>

#include "formats.h"
#include "supp.h"

/* ::warning file=SUPP,line=N,title=heapsnap stale suppression::... for each
 * suppression that matched no leak. */
static void github_stale(FILE *out, const struct verdict *g, const struct gate_rules *r)
{
    char rel[4200], line[8600];
    size_t nstale, n = verdict_nsupp(g, &nstale);
    for (size_t i = 0; i < n; i++) {
        const struct supp_info *si = supp_get(g->supp, i);
        if (si->records)
            continue;
        const char *file = sarif_relpath(r, si->file, rel, sizeof(rel));
        if (si->embedded) { /* the program's own: no file to point at */
            fputs("::warning title=heapsnap stale suppression::", out);
        } else {
            fputs("::warning file=", out);
            emit_gh_prop(out, file ? file : si->file);
            fprintf(out, ",line=%d,title=heapsnap stale suppression::", si->line);
        }
        verdict_supp_line(g, i, line, sizeof(line));
        emit_gh_data(out, line);
        fputs("\n", out);
    }
}

int ghanno_write(FILE *out, const struct verdict *g, const struct gate_rules *r)
{
    char uri[4200], msg[8600], title[64];
    for (int i = 0; i < g->nfindings; i++) {
        const struct gate_finding *f = &g->findings[i];
        if (!f->over || f->supp >= 0)
            continue;
        int k = f->e ? sarif_site_uri(r, f->e, uri, sizeof(uri)) : -1;
        fputs("::error ", out);
        if (k >= 0) {
            fputs("file=", out);
            emit_gh_prop(out, uri);
            if (f->e->frames[k]->line > 0)
                fprintf(out, ",line=%d", f->e->frames[k]->line);
            fputs(",", out);
        }
        snprintf(title, sizeof(title), "heapsnap %s", f->rule);
        fputs("title=", out);
        emit_gh_prop(out, title);
        fputs("::", out);
        verdict_message(g, f, msg, sizeof(msg));
        emit_gh_data(out, msg);
        fputs("\n", out);
    }
    github_stale(out, g, r);
    return ferror(out) ? -1 : 0;
}
