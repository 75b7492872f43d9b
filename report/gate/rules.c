/*
 * rules.c - the gate's rules: one table of options that serves both the
 * command line (getopt_long) and the rules file, so a repository can keep
 * its policy in one place and the two never disagree.
 *
 * The rules file (--rules FILE, else ./.heapsnap.toml when it exists) is
 * TOML, read by toml++ (tomlread.cc; docs/ci.md says why a library): every
 * long option of `heapsnap gate` that takes a value is a key, at the root or
 * under [gate], with a string, a number, a boolean, or an array of them for
 * the repeatable ones.  An unknown key, another table or a bad value is an
 * error that names FILE:LINE, never silently ignored.  The command line is
 * applied after the file, so it wins.
 * A flag (no-default-alloc-fns, shorten-templates) takes true or false.
 * alloc-fn, no-default-alloc-fns and shorten-templates are read from the
 * same file by every other command too (config_load).
 */
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "cli.h"
#include "gate.h"
#include "input.h"
#include "rules.h"
#include "tomlread.h"

struct rule_opt {
    const char *name;
    int has_arg;
    int code;
    const char *help;
};

static const struct rule_opt rule_opts[] = {
    {"fail-on", 1, 'F', "leak classes that fail: direct,indirect,cycle,possible or none "
                        "(default direct,cycle)"},
    {"python-fail-on", 1, 'Y', "Python objects that fail, per site: garbage (cycles only the "
                               "collector frees), leaked-refs (refcount above every pointer), "
                               "or none (default)"},
    {"max-leaked-bytes", 1, 'B', "leaked bytes allowed per process (default 0)"},
    {"max-leaked-blocks", 1, 'K', "leaked blocks allowed per process (default 0)"},
    {"site-limit", 1, 'S', "PAT=BYTES: leaks at sites matching PAT (fnmatch over file:line, "
                           "file, function) are allowed up to BYTES per process"},
    {"suppressions", 1, 'U', "suppressions file (leak:PAT lines or Valgrind blocks; repeatable)"},
    {"baseline", 1, 'O', "baseline snapshot for the growth rules"},
    {"max-growth", 1, 'G', "N% or BYTES: how much each site may grow over the baseline"},
    {"key", 1, 'k', "site key for growth and trend: lineno, filename, function, module, "
                    "traceback (default lineno)"},
    {"metric", 1, 'M', "live (per-site live bytes, default) or peak (process peak)"},
    {"max-trend-growth", 1, 'T', "N% or BYTES: how much a site may grow across one "
                                 "process's snapshot series"},
    {"limit", 1, 'n', "N (or -n N): the sites of most bytes each check lists in text, a site's "
                      "findings one line and its largest (default 10; 0 = every finding)"},
    {"source-root", 1, 'R', "the user's source tree (SARIF/GitHub locations), default ."},
    {"exitcode", 1, 'E', "exit status when a rule fails (default 1)"},
    {"format", 1, 'f', "text, json, junit, sarif or github (repeatable, each with its -o)"},
    {"output", 1, 'o', "file for the preceding --format (default or \"-\": stdout)"},
    {"alloc-fn", 1, 'A', "PAT: functions matching PAT are allocation wrappers, their "
                         "callers the sites (repeatable)"},
    {"no-default-alloc-fns", 0, 'D', "g_malloc, CRYPTO_malloc, zmalloc, ngx_alloc, "
                                     "xmalloc... are sites like any function"},
    {"shorten-templates", 0, 'W', "C++ names without their template arguments "
                                  "(std::vector<>::push_back)"},
    {"rules", 1, 'r', "rules file (default ./.heapsnap.toml when it exists)"},
    {"help", 0, 'h', "this help"},
};

#define NOPTS (sizeof(rule_opts) / sizeof(rule_opts[0]))

static const char *const class_names[] = {"unknown", "reachable", "possible", "direct",
                                          "indirect", "cycle", "ignored", "runtime"};

const char *rules_class_name(int cls)
{
    return cls >= 0 && cls <= HSNAP_CLASS_RUNTIME ? class_names[cls] : "unknown";
}

