/*
 * owner.c - one direct leak that owns an indirect one, with the byte counts
 * of issue 19 (tests/report/gate/test_gate_truth.sh):
 *   line 20  malloc(48000): the direct leak (its pointer dropped)
 *   line 21  malloc(42889): reachable only from it, an indirect leak
 * leaks, valgrind and LSan all report 90889 bytes lost.
 */
#include <stdlib.h>

#include "../../shim/leak/classes/leakfix.h"

struct head {
    char *tail;
};
static void *volatile sink;

static LF_NOINLINE void lose(void)
{
    struct head *h;
    h = malloc(48000);
    h->tail = malloc(42889);
    memset(h->tail, 1, 42889);
    sink = h;
    sink = NULL;
    h = NULL;
}

int main(void)
{
    lose();
    lf_scrub();
    return 0;
}
