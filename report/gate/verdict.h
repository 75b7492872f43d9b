/*
 * verdict.h - what the gate found (report/gate/verdict.c): the CHECKS it
 * evaluated (one per rule and per process: a JUnit testcase each) and the
 * FINDINGS it recorded (one per offending call site: a SARIF result, a
 * GitHub annotation each).  A check fails when its findings break its
 * limit.  The evaluation fills a verdict; the output formats only read it.
 */
#ifndef REPORT_GATE_VERDICT_H
#define REPORT_GATE_VERDICT_H

#include <stddef.h>
#include <stdint.h>

#include "snap.h"
#include "stats.h"

struct supp_set;

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
    int64_t indirect;           /* leaks: of bytes, those owned indirectly */
    int supp;                   /* the suppression that matched it (not counted:
                                   supp_get(g->supp, supp)), or -1 */
    int over;                   /* it is what broke its check */
    int owned;                  /* leaks: counted in the total of the direct
                                   or cycle record that owns its blocks */
};

struct gate_check {
    const char *rule;           /* "leaks", "growth", "peak-growth", "trend", "site-limit" */
    int proc;                   /* or -1 */
    int failed, skipped;
    char msg[512];
};

struct verdict {
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

/* Appends a check / a finding (supp -1, the rest zero); NULL when out of memory. */
struct gate_check *verdict_check_add(struct verdict *g, const char *rule, int proc);
struct gate_finding *verdict_finding_add(struct verdict *g, const char *rule, int proc,
                                      const struct stat_entry *e);
const char *verdict_proc_name(const struct verdict *g, int proc, char *buf, size_t n);
/* "file.c:12" or the function, for finding f. */
void verdict_site(const struct verdict *g, const struct gate_finding *f, char *buf, size_t n);

/* The one-line message for a finding, shared by every format. */
void verdict_message(const struct verdict *g, const struct gate_finding *f, char *buf,
                  size_t n);

/* 1 when finding f belongs to check c (its rule and process). */
int verdict_finding_of(const struct gate_check *c, const struct gate_finding *f);

/* "matched: NAME (FILE:LINE): N records, B bytes in K blocks" or
 * "stale: NAME (FILE:LINE): matched no leak" for suppression i. */
void verdict_supp_line(const struct verdict *g, size_t i, char *buf, size_t n);
/* Suppressions loaded (0 without --suppressions), and how many are stale. */
size_t verdict_nsupp(const struct verdict *g, size_t *nstale);

#endif
