/*
 * sarif.c - the gate as SARIF 2.1.0, for code scanning (GitHub, GitLab,
 * Azure DevOps).  One run, tool "heapsnap", one reporting rule per kind of
 * finding (a rule id per leak class, plus growth, peak-growth and trend).
 * Each counted finding is a result:
 *   locations[0]     the first frame of its stack whose file lies under
 *                    --source-root (default the cwd), relative to it with
 *                    uriBaseId SRCROOT; else the site frame's file as it is
 *   relatedLocations every other frame of the stack, innermost first
 *   partialFingerprints["heapsnapStack/v1"]  FNV-1a 64 of the rule and each
 *                    frame's (file basename, line, function): never
 *                    addresses, so stable across runs, ASLR and checkouts
 * Suppressed findings are kept, with an external suppression naming it
 * (shown as dismissed, not fixed).  Stale suppressions are warnings in
 * invocations[0].toolExecutionNotifications, on their line of the file.
 * Written with json.c.
 */
#include <limits.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "formats.h"
#include "json.h"
#include "supp.h"
#include "version.h"

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
 * below the cwd are shown relative to the cwd (fmt_path). */
static const char *under_root(const char *file, const char *root, char *buf, size_t n)
{
    char cwd[PATH_MAX];
    if (file[0] == '[' || !strcmp(file, "??") || file[0] == '<')
        return NULL;
    while (!strncmp(file, "./", 2))
        file += 2;
    if (!strncmp(file, "../", 3) || strstr(file, "/../")) /* not normalised: never trust it */
        return NULL;
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

const char *sarif_relpath(const struct gate_rules *r, const char *file, char *buf, size_t n)
{
    char root[PATH_MAX];
    source_root(r, root, sizeof(root));
    return under_root(file, root, buf, n);
}

int sarif_site_uri(const struct gate_rules *r, const struct stat_entry *e, char *uri, size_t n)
{
    char root[PATH_MAX], buf[PATH_MAX + 4200];
    source_root(r, root, sizeof(root));
    for (int i = 0; i < e->nframes; i++) {
        const char *rel = under_root(e->frames[i]->file, root, buf, sizeof(buf));
        if (rel) {
            snprintf(uri, n, "%s", rel);
            return i;
        }
    }
    snprintf(uri, n, "%s", e->frames[0]->file);
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
        const char *file = strrchr(f->e->frames[i]->file, '/');
        snprintf(line, sizeof(line), "%d", f->e->frames[i]->line);
        h = fnv(fnv(fnv(h, file ? file + 1 : f->e->frames[i]->file), line), f->e->frames[i]->func);
    }
    return h;
}

/* A URI reference into buf: prefix, then s with all but unreserved
 * characters and '/' percent-encoded. */
static const char *uri_encode(char *buf, size_t n, const char *prefix, const char *s)
{
    size_t k = (size_t)snprintf(buf, n, "%s", prefix);
    for (const unsigned char *p = (const unsigned char *)s; *p && k + 4 < n; p++) {
        if ((*p >= 'a' && *p <= 'z') || (*p >= 'A' && *p <= 'Z') || (*p >= '0' && *p <= '9') ||
            strchr("-._~/", *p))
            buf[k++] = (char)*p;
        else
            k += (size_t)snprintf(buf + k, n - k, "%%%02X", *p);
    }
    buf[k < n ? k : n - 1] = '\0';
    return buf;
}

/* {"physicalLocation": ...} for uri (relative to SRCROOT when base). */
static void sarif_location(struct json *j, const char *uri, int base, int line,
                           const char *text, int id)
{
    char enc[3 * 4200 + 16];
    json_obj_begin(j);
    if (id >= 0)
        json_ki64(j, "id", id);
    if (text) {
        json_key(j, "message");
        json_obj_begin(j);
        json_kstr(j, "text", text);
        json_obj_end(j);
    }
    json_key(j, "physicalLocation");
    json_obj_begin(j);
    json_key(j, "artifactLocation");
    json_obj_begin(j);
    json_kstr(j, "uri", uri_encode(enc, sizeof(enc), !base && uri[0] == '/' ? "file://" : "",
                                   uri));
    if (base)
        json_kstr(j, "uriBaseId", "SRCROOT");
    json_obj_end(j);
    if (line > 0) {
        json_key(j, "region");
        json_obj_begin(j);
        json_ki64(j, "startLine", line);
        json_obj_end(j);
    }
    json_obj_end(j);
    json_obj_end(j);
}

/* Every frame but skip (the result's location), innermost first. */
static void sarif_related(struct json *j, const struct gate_rules *r,
                          const struct stat_entry *e, int skip)
{
    char buf[PATH_MAX + 4200];
    int id = 0;
    json_key(j, "relatedLocations");
    json_arr_begin(j);
    for (int i = 0; i < e->nframes; i++) {
        if (i == skip || e->frames[i]->file[0] == '[' || !strcmp(e->frames[i]->file, "??"))
            continue;
        const char *rel = sarif_relpath(r, e->frames[i]->file, buf, sizeof(buf));
        sarif_location(j, rel ? rel : e->frames[i]->file, rel != NULL, e->frames[i]->line,
                       e->frames[i]->func, id++);
    }
    json_arr_end(j);
}

static int rule_index(const char *id)
{
    for (size_t i = 0; i < NRULES; i++)
        if (!strcmp(sarif_rules[i].id, id))
            return (int)i;
    return 0;
}

static void sarif_text(struct json *j, const char *key, const char *text)
{
    json_key(j, key);
    json_obj_begin(j);
    json_kstr(j, "text", text);
    json_obj_end(j);
}

