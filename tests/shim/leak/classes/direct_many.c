/*
 * direct_many.c - many direct leaks from one site.
 *
 * Expected:
 *   direct:  10 x 32 = 320 bytes in 10 blocks, all allocated at direct_many.c:18
 *   indirect, cycle, possibly lost, suppressed: 0
 *   still reachable: runtime only
 */
#include <stdlib.h>

#include "leakfix.h"

static void *volatile sink;

static LF_NOINLINE void build(void)
{
    for (int i = 0; i < 10; i++)
        sink = malloc(32);
    sink = NULL;
}

int main(void)
{
    build();
    lf_scrub();
    return 0;
}
