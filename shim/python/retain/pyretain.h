/*
 * pyretain.h - the door of shim/python/retain/: the retained size of
 * every live block at a snapshot (PYRETAIN), fed by the graph's walk
 * (pyr_from, pyr_ref), summed up the dominator tree (pydom.h, the room's
 * inner header, with pyrpack.h for the packed edges).  It stands on the
 * heap room; the leaked references' count it needs is handed to pyr_end
 * by the top room.  Prefix: pyr_ (pyr_retain_ for the writer's, pyr_dom_
 * for the dominator tree's).
 */
#ifndef HEAPSNAP_PYRETAIN_H
#define HEAPSNAP_PYRETAIN_H

#include <stddef.h>
#include <stdint.h>

struct pyh_heap;
struct sec_sink; /* base.h */
struct pyh_obj;
struct pyh_type;

/* Before the walk over h's nobj objects: the graph starts empty. */
void pyr_begin(const struct pyh_heap *h, uint64_t nobj);
/* Whether the walk also reads object o of type t (one the collector does
 * not track, but which may hold references). */
int pyr_scans(const struct pyh_obj *o, const struct pyh_type *t);
/* The word at address at points into block bj: a native block anywhere,
 * an object at its exact start (not its own, nor a borrowed weak one). */
void pyr_ref(uint64_t at, uint32_t bj);
/* The words told next (pyr_ref) are read from block bj, as a rule: the
 * block each word is in is known without a search. */
void pyr_from(uint32_t bj);
/* After the walk and the marking (each object's pyh_obj.garbage set):
 * the dominators and the section, kept until pyr_retain_put (python.h).
 * drop_objs gives the heap's objects' array back (it is not read after
 * it is called). */
/* count: the leaked references' counter (pyl_count's), which the
 * retained sizes' pass asks before drop_objs gives the objects back;
 * settle: the same, asked instead where pyr_count_early kept a count (in
 * words as it is called). */
typedef int (*pyr_count_fn)(const struct pyh_heap *h, uint64_t nobj, const uint8_t *want,
                            uint32_t *words);
void pyr_end(void (*drop_objs)(void), pyr_count_fn count, pyr_count_fn settle);
/* After the walk and the marking, before pyr_end: the leaked references
 * counted now by early (pyl_count_early's: the leak check's fork runs
 * meanwhile) over the objects pyr_end would hand its count, kept for its
 * settle (read only if pyr_retain_refs is on by then); nothing without a
 * graph. */
void pyr_count_early(pyr_count_fn early);

/* After py_types_retain: PYRETAIN (pyretain.c), the retained sizes of the
 * graph it built, into b (NULL: dropped); nothing without a graph. */
void pyr_retain_put(struct sbuf *b);
/* Before py_types_retain: PYRETAIN goes to a sink as it is made, never
 * held whole (the stop's peak), instead of to pyr_retain_put: begin(arg,
 * bytes) with the section's size, then put(arg, p, n) with its bytes in
 * order (its run and end unused); neither when there is none.  NULL:
 * kept for pyr_retain_put. */
void pyr_retain_sink(const struct sec_sink *s);
/* Before py_types_begin: whether PYRETAIN looks for leaked references
 * (pyl_count: a scan of the writable memory; the leak check's snapshots). */
void pyr_retain_refs(int on);

#endif