void rules_init(struct gate_rules *r)
{
    memset(r, 0, sizeof(*r));
    r->fail_on = 1u << HSNAP_CLASS_DIRECT | 1u << HSNAP_CLASS_CYCLE;
    r->max_bytes = r->max_blocks = -1;
    r->exitcode = 1;
    r->limit = GATE_SITES;
}

void rules_fini(struct gate_rules *r)
{
    for (int i = 0; i < r->nsites; i++)
        free(r->site_pat[i]);
    for (int i = 0; i < r->nsupp; i++)
        free(r->supp[i]);
    for (int i = 0; i < r->nout; i++)
        free(r->out_path[i]);
    free(r->baseline);
    free(r->source_root);
    free(r->rules_file);
}

static void usage(void)
{
    printf("usage: heapsnap gate SNAP... [rules] [--format F [-o FILE]]...\n"
           "Applies leak and growth rules to the snapshots of one or many processes\n"
           "(the last snapshot of each pid for leaks; every snapshot of a pid for trend).\n"
           "Exit status: 0 pass, 1 (or --exitcode) a rule failed, 2 trouble.\n\n");
    for (size_t i = 0; i < NOPTS; i++)
        printf("  --%-18s %s\n", rule_opts[i].name, rule_opts[i].help);
}

int rules_limit(const char *s, struct gate_limit *l)
{
    double v;
    int pct;
    if (cli_parse_amount(s, 1, &v, &pct) < 0)
        return -1;
    l->set = 1;
    l->pct = pct;
    l->value = v;
    return 0;
}

int64_t rules_allowed(const struct gate_limit *l, int64_t old)
{
    if (!l->set)
        return INT64_MAX;
    double v = l->pct ? (double)old * l->value / 100.0 : l->value;
    return v >= 9.2e18 ? INT64_MAX : v <= 0 ? 0 : (int64_t)v; /* saturated, never UB */
}

/* A list of classes, or "none"; an empty list is an error, not "none". */
static int parse_fail_on(struct gate_rules *r, const char *arg)
{
    char buf[256];
    int n = 0;
    if (snprintf(buf, sizeof(buf), "%s", arg) >= (int)sizeof(buf))
        return -1;
    r->fail_on = 0;
    for (char *save, *t = strtok_r(buf, ", ", &save); t; t = strtok_r(NULL, ", ", &save)) {
        int c = -1;
        for (int i = HSNAP_CLASS_POSSIBLE; i <= HSNAP_CLASS_CYCLE; i++)
            if (!strcmp(t, class_names[i]))
                c = i;
        if (c < 0 && strcmp(t, "none") != 0)
            return -1;
        if (c >= 0)
            r->fail_on |= 1u << c;
        n++;
    }
    return n ? 0 : -1;
}

/* --python-fail-on: garbage, leaked-refs, or none. */
static int parse_py_fail_on(struct gate_rules *r, const char *arg)
{
    char buf[256];
    int n = 0;
    if (snprintf(buf, sizeof(buf), "%s", arg) >= (int)sizeof(buf))
        return -1;
    r->py_fail = 0;
    for (char *save, *t = strtok_r(buf, ", ", &save); t; t = strtok_r(NULL, ", ", &save), n++)
        if (!strcmp(t, "garbage"))
            r->py_fail |= GATE_PY_GARBAGE;
        else if (!strcmp(t, "leaked-refs"))
            r->py_fail |= GATE_PY_LEAKREF;
        else if (strcmp(t, "none"))
            return -1;
    return n ? 0 : -1;
}

static int parse_count(const char *arg, int64_t *v)
{
    double d;
    int pct;
    if (cli_parse_amount(arg, 0, &d, &pct) < 0)
        return -1;
    *v = (int64_t)d; /* at most CLI_MAX_BYTES */
    return 0;
}

