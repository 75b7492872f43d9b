/*
 * sarif.c - the gate as SARIF 2.1.0, for code scanning (GitHub, GitLab,
 * Azure DevOps).  One run, tool "heapsnap", one reporting rule per kind of
 * finding (a rule id per leak class, plus growth, peak-growth and trend).
 *
 * Each counted finding is a result:
 *   locations[0]     the first frame of its stack whose file lies under
 *                    --source-root (default the cwd), as a path relative to
 *                    the root with uriBaseId SRCROOT; the site frame's file as
 *                    it is when no frame is in the source tree
 *   relatedLocations every other frame of the stack, innermost first
 *   partialFingerprints["heapsnapStack/v1"]  FNV-1a 64 of the rule and each
 *                    frame's (file basename, line, function): symbolized
 *                    frames, never addresses, so it is the same across runs,
 *                    address-space randomisation and checkout directories
 * Suppressed findings are kept, with an external suppression, so that code
 * scanning shows them as dismissed instead of fixed.
 */
#include <limits.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "gate.h"

struct sarif_rule {
    const char *id, *name, *text;
};

static const struct sarif_rule sarif_rules[] = {
    {"leak-direct", "DirectLeak", "Memory leaked: a block no live or leaked block points to"},
    {"leak-indirect", "IndirectLeak", "Memory leaked: a block only other leaked blocks point to"},
    {"leak-cycle", "LeakedCycle", "Memory leaked in a reference cycle"},
    {"leak-possible", "PossibleLeak", "Memory reachable only through interior pointers"},
    {"growth", "HeapGrowth", "Live memory at a site grew more than allowed over the baseline"},
    {"peak-growth", "PeakGrowth", "The process peak grew more than allowed over the baseline"},
    {"trend", "GrowingSite", "Live memory at a site grew at every snapshot of a series"},
};

#define NRULES (sizeof(sarif_rules) / sizeof(sarif_rules[0]))

/* The absolute, normalised source root ("/x/y", no trailing slash). */
static void source_root(const struct gate_rules *r, char *buf, size_t n)
{
    char tmp[PATH_MAX];
    const char *root = r->source_root ? r->source_root : ".";
    if (!realpath(root, tmp))
        snprintf(tmp, sizeof(tmp), "%s", root);
    snprintf(buf, n, "%s", strcmp(tmp, "/") ? tmp : "");
}

/* A frame file relative to root, or NULL when it is not below it.  Frames
 * below the cwd are shown relative to the cwd (report/stats.c). */
static const char *under_root(const char *file, const char *root, char *buf, size_t n)
{
    char cwd[PATH_MAX];
    if (file[0] == '[' || !strcmp(file, "??") || file[0] == '<')
        return NULL;
    while (!strncmp(file, "./", 2))
        file += 2;
    if (file[0] != '/') {
        if (!getcwd(cwd, sizeof(cwd)))
            return NULL;
        snprintf(buf, n, "%s/%s", strcmp(cwd, "/") ? cwd : "", file);
    } else {
        snprintf(buf, n, "%s", file);
    }
    size_t rl = strlen(root);
    if (strncmp(buf, root, rl) != 0 || buf[rl] != '/')
        return NULL;
    return buf + rl + 1;
}

int gate_location(const struct gate_rules *r, const struct stat_entry *e, char *uri, size_t n)
{
    char root[PATH_MAX], buf[PATH_MAX + 4200];
    source_root(r, root, sizeof(root));
    for (int i = 0; i < e->nframes; i++) {
        const char *rel = under_root(e->frames[i].file, root, buf, sizeof(buf));
        if (rel) {
            snprintf(uri, n, "%s", rel);
            return i;
        }
    }
    snprintf(uri, n, "%s", e->frames[0].file);
    return -1;
}

static uint64_t fnv(uint64_t h, const char *s)
{
    for (; *s; s++)
        h = (h ^ (unsigned char)*s) * 0x100000001b3ull;
    return (h ^ 0xff) * 0x100000001b3ull; /* a separator */
}

static uint64_t fingerprint(const struct gate_finding *f)
{
    char line[24];
    uint64_t h = fnv(0xcbf29ce484222325ull, f->rule);
    for (int i = 0; f->e && i < f->e->nframes; i++) {
        const char *file = strrchr(f->e->frames[i].file, '/');
        snprintf(line, sizeof(line), "%d", f->e->frames[i].line);
        h = fnv(fnv(fnv(h, file ? file + 1 : f->e->frames[i].file), line), f->e->frames[i].func);
    }
    return h;
}

