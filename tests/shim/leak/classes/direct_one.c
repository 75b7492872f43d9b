/*
 * direct_one.c - one direct leak.
 *
 * Expected:
 *   direct:  16 bytes in 1 blocks, allocated at direct_one.c:18
 *   indirect, cycle, possibly lost, suppressed: 0
 *   still reachable: runtime only
 */
#include <stdlib.h>

#include "leakfix.h"

static void *volatile sink;

static LF_NOINLINE void build(void)
{
    free(malloc(100));
    sink = malloc(16);
    sink = NULL;
}

int main(void)
{
    build();
    lf_scrub();
    return 0;
}
