/*
 * list_lost.c - a lost singly linked list: the head is a direct leak, the
 * 4 nodes behind it are indirect.
 *
 * Expected:
 *   direct:   1 x 24 = 24 bytes in 1 blocks at list_lost.c:28 (head)
 *   indirect: 4 x 32 = 128 bytes in 4 blocks at list_lost.c:21 (nodes)
 *   record:   direct at list_lost.c:28, 24 bytes + 128 indirect
 *   cycle, possibly lost, suppressed: 0; still reachable: runtime only
 */
#include <stdlib.h>

#include "leakfix.h"

struct node { struct node *next; long pad[3]; };           /* 32 bytes */
struct head { struct node *first; long count, pad; };      /* 24 bytes */
static void *volatile sink;

static LF_NOINLINE struct node *node_new(struct node *next)
{
    struct node *n = calloc(1, sizeof(*n));
    n->next = next;
    return n;
}

static LF_NOINLINE void build(void)
{
    struct head *h = calloc(1, sizeof(*h));
    for (int i = 0; i < 4; i++) h->first = node_new(h->first);
    h->count = 4;
    sink = h;
    sink = NULL;
    h = NULL;
}

int main(void)
{
    build();
    lf_scrub();
    return 0;
}
