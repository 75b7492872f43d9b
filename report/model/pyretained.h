/*
 * pyretained.h - `top --retained`: the memory each group of live blocks
 * retains, by the dominator tree of the heap graph (PYRETAIN).
 */
#ifndef REPORT_PYRETAINED_H
#define REPORT_PYRETAINED_H

#include <stdio.h>

#include "snap.h"
#include "stats.h"

/* Groups the live blocks of snaps[0..n) as o says (its key, by type, -n,
 * JSON), each with the bytes its blocks retain, and prints them biggest
 * first into out.  0, or -1 with err filled ("PATH: --retained needs ...",
 * out of memory). */
int pyretained_print(const struct stats_opts *o, const struct snap *snaps, char **paths, int n,
                     FILE *out, char *err, size_t errlen);

#endif
