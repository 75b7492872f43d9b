/*
 * pyretain.h - the retained sizes of the blocks at a snapshot (pyretain.c),
 * fed by pygraph.c's walk; within the Python room only.
 */
#ifndef SHIM_PYRETAIN_H
#define SHIM_PYRETAIN_H

#include <stdint.h>

struct pyg_heap;
struct pyg_obj;
struct pyg_type;

/* Before the walk over h's nobj objects: the graph starts empty. */
void pyr_begin(const struct pyg_heap *h, uint64_t nobj);
/* Whether the walk also reads object o of type t (one the collector does
 * not track, but which may hold references). */
int pyr_scans(const struct pyg_obj *o, const struct pyg_type *t);
/* The word at address at points into block bj: a native block anywhere,
 * an object at its exact start (not its own, nor a borrowed weak one). */
void pyr_ref(uint64_t at, uint32_t bj);
/* The words told next (pyr_ref) are read from block bj, as a rule: the
 * block each word is in is known without a search. */
void pyr_from(uint32_t bj);
/* After the walk and the marking (each object's pyg_obj.garbage set):
 * the dominators and the section, kept until py_retain_put (python.h).
 * drop_objs gives the heap's objects' array back (it is not read after
 * it is called). */
void pyr_end(void (*drop_objs)(void));

#endif
