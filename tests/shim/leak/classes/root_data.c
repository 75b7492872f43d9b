/*
 * root_data.c - the only pointer to a list of 3 nodes is a global in .data (it has a non-zero initialiser).
 * The list is still reachable.  One direct leak keeps the test able to see
 * a leak at all.
 *
 * Expected:
 *   still reachable: 3 x 32 = 96 bytes in 3 blocks (+ runtime) at root_data.c:24
 *   direct:   16 bytes in 1 blocks at root_data.c:34
 *   indirect, cycle, possibly lost, suppressed: 0
 */
#include <stdlib.h>

#include "leakfix.h"

struct node { struct node *next; long pad[3]; }; /* 32 bytes */
void *g_anchor_dummy;
void *g_root = &g_anchor_dummy;                    /* initialised: .data */
static void *volatile sink;

static LF_NOINLINE struct node *list_new(int n)
{
    struct node *first = NULL;
    for (int i = 0; i < n; i++) {
        struct node *x = calloc(1, sizeof(*x));
        x->next = first;
        first = x;
    }
    return first;
}

static LF_NOINLINE void build(void)
{
    g_root = list_new(3);
    sink = malloc(16);
    sink = NULL;
}

int main(void)
{
    build();
    lf_scrub();
    return 0;
}