static int parse_site(struct gate_rules *r, const char *arg)
{
    const char *eq = strrchr(arg, '=');
    if (!eq || eq == arg || r->nsites == GATE_MAX_SITES ||
        parse_count(eq + 1, &r->site_max[r->nsites]) < 0)
        return -1;
    r->site_pat[r->nsites++] = strndup(arg, (size_t)(eq - arg));
    return 0;
}

static int parse_format(struct gate_rules *r, const char *arg)
{
    static const char *names[] = {"text", "json", "junit", "sarif", "github"};
    for (int i = 0; i < 5; i++)
        if (!strcmp(arg, names[i]) && r->nout < GATE_MAX_OUT) {
            r->out_fmt[r->nout++] = (enum gate_fmt)i;
            return 0;
        }
    return -1;
}

static int set_str(char **dst, const char *arg)
{
    free(*dst);
    return (*dst = strdup(arg)) ? 0 : -1;
}

/* Applies one option; -1 when its value is bad. */
static int rules_apply(struct gate_rules *r, int code, const char *arg)
{
    static const char *keys[] = {"lineno", "filename", "function", "module", "traceback"};
    switch (code) {
    case 'F': return parse_fail_on(r, arg);
    case 'Y': return parse_py_fail_on(r, arg);
    case 'B': return parse_count(arg, &r->max_bytes);
    case 'K': return parse_count(arg, &r->max_blocks);
    case 'S': return parse_site(r, arg);
    case 'U':
        if (r->nsupp == GATE_MAX_SUPP)
            return -1;
        return set_str(&r->supp[r->nsupp++], arg);
    case 'O': return set_str(&r->baseline, arg);
    case 'G': return rules_limit(arg, &r->growth);
    case 'T': return rules_limit(arg, &r->trend);
    case 'R': return set_str(&r->source_root, arg);
    case 'f': return parse_format(r, arg);
    case 'o':
        if (r->nout == 0 || r->out_path[r->nout - 1])
            return -1; /* -o belongs to the --format before it */
        return set_str(&r->out_path[r->nout - 1], arg);
    case 'M':
        if (strcmp(arg, "live") && strcmp(arg, "peak"))
            return -1;
        r->peak = !strcmp(arg, "peak");
        return 0;
    case 'n': {
        uint64_t v;
        if (cli_parse_count(arg, INT32_MAX, &v) < 0)
            return -1;
        r->limit = (long)v;
        return 0;
    }
    case 'E': {
        uint64_t v;
        if (cli_parse_count(arg, 125, &v) < 0 || v < 1)
            return -1;
        r->exitcode = (int)v;
        return 0;
    }
    case 'A': {
        char why[160];
        return frames_alloc_fn_add(arg, why, sizeof(why));
    }
    case 'D':
        frames_no_default_alloc_fns();
        return 0;
    case 'W':
        frames_shorten_templates();
        return 0;
    case 'k':
        for (int i = 0; i < 5; i++)
            if (!strcmp(arg, keys[i])) {
                r->key = (enum stats_key)i;
                return 0;
            }
        return -1;
    }
    return -1;
}

/* The long name of the option whose code is c. */
static const char *rule_name(int c)
{
    for (size_t i = 0; i < NOPTS; i++)
        if (rule_opts[i].code == c)
            return rule_opts[i].name;
    return "?";
}

/* What an option accepts, for its error line. */
static const char *rule_accepts(int c)
{
    switch (c) {
    case 'B': case 'K': return CLI_AMOUNT_WANTS;
    case 'G': case 'T': return "N% or " CLI_AMOUNT_WANTS;
    case 'S': return "PAT=BYTES, BYTES " CLI_AMOUNT_WANTS;
    case 'E': return "an integer from 1 to 125";
    case 'n': return "a count from 0 to 2147483647";
    case 'F': return "a comma list of direct, indirect, cycle, possible, or none";
    case 'Y': return "a comma list of garbage, leaked-refs, or none";
    case 'f': return "text, json, junit, sarif, github";
    case 'k': return "lineno, filename, function, module, traceback";
    case 'M': return "live, peak";
    case 'o': return "a file, after a --format";
    case 'U': return "at most 16 suppression files";
    }
    return "a value";
}