/* A URI reference: percent-encodes all but unreserved characters and '/'. */
static void uri_encode(FILE *out, const char *s)
{
    for (const unsigned char *p = (const unsigned char *)s; *p; p++) {
        if ((*p >= 'a' && *p <= 'z') || (*p >= 'A' && *p <= 'Z') || (*p >= '0' && *p <= '9') ||
            strchr("-._~/", *p))
            fputc(*p, out);
        else
            fprintf(out, "%%%02X", *p);
    }
}

static void sarif_phys(FILE *out, const char *uri, int base, int line)
{
    fputs("\"physicalLocation\": {\"artifactLocation\": {\"uri\": \"", out);
    if (!base && uri[0] == '/')
        fputs("file://", out);
    uri_encode(out, uri);
    fprintf(out, "\"%s}", base ? ", \"uriBaseId\": \"SRCROOT\"" : "");
    if (line > 0)
        fprintf(out, ", \"region\": {\"startLine\": %d}", line);
    fputs("}", out);
}

static void sarif_related(FILE *out, const struct gate_rules *r, const struct stat_entry *e,
                          int skip)
{
    char root[PATH_MAX], buf[PATH_MAX + 4200];
    int id = 0;
    source_root(r, root, sizeof(root));
    fputs(", \"relatedLocations\": [", out);
    for (int i = 0; i < e->nframes; i++) {
        if (i == skip || e->frames[i].file[0] == '[' || !strcmp(e->frames[i].file, "??"))
            continue;
        const char *rel = under_root(e->frames[i].file, root, buf, sizeof(buf));
        fprintf(out, "%s\n        {\"id\": %d, \"message\": {\"text\": ", id ? "," : "", id);
        emit_json_str(out, e->frames[i].func);
        fputs("}, ", out);
        sarif_phys(out, rel ? rel : e->frames[i].file, rel != NULL, e->frames[i].line);
        fputs("}", out);
        id++;
    }
    fputs("]", out);
}

static int rule_index(const char *id)
{
    for (size_t i = 0; i < NRULES; i++)
        if (!strcmp(sarif_rules[i].id, id))
            return (int)i;
    return 0;
}

static void sarif_result(FILE *out, const struct gate_report *g, const struct gate_rules *r,
                         const struct gate_finding *f, int first)
{
    char uri[4200], msg[8600];
    gate_message(g, f, msg, sizeof(msg));
    fprintf(out, "%s\n      {\"ruleId\": \"%s\", \"ruleIndex\": %d, \"level\": \"error\", "
            "\"message\": {\"text\": ", first ? "" : ",", f->rule, rule_index(f->rule));
    emit_json_str(out, msg);
    fputs("}", out);
    if (f->e) {
        int k = gate_location(r, f->e, uri, sizeof(uri));
        fputs(",\n       \"locations\": [{", out);
        sarif_phys(out, uri, k >= 0, f->e->frames[k >= 0 ? k : 0].line);
        fputs("}]", out);
        sarif_related(out, r, f->e, k >= 0 ? k : 0);
    }
    fprintf(out, ",\n       \"partialFingerprints\": {\"heapsnapStack/v1\": \"%016llx\"}",
            (unsigned long long)fingerprint(f));
    if (f->suppressed)
        fputs(", \"suppressions\": [{\"kind\": \"external\"}]", out);
    fputs("}", out);
}

int gate_write_sarif(FILE *out, const struct gate_report *g, const struct gate_rules *r)
{
    char root[PATH_MAX];
    int first = 1;
    source_root(r, root, sizeof(root));
    fputs("{\"$schema\": \"https://json.schemastore.org/sarif-2.1.0.json\", "
          "\"version\": \"2.1.0\",\n \"runs\": [{\n  \"tool\": {\"driver\": {\"name\": "
          "\"heapsnap\", \"version\": \"0.1.0\", \"rules\": [", out);
    for (size_t i = 0; i < NRULES; i++)
        fprintf(out, "%s\n    {\"id\": \"%s\", \"name\": \"%s\", \"shortDescription\": "
                "{\"text\": \"%s\"}, \"defaultConfiguration\": {\"level\": \"error\"}}",
                i ? "," : "", sarif_rules[i].id, sarif_rules[i].name, sarif_rules[i].text);
    fputs("]}},\n  \"originalUriBaseIds\": {\"SRCROOT\": {\"uri\": \"file://", out);
    uri_encode(out, root);
    fputs("/\"}},\n  \"results\": [", out);
    for (int i = 0; i < g->nfindings; i++)
        if (g->findings[i].over || g->findings[i].suppressed) {
            sarif_result(out, g, r, &g->findings[i], first);
            first = 0;
        }
    fputs("]\n }]\n}\n", out);
    return ferror(out) ? -1 : 0;
}
