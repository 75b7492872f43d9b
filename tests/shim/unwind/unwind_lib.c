/* unwind_lib.c - a library built WITHOUT frame pointers for
 * test_unwind_equiv.sh: allocations made two calls deep inside it, on
 * behalf of a caller that is also built without frame pointers. */
#include <stdlib.h>

#define NOINLINE __attribute__((noinline))

void *volatile lib_sink[64];

NOINLINE static void *lib_inner(size_t n, int depth)
{
    if (depth > 0) { /* varied depths, each frame with a busy register set */
        void *p = lib_inner(n + 1, depth - 1);
        lib_sink[depth & 63] = p;
        return p;
    }
    return malloc(n);
}

NOINLINE void *lib_outer(size_t n, int depth)
{
    void *p = lib_inner(n, depth);
    lib_sink[0] = p;
    return p;
}
