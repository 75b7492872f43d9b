/*
 * gate.h - the CI gate: its rules (report/rules.c), what it found
 * (report/gate.c, and the leak check in report/gateleaks.c) and the writers
 * of each output format (gateout.c: text and JSON, junit.c, sarif.c,
 * ghanno.c); JSON and SARIF are written with report/json.c, JUnit and GitHub
 * with the escapes of emit.c.
 *
 * The gate evaluates CHECKS (one per rule and per process: a JUnit testcase
 * each) and records FINDINGS (one per offending call site: a SARIF result, a
 * GitHub annotation each).  A check fails when its findings break its limit.
 */
#ifndef REPORT_GATE_H
#define REPORT_GATE_H

#include <stdint.h>
#include <stdio.h>

#include "snap.h"
#include "stats.h"

struct supp_set;

enum gate_fmt { GF_TEXT, GF_JSON, GF_JUNIT, GF_SARIF, GF_GITHUB };

struct gate_limit {
    int set;
    int pct;        /* value is a percentage of the old size */
    double value;   /* bytes, or percent */
};

#define GATE_MAX_SITES 32
#define GATE_MAX_SUPP 16
#define GATE_MAX_OUT 8

struct gate_rules {
    unsigned fail_on;           /* bit (1 << enum hsnap_class) per failing class */
    int fail_on_set;            /* given explicitly (a missing model is then an error) */
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
    int nout;
    enum gate_fmt out_fmt[GATE_MAX_OUT];
    char *out_path[GATE_MAX_OUT]; /* NULL = stdout */
    char *rules_file;           /* the file the rules came from, or NULL */
};

struct gate_proc {
    const char *path;           /* its last snapshot's file */
    const struct snap *last;    /* highest sequence number */
    const struct snap **series; /* all its snapshots (trend) */
    int nseries;
};

struct gate_finding {
    const char *rule;           /* "leak-direct", "growth", "trend", ... */
    int proc;                   /* index into procs, or -1 (all processes) */
    const struct stat_entry *e; /* the site (frames from the site outward) */
    int64_t bytes, blocks;      /* what the site holds (leaked, or live now) */
    int64_t delta;              /* growth: bytes more than the baseline / first */
    int supp;                   /* the suppression that matched it (not counted:
                                   supp_get(g->supp, supp)), or -1 */
    int over;                   /* it is what broke its check */
};

struct gate_check {
    const char *rule;           /* "leaks", "growth", "peak-growth", "trend", "site-limit" */
    int proc;                   /* or -1 */
    int failed, skipped;
    char msg[512];
};

struct gate_report {
    struct gate_proc *procs;
    int nprocs;
    struct gate_check *checks;
    int nchecks;
    size_t capchecks;           /* grow_array's capacity of checks */
    struct gate_finding *findings;
    int nfindings;
    size_t capfindings;         /* grow_array's capacity of findings */
    int failed;                 /* some check failed */
    enum stats_key key;         /* the key growth/trend findings use */
    const struct supp_set *supp; /* --suppressions, with what each matched; or NULL */
};

/* rules.c */
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

/* gate.c */
/* Appends a check / a finding (supp -1, the rest zero); NULL when out of memory. */
struct gate_check *gate_check_add(struct gate_report *g, const char *rule, int proc);
struct gate_finding *gate_finding_add(struct gate_report *g, const char *rule, int proc,
                                      const struct stat_entry *e);
const char *gate_proc_name(const struct gate_report *g, int proc, char *buf, size_t n);
/* "file.c:12" or the function, for finding f. */
void gate_site(const struct gate_report *g, const struct gate_finding *f, char *buf, size_t n);

/* gateleaks.c: the leak check of each process's last snapshot, as loss
 * records (report/lossrec.c) with one suppression set shared by all
 * processes, so that matched counts add up and stale means stale everywhere. */
struct gate_leaks;
/* Loads r's suppression files.  NULL with "FILE:LINE: reason" in err. */
struct gate_leaks *gleaks_new(const struct gate_rules *r, char *err, size_t errlen);
void gleaks_free(struct gate_leaks *gl);
/* The "leaks" check of process proc: 0, -1 out of memory, -2 an error in err
 * (an explicit --fail-on on a snapshot without the model's classes). */
int gleaks_check(struct gate_leaks *gl, struct gate_report *g, int proc, char *err,
                 size_t errlen);
/* The suppression set (NULL without --suppressions). */
const struct supp_set *gleaks_supp(const struct gate_leaks *gl);

/* gateout.c: the one-line message for a finding, shared by every format. */
void gate_message(const struct gate_report *g, const struct gate_finding *f, char *buf,
                  size_t n);

/* 1 when finding f belongs to check c (its rule and process). */
int gate_finding_of(const struct gate_check *c, const struct gate_finding *f);

/* sarif.c: where a finding points: the first frame of its stack whose file
 * lies under --source-root (default the cwd).  Fills uri with the path
 * relative to the root and returns the frame's index; -1 when no frame is
 * under the root (uri is then the site frame's file as it is). */
int gate_location(const struct gate_rules *r, const struct stat_entry *e, char *uri,
                  size_t n);

/* sarif.c: path relative to --source-root into buf, or NULL when file is not
 * below the root. */
const char *gate_relpath(const struct gate_rules *r, const char *file, char *buf, size_t n);

/* gateout.c: "matched: NAME (FILE:LINE): N records, B bytes in K blocks" or
 * "stale: NAME (FILE:LINE): matched no leak" for suppression i. */
void gate_supp_line(const struct gate_report *g, size_t i, char *buf, size_t n);
/* Suppressions loaded (0 without --suppressions), and how many are stale. */
size_t gate_nsupp(const struct gate_report *g, size_t *nstale);

/* emit.c: escapes for JUnit and GitHub (JSON and SARIF use report/json.c). */
void emit_xml_str(FILE *out, const char *s);
/* GitHub workflow commands: data escapes %, CR, LF; properties also : and , */
void emit_gh_data(FILE *out, const char *s);
void emit_gh_prop(FILE *out, const char *s);

/* The writers (0, or -1 on an output error). */
int gate_write_text(FILE *out, const struct gate_report *g, const struct gate_rules *r);
int gate_write_json(FILE *out, const struct gate_report *g, const struct gate_rules *r);
int gate_write_junit(FILE *out, const struct gate_report *g, const struct gate_rules *r);
int gate_write_sarif(FILE *out, const struct gate_report *g, const struct gate_rules *r);
int gate_write_github(FILE *out, const struct gate_report *g, const struct gate_rules *r);

#endif
