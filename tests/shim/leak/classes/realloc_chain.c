/*
 * realloc_chain.c - blocks that went through chains of realloc.  A block's
 * allocation site is the call that produced its current address and size.
 *   lost: malloc(10) -> realloc 100 -> realloc 1000 -> realloc 10000, lost
 *   kept: malloc(8) -> realloc 800 -> realloc 80 (shrink), in a global
 *   gone: realloc(NULL, 50) -> realloc 500 -> realloc(p, 0) / free
 *
 * Expected:
 *   direct:          10000 bytes in 1 blocks at realloc_chain.c:30
 *   still reachable: 80 bytes in 1 blocks (+ runtime) at realloc_chain.c:22
 *   indirect, cycle, possibly lost, suppressed: 0
 */
#include <stdlib.h>

#include "leakfix.h"

void *g_kept;
static void *volatile sink;

static LF_NOINLINE void *grow(void *p, size_t n)
{
    return realloc(p, n);
}

static LF_NOINLINE void build(void)
{
    void *p = malloc(10);
    p = realloc(p, 100);
    p = realloc(p, 1000);
    sink = realloc(p, 10000);
    sink = p = NULL;
    g_kept = malloc(8);
    g_kept = realloc(g_kept, 800);
    g_kept = grow(g_kept, 80);
    p = realloc(NULL, 50);
    p = realloc(p, 500);
    free(p);
}

int main(void)
{
    build();
    lf_scrub();
    return 0;
}
