/*
 * pycollected.h - top --collected: per allocation site, the Python objects
 * CPython's cycle collector freed over the run (PYGCFREED), as the stats'
 * groups (count = objects, size = their bytes), and the run's totals
 * beside the interpreter's own (gc.get_stats()' collected).
 */
#ifndef REPORT_PYGCFREED_H
#define REPORT_PYGCFREED_H

#include <stdio.h>

struct snap;
struct stats;
struct json;

/* The n snapshots' sums: objects and bytes at traced sites, objects at
 * none, and the interpreter's collected (UINT64_MAX when any snapshot
 * did not say). */
struct gcfreed_totals {
    uint64_t objects, bytes, dropped, collected;
};
void gcfreed_totals(const struct snap *snaps, int n, struct gcfreed_totals *t);

/* s's items into st's groups; 0, or -1 (out of memory). */
int gcfreed_add(struct stats *st, const struct snap *s);

/* top's closing line (and info's, after head): the totals (text), or the
 * document's "collector" object (JSON). */
void gcfreed_print_total(const struct snap *snaps, int n, const char *head, FILE *out);
void gcfreed_json(struct json *j, const struct snap *snaps, int n);

/* The HTML report's "top_collected": the latest snapshots' (prof's inputs
 * with want[i]) sites by objects collected, rows of {site, count, size}
 * (rows 0: all); null when one lacks PYGCFREED.  0, or -1 with err. */
struct prof;
int gcfreed_html(struct json *j, const struct prof *p, const int *want, long rows, int kind,
                 char *err, size_t errlen);

#endif
