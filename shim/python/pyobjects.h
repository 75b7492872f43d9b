/*
 * pyobjects.h - the door of shim/python/, the top Python room: the
 * Python objects at a snapshot (pytype.c).  It reads every live block's
 * object and type (PYTYPES), then composes the rooms below: the graph
 * (pyg_build), the blocks objects own, the retained sizes with the leaked
 * references' count.  The writer and the leak check's runs call it.
 * pythreads.c names the threads as threading does (py_thread_names).
 * Prefix: py_ (py_types_ for the objects; py_object_starts for the leak
 * check); the rooms below have prefixes of their own.
 */
#ifndef HEAPSNAP_PYOBJECTS_H
#define HEAPSNAP_PYOBJECTS_H

#include <stddef.h>
#include <stdint.h>

struct sbuf;
struct sec_sink; /* base.h */

/* The leak check (world stopped, or a fork): each block of b[0, n) that
 * holds a Python object gets the object's offset in reserved (pytype.c's
 * reading of the types; 0 where none, or not after the block's start). */
struct hsnap_block;
void py_object_starts(struct hsnap_block *b, uint64_t n);

/* The snapshot writer (snapshot lock, not the fatal path): PYTYPES
 * (hsnap_format.h) into b.  py_types_begin: 0 when there are objects to
 * type (the head put), -1 when not (b untouched); then every live block,
 * in address order, to py_types_block; py_types_end finishes b (b->err
 * set when it could not) and, given no sink, puts PYOWNED into owned when
 * the graph was built (nothing there otherwise), or streams PYTYPES to a
 * sink (PYOWNED then to py_types_owned's); then
 * py_types_retain (b and owned may be written and given back before it:
 * the retained sizes' pass, its memory the stop's peak, needs neither)
 * computes PYRETAIN's sizes and gives the objects' arrays back. */
int py_types_begin(struct sbuf *b);
void py_types_block(uint64_t addr, uint64_t size);
/* Whether the blocks py_types_block was given since py_types_begin are
 * exactly the n blocks of w (an address and a size each, ascending), in
 * that order: 0 too when the graph's arrays gave up holding them. */
int py_types_blocks_are(const uint64_t (*w)[2], uint64_t n);
/* After the last py_types_block (optional): the blocks' last reads made
 * now and the cache of the words tried as types let go, before the
 * stacks' sections (STATS, PEAK) are made on top of it. */
void py_types_blocks_end(void);
/* After the last py_types_block, the object graph built (what needs no
 * sink, nor anything of the leak check's answer); py_types_end does it
 * when no call did. */
void py_types_build(struct sbuf *b);
/* After py_types_build, while a leak check's fork runs: the leaked
 * references' scan of the writable memory made now (pyr_count_early,
 * pyl_count_early), settled by py_types_retain once the check's classes
 * are handed down (pyl_lc_set). */
void py_types_count_early(void);
/* sink (may be NULL; base.h's struct sec_sink, its run and end set):
 * PYTYPES streamed to it as soon as the graph is built, before PYOWNED
 * is made (b then given back): 1 when it was. */
int py_types_end(struct sbuf *b, struct sbuf *owned, const struct sec_sink *sink);
/* After py_types_end was given a sink (and before py_types_retain):
 * PYOWNED streamed to s (its run unused), from the owners' array, which
 * is given back; 1 when there was one (0: none, nothing put). */
int py_types_owned(const struct sec_sink *s);
/* Whether py_types_begin could read the objects (a CPython it knows). */
int py_types_can(void);
/* The passes after py_types_begin handed to another thread: this one
 * reads no more objects (py_types_hand_off), the next calls
 * py_types_take_on before its first (their page cache is a thread's). */
void py_types_hand_off(void);
void py_types_take_on(void);
void py_types_retain(void);
/* Instead of py_types_end: the types given up, their memory and b's
 * given back. */
void py_types_drop(struct sbuf *b);

/* The snapshot writer (snapshot lock, not the fatal path): each running
 * thread's name as threading has it (py_thread_names: Thread._name by
 * _native_id) into its record (athr_py_name); nothing without CPython. */
void py_thread_names(void);

#endif
