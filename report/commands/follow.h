/*
 * follow.h - which snapshots `heapsnap run` keeps (follow_drop_helpers), and
 * whose is the name (follow_hand_name).
 */
#ifndef REPORT_FOLLOW_H
#define REPORT_FOLLOW_H

#include <stddef.h>
#include <sys/types.h>

#include "manifest.h"

/* Removes from mf, and from the disk, the snapshots of a launcher's
 * helpers (follow.c); returns how many went.  On any doubt it keeps. */
size_t follow_drop_helpers(struct manifest *mf);

/* A wrapper's name handed to the Python program it ran as its child
 * (follow.c): when named (a name without %p) was written by program, the
 * pid run started, which ran no Python, and exactly one child of it that
 * did (or, when program is a shell and no child ran Python, exactly one
 * child at all, which peaked at least as high) wrote its snapshot at named.<pid> within FOLLOW_HAND_NS of
 * the wrapper's end, the two files swap names (the wrapper's becomes
 * named.<program>) and in mf.  Returns the child's pid, or 0 when nothing
 * moved; *python: 1 when the child was chosen for running Python. */
#define FOLLOW_HAND_NS 1000000000ull
pid_t follow_hand_name(struct manifest *mf, const char *named, pid_t program, int *python);

#endif
