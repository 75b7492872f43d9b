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

/* The retained bytes of st's groups (made with o) over the snapshots of
 * snaps[0..n) that have PYRETAIN, into *out (malloc'd, *nout of them, in
 * no order; groups st lacks are made in it, empty).  0, or -1 out of
 * memory.  The HTML report's column beside the live size. */
struct pyretained_sum {
    const struct stat_entry *e;
    uint64_t retained;
};
int pyretained_groups(struct stats *st, const struct stats_opts *o, const struct snap *const *snaps,
                      int n, struct pyretained_sum **out, uint32_t *nout);

#endif
