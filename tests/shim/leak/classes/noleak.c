/*
 * noleak.c - allocates and frees everything: no leak of any class.
 *
 * Expected (tests/shim/leak/classes/expect/noleak.txt):
 *   direct, indirect, cycle, possibly lost, suppressed: 0 bytes in 0 blocks
 *   still reachable: only what the C library keeps ("runtime"); this fixture
 *   is the one that measures that baseline for the C fixtures.
 */
#include <stdlib.h>

#include "leakfix.h"

static LF_NOINLINE void build(void)
{
    void *p[10];
    for (int i = 0; i < 10; i++) p[i] = malloc(16 * (i + 1));
    for (int i = 0; i < 10; i++) free(p[i]);
    free(calloc(3, 100));
    free(realloc(malloc(10), 1000));
}

int main(void)
{
    build();
    lf_scrub();
    return 0;
}
