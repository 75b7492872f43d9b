/* unwind_main.c - built WITHOUT frame pointers; calls through unwind_lib.so
 * (also without them) at several depths, and allocates directly too, with
 * every function of the malloc family (each enters the shim by its own
 * path, and auto starts its walk at the hook's caller). */
#define _GNU_SOURCE
#include <malloc.h>
#include <stdlib.h>

#define NOINLINE __attribute__((noinline))

void *lib_outer(size_t n, int depth);
void *volatile keep[256];

NOINLINE static void *app_step(int i)
{
    return i % 3 ? lib_outer(16 + (size_t)i, i % 7) : malloc(32 + (size_t)i);
}

NOINLINE static void *app_every(int i)
{
    void *p = NULL;
    switch (i % 9) {
    case 0: return calloc(3, 8 + (size_t)i);
    case 1: return realloc(malloc(8), 100 + (size_t)i);
    case 2: return posix_memalign(&p, 64, 24) ? NULL : p;
    case 3: return aligned_alloc(32, 64);
    case 4: return memalign(128, 40);
    case 5: return valloc(16);
    case 6: return pvalloc(16);
    case 7: return reallocarray(NULL, 4, 12);
    default: return realloc(NULL, 56);
    }
}

NOINLINE static void app_loop(int rounds)
{
    for (int i = 0; i < rounds; i++) {
        free(keep[i & 255]);
        keep[i & 255] = i % 4 == 3 ? app_every(i / 4) : app_step(i);
    }
}

int main(void)
{
    app_loop(200);
    return 0;
}
