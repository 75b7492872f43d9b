/*
 * unreloc_lib.c - a library linked lazily (-z lazy: its malloc JUMP_SLOT
 * is relocated by adding its base) whose functions allocate and free,
 * dlopened by unreloc_main.c while unreloc_audit.c holds its relocation
 * back.
 */
#include <stdlib.h>

void *unreloc_alloc(size_t n)
{
    return malloc(n);
}

void unreloc_free(void *p)
{
    free(p);
}
