/*
 * snapsave.h - writing a struct snap as a .hsnap file (report/snapsave.c).
 */
#ifndef REPORT_SNAPSAVE_H
#define REPORT_SNAPSAVE_H

#include <stddef.h>

#include "snap.h"

/* Writes s to path atomically (PATH.tmp.PID, then rename).  Sections are
 * written from the fields of s: stats has ntraces entries; BLOCKS when
 * has_blocks; TIMELINE when npoints; LEAKS (the raw payload) when leaks_len;
 * RETAINERS (nretainers items, sorted and unique) when has_retainers too.
 * Returns 0, or -1 with "PATH: reason" in err. */
int snap_save(const char *path, const struct snap *s, char *err, size_t errlen);

#endif
