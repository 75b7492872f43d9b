/*
 * follow.h - which snapshots `heapsnap run` keeps (follow_drop_helpers).
 */
#ifndef REPORT_FOLLOW_H
#define REPORT_FOLLOW_H

#include <stddef.h>

#include "manifest.h"

/* Removes from mf, and from the disk, the snapshots of a launcher's
 * helpers (follow.c); returns how many went.  On any doubt it keeps. */
size_t follow_drop_helpers(struct manifest *mf);

#endif