/* --- the rules file ------------------------------------------------------ */

struct file_ctx {
    struct gate_rules *r;
    const char *path;
};

/* One key = value of the rules file (each element of an array). */
static int file_rule(void *ctx, const char *key, const char *value, int line, char *err,
                     size_t errlen)
{
    struct file_ctx *fc = ctx;
    const struct rule_opt *o = NULL;
    for (size_t i = 0; i < NOPTS; i++)
        if (!strcmp(key, rule_opts[i].name) && rule_opts[i].code != 'r' &&
            rule_opts[i].code != 'h')
            o = &rule_opts[i];
    if (!o) {
        snprintf(err, errlen, "%s:%d: %s: not a rule this gate knows (heapsnap gate --help, "
                 "docs/ci.md)", fc->path, line, key);
        return -1;
    }
    if (!o->has_arg && (!strcmp(value, "true") || !strcmp(value, "false"))) {
        /* a flag: true sets it, false leaves it unset */
        if (!strcmp(value, "false") || rules_apply(fc->r, o->code, NULL) == 0)
            return 0;
    } else if (o->has_arg && rules_apply(fc->r, o->code, value) == 0) {
        return 0;
    }
    char why[1024];
    cli_bad_value(why, sizeof(why), o->name, value,
                  o->has_arg ? rule_accepts(o->code) : "true or false");
    snprintf(err, errlen, "%s:%d: %s", fc->path, line, why);
    return -1;
}

static int rules_load(struct gate_rules *r, const char *path, char *err, size_t errlen)
{
    size_t len;
    char *text = in_read_text(path, IN_MAX_RULES, &len, err, errlen);
    struct file_ctx fc = {r, path};
    if (!text)
        return -1;
    int rc = tomlread_rules(path, text, len, file_rule, &fc, err, errlen);
    free(text);
    if (rc == 0)
        set_str(&r->rules_file, path);
    return rc;
}

/* --- the command line ---------------------------------------------------- */

static const char *find_rules_arg(int argc, char **argv)
{
    for (int i = 1; i < argc; i++) {
        if (!strcmp(argv[i], "--"))
            break;
        if (!strcmp(argv[i], "--rules") && i + 1 < argc)
            return argv[i + 1];
        if (!strncmp(argv[i], "--rules=", 8))
            return argv[i] + 8;
    }
    return access(".heapsnap.toml", R_OK) == 0 ? ".heapsnap.toml" : NULL;
}

int rules_getopt(int argc, char **argv, struct gate_rules *r, char *err, size_t errlen)
{
    struct option longopts[NOPTS + 1];
    const char *file = find_rules_arg(argc, argv);
    int c, idx;
    memset(longopts, 0, sizeof(longopts));
    for (size_t i = 0; i < NOPTS; i++)
        longopts[i] = (struct option){rule_opts[i].name, rule_opts[i].has_arg, NULL,
                                      rule_opts[i].code};
    if (file && strcmp(file, "none") != 0 && rules_load(r, file, err, errlen) < 0)
        return 2;
    optind = 1;
    opterr = 0;
    while ((c = getopt_long(argc, argv, ":o:k:f:n:h", longopts, &idx)) != -1) {
        if (c == 'h') {
            usage();
            return 0;
        }
        if (c == 'r')
            continue;
        if (c == '?' || c == ':')
            return cli_bad_option("gate", c, argv, longopts, err, errlen);
        if (rules_apply(r, c, optarg) < 0) {
            char opt[64];
            snprintf(opt, sizeof(opt), "%s%s", c == 'o' || c == 'n' ? "-" : "--",
                     c == 'o' ? "o" : c == 'n' ? "n" : rule_name(c));
            cli_bad_value(err, errlen, opt, optarg, rule_accepts(c));
            cli_prefix(err, errlen, "gate");
            return 2;
        }
    }
    if (r->nout == 0)
        r->out_fmt[r->nout++] = GF_TEXT;
    return -1;
}
