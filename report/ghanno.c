/*
 * ghanno.c - the gate as GitHub workflow commands: one line per counted
 * finding, which the Actions runner turns into an annotation on the file and
 * line in the pull request:
 *     ::error file=src/cache.c,line=42,title=heapsnap leak-direct::64 bytes ...
 * The file is the finding's location relative to --source-root (so it must be
 * the repository root, where the workflow runs); a finding with no frame in
 * the source tree gets no file.  Suppressed findings, and those inside a
 * --site-limit budget, are not annotated.
 */
#include <stdio.h>

#include "gate.h"

int gate_write_github(FILE *out, const struct gate_report *g, const struct gate_rules *r)
{
    char uri[4200], msg[8600], title[64];
    for (int i = 0; i < g->nfindings; i++) {
        const struct gate_finding *f = &g->findings[i];
        if (!f->over || f->suppressed)
            continue;
        int k = f->e ? gate_location(r, f->e, uri, sizeof(uri)) : -1;
        fputs("::error ", out);
        if (k >= 0) {
            fputs("file=", out);
            emit_gh_prop(out, uri);
            if (f->e->frames[k].line > 0)
                fprintf(out, ",line=%d", f->e->frames[k].line);
            fputs(",", out);
        }
        snprintf(title, sizeof(title), "heapsnap %s", f->rule);
        fputs("title=", out);
        emit_gh_prop(out, title);
        fputs("::", out);
        gate_message(g, f, msg, sizeof(msg));
        emit_gh_data(out, msg);
        fputs("\n", out);
    }
    return ferror(out) ? -1 : 0;
}
