/*
 * pycheck.h - the gate's Python rule (--python-fail-on): cyclic garbage
 * and leaked references per site in each process's last snapshot.
 */
#ifndef REPORT_GATE_PYCHECK_H
#define REPORT_GATE_PYCHECK_H

#include <stddef.h>

#include "rules.h"
#include "verdict.h"

struct pycheck;

struct pycheck *pycheck_new(void);
void pycheck_free(struct pycheck *pc);
struct supp_set;
/* The "python" check of process proc: one finding per site and type
 * ("python-garbage", "python-leaked-ref"); an object with leaked
 * references that a heapsnap:LeakedRef suppression of ss (NULL: none)
 * matches is a suppressed finding, counted against it (supp_charge).  0,
 * -1 out of memory, -2 an error in err (no object graph in the snapshot). */
int pycheck_check(struct pycheck *pc, const struct gate_rules *r, struct verdict *g, int proc,
                  struct supp_set *ss, char *err, size_t errlen);

#endif
