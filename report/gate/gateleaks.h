/*
 * gateleaks.h - the gate's leak check (report/gate/gateleaks.c).
 */
#ifndef REPORT_GATE_LEAKCHECK_H
#define REPORT_GATE_LEAKCHECK_H

#include <stddef.h>

#include "rules.h"
#include "verdict.h"

/* The leak check of each process's last snapshot, as loss
 * records (lossrec_new) with one suppression set shared by all
 * processes, so that matched counts add up and stale means stale everywhere. */
struct leakcheck;
struct snap;
/* Loads r's suppression files, then those the n snapshots carry (the
 * programs' __lsan_default_suppressions()).  NULL with "FILE:LINE: reason"
 * in err. */
struct leakcheck *leakcheck_new(const struct gate_rules *r, const struct snap *snaps,
                                char *const *paths, int n, char *err, size_t errlen);
void leakcheck_free(struct leakcheck *gl);
/* The "leaks" check of process proc: 0, -1 out of memory, -2 an error in err
 * (an explicit --fail-on on a snapshot without the model's classes). */
int leakcheck_check(struct leakcheck *gl, struct verdict *g, int proc, char *err,
                 size_t errlen);
/* The suppression set (NULL without --suppressions or a program's own,
 * or a Python process's built-in ones); the Python rule counts its
 * objects' matches against it too (pycheck_check). */
struct supp_set *leakcheck_supp(const struct leakcheck *gl);

#endif
