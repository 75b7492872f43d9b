/*
 * cycle_tail.c - a lost 2-cycle that owns a tail of 3 list nodes.  The
 * cycle is the leak root; the tail is indirect and counted in its record.
 *
 * Expected:
 *   cycle:    2 x 48 = 96 bytes in 2 blocks at cycle_tail.c:21
 *   indirect: 3 x 32 = 96 bytes in 3 blocks at cycle_tail.c:26
 *   record:   one cycle record, 96 bytes + 96 indirect
 *   direct, possibly lost, suppressed: 0; still reachable: runtime only
 */
#include <stdlib.h>

#include "leakfix.h"

struct pair { struct pair *peer; struct node *tail; long pad[4]; }; /* 48 bytes */
struct node { struct node *next; long pad[3]; };                    /* 32 bytes */
static void *volatile sink;

static LF_NOINLINE struct pair *pair_member(void)
{
    return calloc(1, sizeof(struct pair));
}

static LF_NOINLINE struct node *node_new(struct node *next)
{
    struct node *n = calloc(1, sizeof(*n));
    n->next = next;
    return n;
}

static LF_NOINLINE void build(void)
{
    struct pair *a = pair_member(), *b = pair_member();
    a->peer = b;
    b->peer = a;
    for (int i = 0; i < 3; i++) b->tail = node_new(b->tail);
    sink = a;
    sink = NULL;
    a = b = NULL;
}

int main(void)
{
    build();
    lf_scrub();
    return 0;
}
