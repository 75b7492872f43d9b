/*
 * selfref.c - a lost block that points at itself: a direct leak, not a
 * cycle (a cycle has two blocks or more), as memcheck ("definitely lost")
 * and LeakSanitizer ("Direct leak") say.
 *
 * Expected:
 *   direct:   56 bytes in 1 blocks at selfref.c:20
 *   record:   one direct record, 56 bytes
 *   indirect, cycle, possibly lost, suppressed: 0; still reachable: runtime only
 */
#include <stdlib.h>

#include "leakfix.h"

struct self { struct self *me; long pad[6]; }; /* 56 bytes */
static void *volatile sink;

static LF_NOINLINE void build(void)
{
    struct self *s = calloc(1, sizeof(*s));
    s->me = s;
    sink = s;
    sink = NULL;
    s = NULL;
}

int main(void)
{
    build();
    lf_scrub();
    return 0;
}
