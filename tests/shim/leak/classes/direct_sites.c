/*
 * direct_sites.c - direct leaks from three sites.
 *
 * Expected:
 *   direct:  8 + 2 x 24 + 3 x 40 = 176 bytes in 6 blocks:
 *              1 x 8  at direct_sites.c:20
 *              2 x 24 at direct_sites.c:22
 *              3 x 40 at direct_sites.c:24
 *   indirect, cycle, possibly lost, suppressed: 0
 *   still reachable: runtime only
 */
#include <stdlib.h>

#include "leakfix.h"

static void *volatile sink;

static LF_NOINLINE void build(void)
{
    sink = malloc(8);
    for (int i = 0; i < 2; i++)
        sink = malloc(24);
    for (int i = 0; i < 3; i++)
        sink = malloc(40);
    sink = NULL;
}

int main(void)
{
    build();
    lf_scrub();
    return 0;
}