/* A suppressed finding stays a result, dismissed by the suppression that
 * matched it (code scanning then shows it as suppressed, not as fixed). */
static void sarif_suppression(struct json *j, const struct verdict *g,
                              const struct gate_finding *f)
{
    char why[4400];
    const struct supp_info *si = supp_matched(g->supp, f->supp);
    snprintf(why, sizeof(why), "heapsnap suppression %s (%s:%d)", si->name, si->file, si->line);
    json_key(j, "suppressions");
    json_arr_begin(j);
    json_obj_begin(j);
    json_kstr(j, "kind", "external");
    json_kstr(j, "justification", why);
    json_obj_end(j);
    json_arr_end(j);
}

static void sarif_result(struct json *j, const struct verdict *g, const struct gate_rules *r,
                         const struct gate_finding *f)
{
    char uri[4200], msg[8600], fp[20];
    verdict_message(g, f, msg, sizeof(msg));
    json_obj_begin(j);
    json_kstr(j, "ruleId", f->rule);
    json_ki64(j, "ruleIndex", rule_index(f->rule));
    json_kstr(j, "level", "error");
    sarif_text(j, "message", msg);
    if (f->e) {
        int k = sarif_site_uri(r, f->e, uri, sizeof(uri));
        json_key(j, "locations");
        json_arr_begin(j);
        sarif_location(j, uri, k >= 0, f->e->frames[k >= 0 ? k : 0]->line, NULL, -1);
        json_arr_end(j);
        sarif_related(j, r, f->e, k >= 0 ? k : 0);
    }
    snprintf(fp, sizeof(fp), "%016llx", (unsigned long long)fingerprint(f));
    json_key(j, "partialFingerprints");
    json_obj_begin(j);
    json_kstr(j, "heapsnapStack/v1", fp);
    json_obj_end(j);
    if (f->supp >= 0)
        sarif_suppression(j, g, f);
    json_obj_end(j);
}

static void sarif_driver(struct json *j)
{
    json_key(j, "tool");
    json_obj_begin(j);
    json_key(j, "driver");
    json_obj_begin(j);
    json_kstr(j, "name", "heapsnap");
    json_kstr(j, "version", HEAPSNAP_VERSION);
    json_key(j, "rules");
    json_arr_begin(j);
    for (size_t i = 0; i < NRULES; i++) {
        json_obj_begin(j);
        json_kstr(j, "id", sarif_rules[i].id);
        json_kstr(j, "name", sarif_rules[i].name);
        sarif_text(j, "shortDescription", sarif_rules[i].text);
        json_key(j, "defaultConfiguration");
        json_obj_begin(j);
        json_kstr(j, "level", "error");
        json_obj_end(j);
        json_obj_end(j);
    }
    json_arr_end(j);
    json_obj_end(j);
    json_obj_end(j);
}

/* One invocation; each stale suppression is a warning notification on its
 * line of the suppression file. */
static void sarif_invocation(struct json *j, const struct verdict *g,
                             const struct gate_rules *r)
{
    char rel[PATH_MAX + 4200], line[8600];
    size_t nstale, n = verdict_nsupp(g, &nstale);
    json_key(j, "invocations");
    json_arr_begin(j);
    json_obj_begin(j);
    json_kbool(j, "executionSuccessful", 1);
    json_key(j, "toolExecutionNotifications");
    json_arr_begin(j);
    for (size_t i = 0; i < n; i++) {
        const struct supp_info *si = supp_get(g->supp, i);
        if (si->records)
            continue;
        const char *file = sarif_relpath(r, si->file, rel, sizeof(rel));
        verdict_supp_line(g, i, line, sizeof(line));
        json_obj_begin(j);
        json_kstr(j, "level", "warning");
        sarif_text(j, "message", line);
        json_key(j, "descriptor");
        json_obj_begin(j);
        json_kstr(j, "id", "stale-suppression");
        json_obj_end(j);
        if (!si->embedded) { /* the program's own have no file to point at */
            json_key(j, "locations");
            json_arr_begin(j);
            sarif_location(j, file ? file : si->file, file != NULL, si->line, NULL, -1);
            json_arr_end(j);
        }
        json_obj_end(j);
    }
    json_arr_end(j);
    json_obj_end(j);
    json_arr_end(j);
}

int sarif_write(FILE *out, const struct verdict *g, const struct gate_rules *r)
{
    char root[PATH_MAX], enc[3 * PATH_MAX + 16], slash[PATH_MAX + 2];
    struct json j;
    source_root(r, root, sizeof(root));
    snprintf(slash, sizeof(slash), "%s/", root);
    json_init(&j, out);
    json_obj_begin(&j);
    json_kstr(&j, "$schema", "https://json.schemastore.org/sarif-2.1.0.json");
    json_kstr(&j, "version", "2.1.0");
    json_key(&j, "runs");
    json_arr_begin(&j);
    json_obj_begin(&j);
    sarif_driver(&j);
    sarif_invocation(&j, g, r);
    json_key(&j, "originalUriBaseIds");
    json_obj_begin(&j);
    json_key(&j, "SRCROOT");
    json_obj_begin(&j);
    json_kstr(&j, "uri", uri_encode(enc, sizeof(enc), "file://", slash));
    json_obj_end(&j);
    json_obj_end(&j);
    json_key(&j, "results");
    json_arr_begin(&j);
    for (int i = 0; i < g->nfindings; i++)
        if (g->findings[i].over || g->findings[i].supp >= 0)
            sarif_result(&j, g, r, &g->findings[i]);
    json_arr_end(&j);
    json_obj_end(&j);
    json_arr_end(&j);
    json_obj_end(&j);
    json_finish(&j);
    return ferror(out) ? -1 : 0;
}
