/*
 * pyleakreport.h - the Python objects a snapshot found with leaked
 * references (PYRETAIN's HSNAP_PYRETAIN_LEAKREF), as `leaks` prints them.
 */
#ifndef REPORT_PYLEAKREF_H
#define REPORT_PYLEAKREF_H

#include <stdio.h>

#include "snap.h"

struct supp_set;

/* Counts each object with leaked references that a heapsnap:LeakedRef
 * suppression of ss matches against it (supp_charge: records are objects),
 * once per command, before the suppressions are listed.  NULL ss: none. */
void pyleakref_charge(struct supp_set *ss, const struct snap *snaps, int n);

/* One block per snapshot that has any: per (site, type, refcount, refs
 * found), the objects and their bytes, with the allocation's stack (the
 * extension's native frames) and, with gen (--gen-suppressions), a
 * heapsnap:LeakedRef block that matches them; the groups a suppression of
 * ss matched (NULL: none) one line each, after, naming it.  0, or -1 out
 * of memory. */
int pyleakref_print(const struct snap *snaps, int n, const struct supp_set *ss, int gen,
                    FILE *out);

/* "python_leaked_references": the same groups of every snapshot, each
 * {snapshot (index), type, objects, bytes, refcount, references_found,
 * site, suppression (its name, or null), stack (frames from the
 * allocation out)}.  0, or -1 out of memory. */
struct json;
int pyleakref_json(struct json *j, const struct snap *snaps, int n, const struct supp_set *ss);

#endif
