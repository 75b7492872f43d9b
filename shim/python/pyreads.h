/*
 * pyreads.h - how a snapshot's passes find and read the process's memory:
 * the live block that holds an address (pyfind.c), blocks read a window
 * at a time (pyread.c) and small reads served from a copied chunk
 * (pypage.c).  Part of shim/python's pyinner.h, which includes it.
 */
#ifndef HEAPSNAP_PYTHON_PYREADS_H
#define HEAPSNAP_PYTHON_PYREADS_H
#include <stddef.h>
#include <stdint.h>
#include <string.h>

struct pyg_heap;

/* pyfind.c: the block of h (pyf_build: the index made) that holds
 * address w, or PYG_NONE, while h is unchanged; pyf_free gives it back. */
void pyf_build(const struct pyg_heap *h);
uint32_t pyf_find(uint64_t w);
void pyf_free(void);
/* Of the n words w, those in a block that may start an object there (a
 * block pyf_find finds, the word aligned as a start would be; the caller
 * checks it is one): their places into at[], their blocks into bj[], in
 * order; how many. */
size_t pyf_find_starts(const uint64_t *w, size_t n, uint32_t *at, uint32_t *bj);
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
int pyrd_add(uint64_t addr, uint32_t len, uint32_t tag, uint64_t aux);
void pyrd_flush(void);
void pyrd_end(void);
void pyrd_hold(int on); /* 1: pyrd_end keeps the window for the next pass; 0: unmapped */
uint64_t pyrd_calls(void);
/* pypage.c: a snapshot pass's small reads of the process's memory, a
 * chunk copied once and served from the copy while the thread that opened
 * the cache (pypg_open; pypg_close) reads; a plain peek (peek.h)
 * otherwise.  pypg_peek: 1 when all n bytes were readable, 0 when not.
 * pypg_counts: the system calls it made, the reads served from a copy. */
void pypg_open(void);
void pypg_close(void);
int pypg_peek(void *dst, uintptr_t src, size_t n);
void pypg_counts(uint64_t *calls, uint64_t *hits);
/* pypg_peek of a field that holds an object's address (an 8-aligned one
 * past the first page), else 0; and a word of a copy read back. */
static inline int pypg_peek8(void *dst, uintptr_t src, size_t n)
{
    return src >= 4096 && !(src & 7) && pypg_peek(dst, src, n);
}

static inline uint64_t pypg_u64(const char *p, size_t off)
{
    uint64_t v;
    memcpy(&v, p + off, sizeof v);
    return v;
}

#endif
