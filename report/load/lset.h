/*
 * lset.h - the LEAKS section (shim/hsnap_format.h), decoded and validated
 * once by the loader so that every command may trust it afterwards.
 */
#ifndef REPORT_LSET_H
#define REPORT_LSET_H

#include <stddef.h>
#include <stdint.h>

#include "snap.h"

/* Decodes the LEAKS payload p[0..len) into s->lk.  s's BLOCKS must be loaded
 * already (records name blocks by index).  Checks: exact section length, a
 * BLOCKS section present, every root and member < block count, record class
 * DIRECT or CYCLE and equal to its root block's class, a cycle's members
 * within member[] and of class CYCLE, a direct record without members,
 * ref_min <= ref_max.  Returns 0, or -1 with "section LEAKS: reason". */
int lset_decode(struct snap *s, const uint8_t *p, uint64_t len, char *err, size_t errlen);

/* Decodes the HOLDERS payload into s->hold, s->hold_ranges and s->hold_tls
 * (after BLOCKS: one item per block, each from a block index or a mark,
 * known root kinds, exact length).  0, or -1 with "section HOLDERS: reason"
 * (the caller drops the section: it is derived). */
int lset_decode_holders(struct snap *s, const uint8_t *p, uint64_t len, char *err,
                        size_t errlen);

/* Decodes the RETAINERS payload into s->retainers / s->nretainers (TRACES
 * loaded).  Checks: exact length, target and source traces < trace count,
 * source_kind <= HSNAP_RET_MAPPED, root sources with source_trace 0, items
 * sorted by (target, kind, source) without duplicates.  Returns 0, or -1
 * with "section RETAINERS: reason". */
int lset_decode_retainers(struct snap *s, const uint8_t *p, uint64_t len, char *err,
                          size_t errlen);

/* 0 when s has a leak check (a LEAKS section), else -1 with "PATH: " and
 * lset_absent_why's line in err: the one wording every command uses. */
int lset_require(const struct snap *s, const char *path, char *err, size_t errlen);

/* Why s holds no leak check, as one line: a fatal-signal snapshot says the
 * program crashed (no check runs in a crashing process), any other says how
 * to ask for one. */
const char *lset_absent_why(const struct snap *s);

/* Member i (0 <= i < s->lk.head.nmembers) of the member array: a BLOCKS index. */
uint32_t lset_member(const struct snap *s, uint32_t i);

#endif
