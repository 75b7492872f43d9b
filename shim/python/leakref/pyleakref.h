/*
 * pyleakref.h - the door of shim/python/leakref/: the Python objects'
 * leaked references.  pyleakref.c counts the pointers to chosen objects
 * over the process's writable memory (pyl_count, for the retained sizes'
 * pass, which the top room hands it) and keeps the leak check's classes
 * for them (pyl_lc_); pyinit.c knows a C extension's initialisation, whose
 * blocks and counts are the runtime's own, not leaks (pyl_init_).  It
 * stands on the graph room (the roots, the C stacks), the frames room
 * (code objects by name) and the reads room (the objects' heads through
 * its page copies).  Prefix: pyl_.
 */
#ifndef HEAPSNAP_PYLEAKREF_H
#define HEAPSNAP_PYLEAKREF_H

#include <stddef.h>
#include <stdint.h>

struct pyh_heap;

/* For each of h's nobj objects with want[i] set, the words of the
 * program's writable memory (not the shim's) equal to its address into
 * words[i] (0 for the others; UINT32_MAX: no candidate whatever its
 * count: the count is an address, no object, or the last leak check
 * classed its block ignored, pyl_lc_room).  The classes are dropped.  0, or -1 (out of memory, no maps). */
int pyl_count(const struct pyh_heap *h, uint64_t nobj, const uint8_t *want, uint32_t *words);
/* The same count split in two, so that its scan runs while a leak
 * check's fork runs: pyl_count_early before the check's classes are
 * handed down (they are dropped), pyl_count_settle after, with the same
 * heap and words (the early count in it) and a want within the early
 * one's: the words pyl_count would give (the ignored objects' and those
 * no longer wanted made UINT32_MAX and 0), or counted again where they
 * could have moved another's (pyleakref.c's pe).  The
 * early count is kept between the two (a settle without one, or any
 * other count, counts now).  0, or -1 as pyl_count. */
int pyl_count_early(const struct pyh_heap *h, uint64_t nobj, const uint8_t *want, uint32_t *words);
int pyl_count_settle(const struct pyh_heap *h, uint64_t nobj, const uint8_t *want, uint32_t *words);

/* The leak check: the runtime's own among its direct leaks (pyinit.c): whether
 * trace ip[0, n) is a C extension's initialisation code making a block
 * (-1 when more is set and the frames past n are needed to tell), and
 * whether the block at addr holds an object with a reference count. */
int pyl_init_trace(const uintptr_t *ip, unsigned n, int more);
/* ... whose names it looks up first, before the world stops (it takes the
 * code table's lock; pyl_init_trace then takes none). */
void pyl_init_prepare(void);
int pyl_init_object(uintptr_t addr, uint64_t size);
struct hsnap_block;
uint64_t pyl_init_held(struct hsnap_block *b, uint64_t n, int (*init)(uint32_t, void *),
                       void *arg);
/* The leaked references' side of it (pyleakref.c): of h's candidates
 * counted once more than words found (want, words), the tuples holding the
 * names of a code object whose block kept(addr) calls an initialisation's
 * get words UINT32_MAX; how many. */
/* *full: a list of candidates or names was full (some were not looked at). */
uint64_t pyl_init_names_refs(const struct pyh_heap *h, uint64_t nobj, const uint8_t *want,
                            uint32_t *words, int (*kept)(uint64_t addr), int *full);


/* The leak check's classes for the leaked references (pyleakref.c): the
 * blocks it did not find reachable, as the check classed them
 * (hsnap_block.cls), by address.  pyl_lc_room: room for n (arena memory;
 * the last ones dropped), NULL when out of memory or n is 0; pyl_lc_set: k
 * of them filled, ascending.  The next scan (pyr_retain_refs) hears them
 * once; pyl_lc_drop forgets them (a snapshot that built no graph);
 * pyl_lc_wanted: whether a graph can hear them at all (CPython found), so
 * that a process without one maps no room for them. */
struct pyl_blkcls {
    uint64_t addr;
    uint32_t cls; /* enum hsnap_class */
    uint32_t pad;
};
struct pyl_blkcls *pyl_lc_room(uint64_t n);
void pyl_lc_set(uint64_t k);
void pyl_lc_drop(void);
int pyl_lc_wanted(void);

/* pyinit.c: whether trace ip[0, n) made its block in a C extension's
 * initialisation (single- or multi-phase), by the importer's frames. */
int pyl_init_made(const uintptr_t *ip, unsigned n);

#endif
