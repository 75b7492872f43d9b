/*
 * tmlike.h - the traces tracemalloc's hooks made for themselves before the
 * shim knew the hooks, told by the return addresses they share with the
 * traces it flagged (tmlike.c).
 */
#ifndef REPORT_TMLIKE_H
#define REPORT_TMLIKE_H

#include <stdint.h>

struct snap;
struct snap_trace;
struct tmlike;

/* The pairs of s's HSNAP_TRACE_TMOWN traces; NULL when out of memory. */
struct tmlike *tmlike_new(const struct snap *s);
/* Whether trace t, not flagged, starts as a flagged one does. */
int tmlike_has(const struct tmlike *tl, const struct snap *s, const struct snap_trace *t);
void tmlike_free(struct tmlike *tl);

#endif
