/*
 * pygarbage.h - the Python objects a snapshot's graph found reached by no
 * root (PYTYPES, HSNAP_PYOBJ_GARBAGE): garbage only the collector frees,
 * reported per allocation site and type with a cycle's path by type.
 */
#ifndef REPORT_PYGARBAGE_H
#define REPORT_PYGARBAGE_H

#include <stdint.h>
#include <stdio.h>

struct snap;

/* The garbage of the n snapshots, one line per (site, type), into out,
 * after a head line; nothing when none has any.  0, or -1 (out of
 * memory). */
int pygarbage_print(const struct snap *snaps, int n, FILE *out);

/* Whether trace ti of s was allocated by the interpreter's own Python
 * code: its innermost Python frame in importlib's frozen modules or the
 * standard library of the interpreter that wrote s (PREFIX/lib/pythonX.Y/,
 * not its site-packages or dist-packages), as the executable's prefix
 * says.  Its garbage is listed apart and never fails a gate. */
int pygarbage_interp(const struct snap *s, uint32_t ti);

/* The trace each garbage block of s is charged to, by BLOCKS index (the
 * others' own), in a new array the caller frees; NULL when out of
 * memory.  A class's __dict__ is born in the call that makes the class
 * (type_new copies the namespace), so where the links name it (the
 * class's DICT link to it, or its HELD one to the class) it is charged
 * to the class's trace: before 3.13 a dict a free list hands out keeps
 * its first life's trace (no reference tracer to move it), which may be
 * any other code's. */
uint32_t *pygarbage_charges(const struct snap *s);

#endif
