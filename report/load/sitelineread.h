/*
 * sitelineread.h - the SITELINE section (shim/hsnap_format.h, format 2): memory
 * over time per site, and MAPLINE, the mmap kind's share of each point,
 * decoded and validated once by the loader (siteline_decode) so that
 * every command may trust them afterwards.
 */
#ifndef REPORT_SITELINE_H
#define REPORT_SITELINE_H

#include <stddef.h>
#include <stdint.h>

#include "snap.h"

/* Decodes the SITELINE payload p[0..len) into s->sl (TRACES loaded), and
 * MAPLINE's m[0..mlen) (m NULL: none).  Checks: exact length for count and
 * nsites, 1 <= nsites <= 64, every trace < trace count or
 * HSNAP_SITELINE_NONE (with 0 bytes), sites biggest first, t_ns never
 * decreasing, no value past 2^52 bytes, and other + the sites' bytes ==
 * heap at every point; MAPLINE's count that of the points, each value at
 * most its point's heap.  Returns 0, or -1 with "section NAME: reason". */
int siteline_decode(struct snap *s, const uint8_t *p, uint64_t len, const uint8_t *m,
                    uint64_t mlen, char *err, size_t errlen);

/* Whether each point's bytes are known by kind (siteline_mapped): MAPLINE
 * is there, or no trace is of the mmap kind. */
int siteline_kinds_known(const struct snap *s);

/* The mmap kind's bytes at point i (0 without MAPLINE). */
uint64_t siteline_mapped(const struct snap *s, uint32_t i);

/* Point i (< s->sl.head.count) and its head.nsites sites. */
const struct hsnap_siteline_point *siteline_point(const struct snap *s, uint32_t i);
const struct hsnap_siteline_site *siteline_sites(const struct snap *s, uint32_t i);

#endif
