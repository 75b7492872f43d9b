/*
 * pyleakref.h - leaked references (pyleakref.c): the pointers to chosen
 * objects counted over the process's writable memory.
 */
#ifndef SHIM_PYLEAKREF_H
#define SHIM_PYLEAKREF_H

#include <stdint.h>

struct pyg_heap;

/* For each of h's nobj objects with want[i] set, the words of the
 * program's writable memory (not the shim's) equal to its address into
 * words[i] (0 for the others; UINT32_MAX: no candidate whatever its
 * count: the count is an address, no object, or the last leak check
 * classed its block ignored, py_lc_room).  The classes are dropped.  0, or -1 (out of memory, no maps). */
int pyl_count(const struct pyg_heap *h, uint64_t nobj, const uint8_t *want, uint32_t *words);

#endif
