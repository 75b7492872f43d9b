/*
 * peakread.h - the PEAK and TEMPS sections (shim/hsnap_format.h, version 2),
 * decoded and validated once by the loader, and the one wording every
 * command uses for a snapshot without them.
 */
#ifndef REPORT_PEAK_H
#define REPORT_PEAK_H

#include <stddef.h>
#include <stdint.h>

#include "snap.h"

/* Decodes the PEAK payload p[0..len) into s->peak and s->peak_stats (one
 * per trace: live_count/live_bytes at the peak, totals 0).  TRACES loaded.
 * Checks: exact length 40 + 24*count, items sorted by trace without
 * duplicates, trace < trace count, the items adding up to the head's
 * blocks and bytes, each within the loader's bound on sums.  Returns 0,
 * or -1 with "section PEAK: reason". */
int peak_decode(struct snap *s, const uint8_t *p, uint64_t len, char *err, size_t errlen);

/* Each mmap-kind trace's resident bytes at the peak, estimated from the
 * snapshot's own residency (MAPPED): a trace that holds at least as many
 * mapped bytes now as at the peak is taken to hold the same ranges, whose
 * pages were touched then at most as much as now (a page, once touched,
 * stays so unless given back), so its peak bytes count resident up to its
 * resident bytes now; any other trace counts whole.  An array of
 * s->ntraces (0 where no mmap bytes at the peak), *untouched the peak's
 * bytes it leaves out; NULL when s lacks PEAK or MAPPED, or out of memory
 * (*untouched 0).  The caller frees it.  An upper bound on what was
 * touched at the peak, so the "touched" peak never reads low. */
uint64_t *peak_resident(const struct snap *s, uint64_t *untouched);

/* Decodes the TEMPS payload into s->temps (one per trace).  Checks: exact
 * length, count equal to the trace count, each value within the bound.
 * Returns 0, or -1 with "section TEMPS: reason". */
int temps_decode(struct snap *s, const uint8_t *p, uint64_t len, char *err, size_t errlen);

/* Why s holds no peak (no PEAK section, or one dropped as damaged): a
 * phrase for "no peak in this snapshot (...)". */
const char *peak_missing_why(const struct snap *s);

/* 0 when s has a PEAK section, else -1 with "PATH: " and why in err (one
 * line: peak_missing_why's). */
int peak_require(const struct snap *s, const char *path, char *err, size_t errlen);

/* The same for TEMPS. */
int temps_require(const struct snap *s, const char *path, char *err, size_t errlen);

/* Splits "PATH@peak" (diff, top): 1 and path cut to PATH when arg ends in
 * "@peak" and no file of that whole name exists, else 0 (path = arg).
 * path has room for n bytes; -1 when arg does not fit. */
int peak_split(const char *arg, char *path, size_t n);

#endif
