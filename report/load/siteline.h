/*
 * siteline.h - the SITELINE section (shim/hsnap_format.h, format 2): memory
 * over time per site, decoded and validated once by the loader
 * (report/siteline.c) so that every command may trust it afterwards.
 */
#ifndef REPORT_SITELINE_H
#define REPORT_SITELINE_H

#include <stddef.h>
#include <stdint.h>

#include "snap.h"

/* Decodes the SITELINE payload p[0..len) into s->sl (TRACES loaded).
 * Checks: exact length for count and nsites, 1 <= nsites <= 64, every
 * trace < trace count or HSNAP_SITELINE_NONE (with 0 bytes), sites
 * biggest first, t_ns never decreasing, no value past 2^52 bytes, and
 * other + the sites' bytes == heap at every point.  Returns 0, or -1 with
 * "section SITELINE: reason". */
int siteline_decode(struct snap *s, const uint8_t *p, uint64_t len, char *err, size_t errlen);

/* Point i (< s->sl.head.count) and its head.nsites sites. */
const struct hsnap_siteline_point *siteline_point(const struct snap *s, uint32_t i);
const struct hsnap_siteline_site *siteline_sites(const struct snap *s, uint32_t i);

#endif
