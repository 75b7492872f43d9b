/*
 * pyreads.h - the door of shim/python/reads/: how the Python rooms read
 * the process's memory and keep what they read.  pyread.c reads blocks a
 * window at a time (one system call a window), pypage.c serves small
 * reads from a copied chunk, pymaps.c knows the readable ranges at one
 * moment, pyarray.c grows record arrays in the arena.  It stands on the
 * layout room alone.  Prefix: pyrd_ (pyrd_pg_ for pypage.c's, pyrd_map_
 * for pymaps.c's, pyrd_array_ for pyarray.c's).
 */
#ifndef HEAPSNAP_PYREADS_H
#define HEAPSNAP_PYREADS_H

#include <stddef.h>
#include <stdint.h>
#include <string.h>

/* pyread.c: blocks read in ascending address order, a window of them by
 * one system call.  pyrd_begin: fn is called for each block added, in
 * order, at a flush, with the bytes read (p: NULL when unreadable) and
 * the tag and aux given; 0, or -1 (out of memory).  pyrd_add: 0, or -1
 * when the reader is not begun or len is too large for a window (read it
 * apart, after pyrd_flush).  pyrd_end flushes.  pyrd_calls: the system
 * calls made since the process began. */
typedef void (*pyrd_fn)(void *arg, uint32_t tag, uint64_t aux, const char *p, uint64_t addr,
                        uint32_t len);
int pyrd_begin(pyrd_fn fn, void *arg);
/* pyrd_pre, after pyrd_begin: pre sees a flush's n blocks first, all at
 * once (each one's bytes, NULL where unreadable, and its length), before
 * fn sees each; pyrd_peek_many reads len bytes at each of addr[0, n) into
 * out (len apart), ok[i] 1 where read whole, with one system call a batch
 * of them where a peek (peek.h) makes one a read. */
typedef void (*pyrd_pre_fn)(void *arg, unsigned n, const char *const *p, const uint32_t *len);
void pyrd_pre(pyrd_pre_fn pre);
void pyrd_peek_many(const uint64_t *addr, unsigned n, unsigned len, char *out, uint8_t *ok);
int pyrd_add(uint64_t addr, uint32_t len, uint32_t tag, uint64_t aux);
void pyrd_flush(void);
void pyrd_end(void);
void pyrd_hold(int on); /* 1: pyrd_end keeps the window for the next pass; 0: unmapped */
uint64_t pyrd_calls(void);
/* pypage.c: a snapshot pass's small reads of the process's memory, a
 * chunk copied once and served from the copy while the thread that opened
 * the cache (pyrd_pg_open; pyrd_pg_close) reads; a plain peek (peek.h)
 * otherwise.  pyrd_pg_peek: 1 when all n bytes were readable, 0 when not.
 * pyrd_pg_counts: the system calls it made, the reads served from a copy. */
void pyrd_pg_open(void);
void pyrd_pg_close(void);
/* The open cache handed from this thread (which reads no more) to the
 * next that takes it (a snapshot's second thread: pyrd_pg_take). */
void pyrd_pg_hand_off(void);
void pyrd_pg_take(void);
/* Nonzero while this thread holds the cache open: a reader nested in a
 * pass that opened it (py_thread_names in the exit snapshot) leaves it so. */
int pyrd_pg_is_open(void);
int pyrd_pg_peek(void *dst, uintptr_t src, size_t n);
void pyrd_pg_counts(uint64_t *calls, uint64_t *hits);
/* pyrd_pg_peek of a field that holds an object's address (an 8-aligned one
 * past the first page), else 0; and a word of a copy read back. */
static inline int pyrd_pg_peek8(void *dst, uintptr_t src, size_t n)
{
    return src >= 4096 && !(src & 7) && pyrd_pg_peek(dst, src, n);
}

static inline uint64_t pyrd_pg_u64(const char *p, size_t off)
{
    uint64_t v;
    memcpy(&v, p + off, sizeof v);
    return v;
}

/* The readable ranges of the address space at one moment (pyrd_map_load):
 * loaded before a walk of the interpreter's memory (0, or -1: no walk),
 * then asked before each load of it (1: the n bytes at p are readable). */
int pyrd_map_load(void);
int pyrd_map_readable(uintptr_t p, size_t n);
/* The same for the readable and writable ranges (pyrd_wmap_load), where
 * every type object lies (PyType_Ready writes it): a word outside them
 * names no type, and is never read (pytype.c) */
int pyrd_wmap_load(void);
int pyrd_map_writable(uintptr_t p, size_t n);

/* pyarray.c: a record array doubled in the arena by a copy; a graph's
 * array given room in its own mapping, moved */
void *pyrd_array_double(void *old, uint32_t n, uint32_t *cap, size_t elem, uint32_t first);
int pyrd_map_room(void **a, uint64_t need, uint64_t *cap, size_t elem, uint64_t first);

#endif
