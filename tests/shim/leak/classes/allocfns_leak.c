/*
 * allocfns_leak.c - every allocation function the shim hooks leaks exactly
 * one block, each from its own line (sizes chosen so that no function has to
 * round the size up: aligned_alloc gets a multiple of its alignment, and
 * pvalloc a whole page).
 *
 * Expected, all direct, 1 block each:
 *   malloc(11)                 11 B   allocfns_leak.c:32
 *   calloc(3, 7)               21 B   allocfns_leak.c:33
 *   realloc(NULL, 13)          13 B   allocfns_leak.c:34
 *   reallocarray(NULL, 3, 5)   15 B   allocfns_leak.c:35
 *   posix_memalign(64, 17)     17 B   allocfns_leak.c:36
 *   aligned_alloc(64, 128)    128 B   allocfns_leak.c:37
 *   memalign(32, 19)           19 B   allocfns_leak.c:38
 *   valloc(23)                 23 B   allocfns_leak.c:39
 *   strdup("leakfix")           8 B   allocfns_leak.c:40
 *   pvalloc(4096)            4096 B   allocfns_leak.c:43
 *   direct: 4351 bytes in 10 blocks
 *   indirect, cycle, possibly lost, suppressed: 0; still reachable: runtime only
 */
#include <malloc.h>
#include <stdlib.h>
#include <string.h>

#include "leakfix.h"

static void *volatile sink;

static LF_NOINLINE void build(void)
{
    void *p = NULL;
    sink = malloc(11);
    sink = calloc(3, 7);
    sink = realloc(NULL, 13);
    sink = reallocarray(NULL, 3, 5);
    if (posix_memalign(&p, 64, 17) == 0) sink = p;
    sink = aligned_alloc(64, 128);
    sink = memalign(32, 19);
    sink = valloc(23);
    sink = strdup("leakfix");
    p = NULL;
    sink = NULL;
    sink = pvalloc(4096); /* last: Valgrind 3.19 aborts the program here */
    sink = NULL;
}

int main(void)
{
    build();
    lf_scrub();
    return 0;
}
