/* ucheck_lib.c - ucheck.c's dlclose mode loads this library built twice,
 * with UCL_PAD 8 and 40: the same functions at (usually) the same address
 * after the unload, with other frame sizes, so that the stack words a walk
 * cached for the first are read again under the second's rules. */
#include <stdlib.h>

#ifndef UCL_PAD
#define UCL_PAD 8
#endif

static volatile unsigned ucl_sink;

__attribute__((noinline)) static void *ucl_down(int d, size_t n)
{
    volatile char pad[UCL_PAD];
    pad[0] = (char)d;
    if (d <= 0)
        return malloc(n + (size_t)pad[0]);
    void *p = ucl_down(d - 1, n);
    ucl_sink += (unsigned)pad[0];
    return p;
}

void *ucl_alloc(int d, size_t n)
{
    void *p = ucl_down(d, n);
    ucl_sink++;
    return p;
}
