/*
 * pyleakref.h - the Python objects a snapshot found with leaked
 * references (PYRETAIN's HSNAP_PYRETAIN_LEAKREF), as `leaks` prints them.
 */
#ifndef REPORT_PYLEAKREF_H
#define REPORT_PYLEAKREF_H

#include <stdio.h>

#include "snap.h"

/* One block per snapshot that has any: per (site, type, refcount, refs
 * found), the objects and their bytes, with the allocation's stack (the
 * extension's native frames).  0, or -1 out of memory. */
int pyleakref_print(const struct snap *snaps, int n, FILE *out);

#endif
