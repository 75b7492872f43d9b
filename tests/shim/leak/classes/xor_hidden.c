/*
 * xor_hidden.c - the only record of a block's address is XORed with a key
 * and kept in a global.  No scanner can see through that: the block must be
 * reported leaked (direct), and the node it owns indirect.
 *
 * Expected:
 *   direct:   40 bytes in 1 blocks at xor_hidden.c:25
 *   indirect: 32 bytes in 1 blocks at xor_hidden.c:26
 *   record:   direct at xor_hidden.c:25, 40 bytes + 32 indirect
 *   cycle, possibly lost, suppressed: 0; still reachable: runtime only
 */
#include <stdint.h>
#include <stdlib.h>

#include "leakfix.h"

#define KEY ((uintptr_t)0x5a5a5a5a5a5a5a5aULL)

struct hidden { void *child; long pad[4]; };  /* 40 bytes */
struct node { long pad[4]; };                /* 32 bytes */
uintptr_t g_hidden;

static LF_NOINLINE void build(void)
{
    struct hidden *h = calloc(1, sizeof(*h));
    h->child = calloc(1, sizeof(struct node));
    g_hidden = (uintptr_t)h ^ KEY;
    h = NULL;
}

int main(void)
{
    build();
    lf_scrub();
    return 0;
}
