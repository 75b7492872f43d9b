/*
 * chain.c - memory kept alive through another block, for merge's RETAINERS
 * (tests/report/gate/test_gate.sh): a global points to a table (line 17), whose 4
 * slots point to 4 nodes (line 19).  `leaks --why chain.c:19` names the
 * table's site as the nodes' retainer, and the globals as the table's.
 */
#include <stdlib.h>

struct table {
    void *slot[4];
};

static struct table *volatile root;

static void build(void)
{
    root = malloc(sizeof(*root));
    for (int i = 0; i < 4; i++)
        root->slot[i] = malloc(48);
}

int main(void)
{
    build();
    return 0;
}
