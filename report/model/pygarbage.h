/*
 * pygarbage.h - the Python objects a snapshot's graph found reached by no
 * root (PYTYPES, HSNAP_PYOBJ_GARBAGE): garbage only the collector frees,
 * reported per allocation site and type with a cycle's path by type.
 */
#ifndef REPORT_PYGARBAGE_H
#define REPORT_PYGARBAGE_H

#include <stdio.h>

struct snap;

/* The garbage of the n snapshots, one line per (site, type), into out,
 * after a head line; nothing when none has any.  0, or -1 (out of
 * memory). */
int pygarbage_print(const struct snap *snaps, int n, FILE *out);

#endif
