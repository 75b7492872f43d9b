/*
 * tree_lost.c - a lost binary tree of 7 nodes (depth 3): the root is a
 * direct leak, the other 6 nodes are indirect.
 *
 * Expected:
 *   direct:   1 x 40 = 40 bytes in 1 blocks at tree_lost.c:21
 *   indirect: 6 x 40 = 240 bytes in 6 blocks at tree_lost.c:21
 *   record:   direct at tree_lost.c:21, 40 bytes + 240 indirect
 *   cycle, possibly lost, suppressed: 0; still reachable: runtime only
 */
#include <stdlib.h>

#include "leakfix.h"

struct tree { struct tree *left, *right; long key, pad[2]; }; /* 40 bytes */
static void *volatile sink;

static LF_NOINLINE struct tree *tree_new(int depth, long key)
{
    if (depth == 0) return NULL;
    struct tree *t = calloc(1, sizeof(*t));
    t->key = key;
    t->left = tree_new(depth - 1, 2 * key);
    t->right = tree_new(depth - 1, 2 * key + 1);
    return t;
}

static LF_NOINLINE void build(void)
{
    sink = tree_new(3, 1);
    sink = NULL;
}

int main(void)
{
    build();
    lf_scrub();
    return 0;
}
