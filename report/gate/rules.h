/*
 * rules.h - the gate's rules (report/gate/rules.c): one table of options
 * read from the command line and from the rules file.
 */
#ifndef REPORT_GATE_RULES_H
#define REPORT_GATE_RULES_H

#include <stdint.h>

#include "stats.h"

enum gate_fmt { GF_TEXT, GF_JSON, GF_JUNIT, GF_SARIF, GF_GITHUB };

struct gate_limit {
    int set;
    int pct;        /* value is a percentage of the old size */
    double value;   /* bytes, or percent */
};

#define GATE_PY_GARBAGE 0x1u /* cyclic garbage only the collector frees */
#define GATE_PY_LEAKREF 0x2u /* objects with leaked references */
#define GATE_MAX_SITES 32
#define GATE_MAX_SUPP 16
#define GATE_MAX_OUT 8
#define GATE_SITES 10 /* sites a check lists in text without -n: a screen's worth */

struct gate_rules {
    unsigned fail_on;           /* bit (1 << enum hsnap_class) per failing class */
    unsigned py_fail;           /* --python-fail-on: GATE_PY_* (pycheck_check) */
    int64_t max_bytes, max_blocks; /* leaked, per process; -1 = not set */
    int nsites;
    char *site_pat[GATE_MAX_SITES];  /* fnmatch over the site's file:line, file, function */
    int64_t site_max[GATE_MAX_SITES];
    char *baseline;
    struct gate_limit growth;   /* --max-growth */
    enum stats_key key;         /* --key for growth and trend */
    int peak;                   /* --metric peak: growth of the process peak */
    struct gate_limit trend;    /* --max-trend-growth */
    int nsupp;
    char *supp[GATE_MAX_SUPP];
    char *source_root;
    int exitcode;               /* status when a rule fails (default 1) */
    long limit;                 /* -n: sites each check lists in text (0 = all) */
    int nout;
    enum gate_fmt out_fmt[GATE_MAX_OUT];
    char *out_path[GATE_MAX_OUT]; /* NULL = stdout */
    char *rules_file;           /* the file the rules came from, or NULL */
};

void rules_init(struct gate_rules *r);
void rules_fini(struct gate_rules *r);
/* Parses the gate's command line into r (reading the rules file first: the
 * --rules FILE given, else ./.heapsnap.toml if present).  Returns -1 to go
 * on (snapshots start at optind), 0 after --help, 2 with err filled. */
int rules_getopt(int argc, char **argv, struct gate_rules *r, char *err, size_t errlen);
/* Parses a limit, "5%" or a byte count ("4096", "64K", "2M"). 0 or -1. */
int rules_limit(const char *s, struct gate_limit *l);
/* What a limit allows above old. */
int64_t rules_allowed(const struct gate_limit *l, int64_t old);
const char *rules_class_name(int cls);

#endif
