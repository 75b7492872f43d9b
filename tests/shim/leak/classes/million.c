/*
 * million.c - 1,000,000 small blocks that stay reachable (through one array
 * in a global) and 1,000 leaked among them, one after every 1,000 kept.
 * Pins correctness at scale and keeps the leak check quick.
 *
 * Expected:
 *   still reachable: 8,000,000 + 1,000,000 x 16 = 24,000,000 bytes in
 *                    1,000,001 blocks (+ runtime), at million.c:25 (array)
 *                    and million.c:27 (blocks)
 *   direct:          1,000 x 24 = 24,000 bytes in 1,000 blocks at million.c:29
 *   indirect, cycle, possibly lost, suppressed: 0
 */
#include <stdlib.h>

#include "leakfix.h"

#define NKEEP 1000000
#define EVERY 1000

void **g_keep;
static void *volatile sink;

static LF_NOINLINE void build(void)
{
    g_keep = malloc(NKEEP * sizeof(void *));
    for (int i = 0; i < NKEEP; i++) {
        g_keep[i] = malloc(16);
        if (i % EVERY == EVERY - 1)
            sink = malloc(24);
    }
    sink = NULL;
}

int main(void)
{
    build();
    lf_scrub();
    return 0;
}
