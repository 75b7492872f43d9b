/*
 * junit.c - the gate as JUnit XML, the format every CI system shows as test
 * results: one <testcase> per check (one per rule and per process), with a
 * <failure> whose body lists the check's findings, or <skipped/>.  The
 * counts on <testsuites> and <testsuite> are the testcases, failures and
 * skips (errors are always 0: trouble is exit 2, not a report).  Matched
 * and stale suppressions are listed in the suite's <system-out>.
 */
#include <stdio.h>

#include "formats.h"

static void junit_case(FILE *out, const struct verdict *g, const struct gate_check *c)
{
    char proc[300], msg[8600];
    fprintf(out, "    <testcase classname=\"heapsnap.%s\" name=\"", c->rule);
    emit_xml_str(out, verdict_proc_name(g, c->proc, proc, sizeof(proc)));
    fputs("\">\n", out);
    if (c->skipped) {
        fputs("      <skipped message=\"", out);
        emit_xml_str(out, c->msg);
        fputs("\"/>\n", out);
    } else if (c->failed) {
        fputs("      <failure type=\"", out);
        emit_xml_str(out, c->rule);
        fputs("\" message=\"", out);
        emit_xml_str(out, c->msg);
        fputs("\">", out);
        for (int k = 0; k < g->nfindings; k++) {
            if (!verdict_finding_of(c, &g->findings[k]) || !g->findings[k].over)
                continue;
            verdict_message(g, &g->findings[k], msg, sizeof(msg));
            emit_xml_str(out, msg);
            fputs("\n", out);
        }
        fputs("</failure>\n", out);
    }
    fputs("    </testcase>\n", out);
}

/* Which suppressions matched and which are stale, as the suite's output
 * (they are not tests: a stale suppression does not fail the gate). */
static void junit_supps(FILE *out, const struct verdict *g)
{
    char line[8600];
    size_t nstale, n = verdict_nsupp(g, &nstale);
    if (!n)
        return;
    fprintf(out, "    <system-out>suppressions: %zu matched, %zu stale\n", n - nstale, nstale);
    for (size_t i = 0; i < n; i++) {
        verdict_supp_line(g, i, line, sizeof(line));
        emit_xml_str(out, line);
        fputs("\n", out);
    }
    fputs("</system-out>\n", out);
}

int junit_write(FILE *out, const struct verdict *g, const struct gate_rules *r)
{
    int nfail = 0, nskip = 0;
    for (int i = 0; i < g->nchecks; i++) {
        nfail += g->checks[i].failed;
        nskip += g->checks[i].skipped;
    }
    (void)r;
    fputs("<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n", out);
    fprintf(out, "<testsuites name=\"heapsnap gate\" tests=\"%d\" failures=\"%d\" "
            "errors=\"0\" skipped=\"%d\">\n", g->nchecks, nfail, nskip);
    fprintf(out, "  <testsuite name=\"heapsnap gate\" tests=\"%d\" failures=\"%d\" "
            "errors=\"0\" skipped=\"%d\">\n", g->nchecks, nfail, nskip);
    for (int i = 0; i < g->nchecks; i++)
        junit_case(out, g, &g->checks[i]);
    junit_supps(out, g);
    fputs("  </testsuite>\n</testsuites>\n", out);
    return ferror(out) ? -1 : 0;
}
