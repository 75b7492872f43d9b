/*
 * cycle_reachable.c - a 2-cycle and a ring of 5 that a global still points
 * at: they are still reachable, not leaked, whatever their refcounts.
 * One direct leak keeps the test able to see a leak at all.
 *
 * Expected:
 *   still reachable: 2 x 48 + 5 x 32 = 256 bytes in 7 blocks (+ runtime),
 *                    at cycle_reachable.c:24 (pair) and cycle_reachable.c:34
 *   direct:   16 bytes in 1 blocks at cycle_reachable.c:46
 *   indirect, cycle, possibly lost, suppressed: 0
 */
#include <stdlib.h>

#include "leakfix.h"

struct pair { struct pair *peer; long pad[5]; };   /* 48 bytes */
struct node { struct node *next; long pad[3]; };   /* 32 bytes */
void *g_pair;                                      /* .bss */
void *g_ring;
static void *volatile sink;

static LF_NOINLINE struct pair *pair_new(void)
{
    struct pair *a = calloc(1, sizeof(*a)), *b = calloc(1, sizeof(*b));
    a->peer = b;
    b->peer = a;
    return a;
}

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
    g_pair = pair_new();
    g_ring = ring_new(5);
    sink = malloc(16);
    sink = NULL;
}

int main(void)
{
    build();
    lf_scrub();
    return 0;
}
