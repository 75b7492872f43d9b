/*
 * hidx.h - an index of the caller's items by a 64-bit hash: a flat array
 * of (hash, item) slots, open addressing with linear probing, at most 3/4
 * full, doubled when it would be more.
 *
 * Why not uthash, which the CLI's small tables use: its handle lies in
 * each item, so a look-up follows a chain of items (a cache miss each)
 * and a doubling visits every item again.  A big snapshot's stacks
 * (frames.c: 774,243 traces of a C program, a million of `import torch`)
 * made those misses most of a `top --key traceback`, an `export` or a
 * `diff`; here a probe reads the slots alone and an item only where the
 * whole 64-bit hash is equal.  The items stay the caller's: the index
 * neither copies nor frees them.
 */
#ifndef REPORT_HIDX_H
#define REPORT_HIDX_H

#include <stddef.h>
#include <stdint.h>

struct hidx_slot {
    uint64_t hash;
    void *item;              /* NULL: an empty slot */
};

struct hidx {
    struct hidx_slot *slot;
    size_t cap, n;           /* cap: 0 or a power of two */
};

/* The item of hash h for which same(item, key) holds, or NULL. */
static inline void *hidx_find(const struct hidx *x, uint64_t h,
                              int (*same)(const void *item, const void *key), const void *key)
{
    if (!x->cap)
        return NULL;
    size_t mask = x->cap - 1;
    for (size_t i = (size_t)h & mask;; i = (i + 1) & mask) {
        const struct hidx_slot *s = &x->slot[i];
        if (!s->item)
            return NULL;
        if (s->hash == h && same(s->item, key))
            return s->item;
    }
}

/* Adds item (not NULL) of hash h, which the index does not hold yet: 0,
 * or -1 when out of memory (nothing added, the index as it was). */
int hidx_add(struct hidx *x, uint64_t h, void *item);

/* The slots given back (the items stay the caller's); empty again. */
void hidx_free(struct hidx *x);

#endif
