/*
 * grow.c - the one way report/ grows an array: the capacity doubles from a
 * small minimum until the wanted count fits, the byte size is checked for
 * overflow before realloc is asked, and on any failure the caller's array
 * and capacity are left exactly as they were (still valid, still owned by
 * the caller), so error paths need no special cleanup.
 *
 * The array pointer is read and written with memcpy: callers pass the
 * address of a typed pointer (struct x **) as void **, and copying its bytes
 * is well defined where a store through a void * lvalue would not be.
 */
#include <errno.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "cli.h"

#define GROW_MIN 8 /* elements in a first allocation */

/* The capacity to move to from cap so that need fits: doubled from
 * GROW_MIN, or need itself once doubling would overflow. */
static size_t grow_next(size_t cap, size_t need)
{
    size_t ncap = cap ? cap : GROW_MIN;
    while (ncap < need) {
        if (ncap > SIZE_MAX / 2)
            return need;
        ncap *= 2;
    }
    return ncap;
}

int grow_array(void **arr, size_t *cap, size_t need, size_t elem)
{
    if (need <= *cap)
        return 0;
    size_t ncap = grow_next(*cap, need);
    if (elem == 0 || ncap > SIZE_MAX / elem) {
        errno = ENOMEM;
        return -1;
    }
    void *old, *p;
    memcpy(&old, arr, sizeof(old));
    if (!(p = big_realloc(old, ncap * elem)))
        return -1;
    memcpy(arr, &p, sizeof(p));
    *cap = ncap;
    return 0;
}
