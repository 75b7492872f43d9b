/*
 * cycle2.c - two blocks that point at each other, lost: a leaked cycle.
 *
 * Expected:
 *   cycle:    48 + 64 = 112 bytes in 2 blocks, at cycle2.c:19 and cycle2.c:20
 *   record:   one cycle record of 2 blocks, 112 bytes, no indirect
 *   direct, indirect, possibly lost, suppressed: 0; still reachable: runtime only
 */
#include <stdlib.h>

#include "leakfix.h"

struct a { void *peer; long pad[5]; }; /* 48 bytes */
struct b { void *peer; long pad[7]; }; /* 64 bytes */
static void *volatile sink;

static LF_NOINLINE void build(void)
{
    struct a *a = calloc(1, sizeof(*a));
    struct b *b = calloc(1, sizeof(*b));
    a->peer = b;
    b->peer = a;
    sink = a;
    sink = NULL;
    a = NULL;
    b = NULL;
}

int main(void)
{
    build();
    lf_scrub();
    return 0;
}
