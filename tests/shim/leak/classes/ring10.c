/*
 * ring10.c - a lost ring of 10 nodes: one leaked cycle of 10 blocks.
 *
 * Expected:
 *   cycle:    10 x 32 = 320 bytes in 10 blocks at ring10.c:20
 *   record:   one cycle record of 10 blocks, 320 bytes, no indirect
 *   direct, indirect, possibly lost, suppressed: 0; still reachable: runtime only
 */
#include <stdlib.h>

#include "leakfix.h"

struct node { struct node *next; long pad[3]; }; /* 32 bytes */
static void *volatile sink;

static LF_NOINLINE struct node *ring_new(int n)
{
    struct node *first = NULL, *last = NULL;
    for (int i = 0; i < n; i++) {
        struct node *x = calloc(1, sizeof(*x));
        if (last) last->next = x; else first = x;
        last = x;
    }
    last->next = first;
    return first;
}

static LF_NOINLINE void build(void)
{
    sink = ring_new(10);
    sink = NULL;
}

int main(void)
{
    build();
    lf_scrub();
    return 0;
}
