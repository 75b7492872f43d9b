/*
 * direct_into_cycle.c - a lost block that points into a lost 2-cycle.  The
 * cycle's members are class "cycle" (cycle wins over indirect), and the one
 * loss record is the direct leak's, owning the cycle's bytes.
 *
 * Expected:
 *   direct:   24 bytes in 1 blocks at direct_into_cycle.c:30
 *   cycle:    2 x 48 = 96 bytes in 2 blocks at direct_into_cycle.c:22
 *   record:   direct at direct_into_cycle.c:30, 24 bytes + 96 indirect
 *   indirect, possibly lost, suppressed: 0; still reachable: runtime only
 */
#include <stdlib.h>

#include "leakfix.h"

struct pair { struct pair *peer; long pad[5]; };   /* 48 bytes */
struct owner { struct pair *p; long pad[2]; };     /* 24 bytes */
static void *volatile sink;

static LF_NOINLINE struct pair *pair_member(void)
{
    return calloc(1, sizeof(struct pair));
}

static LF_NOINLINE void build(void)
{
    struct pair *a = pair_member(), *b = pair_member();
    a->peer = b;
    b->peer = a;
    struct owner *o = calloc(1, sizeof(*o));
    o->p = a;
    sink = o;
    sink = NULL;
    a = b = NULL;
    o = NULL;
}

int main(void)
{
    build();
    lf_scrub();
    return 0;
}
