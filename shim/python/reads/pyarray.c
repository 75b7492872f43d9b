/*
 * pyarray.c - the arrays shim/python grows in the shim's arena: record
 * arrays doubled by a copy (pyrd_array_double: arena blocks, which the
 * arena cannot move) and the graph's big arrays doubled in place
 * (pyrd_map_room: mappings of their own, moved by the kernel).  Callers
 * hold whatever lock guards their array.
 */
#include <string.h>

#include "base.h"
#include "pyreads.h"

/* Room in the mapping *a (*cap elements of elem bytes) for need, doubled
 * from first (its pages moved by the kernel, never copied, so the old and
 * the new are never both resident): 0, or -1 when out of memory (*a and
 * *cap kept).  The graph's arrays grow by it. */
int pyrd_map_room(void **a, uint64_t need, uint64_t *cap, size_t elem, uint64_t first)
{
    if (need <= *cap)
        return 0;
    uint64_t want = *cap ? *cap * 2 : first;
    while (want < need)
        want *= 2;
    void *r = *a ? arena_remap(*a, *cap * elem, want * elem) : arena_map(want * elem);
    if (!r)
        return -1;
    *a = r;
    *cap = want;
    return 0;
}

/* The n elements of elem bytes at old (room for *cap) copied to an arena
 * block of twice the room (first, when *cap is 0), old freed and *cap
 * set; NULL when out of memory (old kept).  The record arrays of the code
 * copies, the native names and the types (pyfr_code_count,
 * pyfr_native_name, py_types_block) grow by it.  Past the arena's blocks (old and new
 * both mappings of their own) the kernel moves the pages instead
 * (arena_remap; zero past the old end, as arena_alloc's are): a copy
 * holds old and new at once, at the moment the array is largest. */
void *pyrd_array_double(void *old, uint32_t n, uint32_t *cap, size_t elem, uint32_t first)
{
    uint32_t want = *cap ? *cap * 2 : first;
    if (old && (size_t)*cap * elem > ARENA_BLOCK_MAX) {
        void *m = arena_remap(old, (size_t)*cap * elem, (size_t)want * elem);
        if (m)
            *cap = want;
        return m;
    }
    void *r = arena_alloc(want * elem);
    if (!r)
        return NULL;
    if (n)
        memcpy(r, old, n * elem);
    if (old)
        arena_free(old, *cap * elem);
    *cap = want;
    return r;
}
