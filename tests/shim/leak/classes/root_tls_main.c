/*
 * root_tls_main.c - the only pointer to a list of 3 nodes is a __thread
 * variable of the main thread (static TLS, which ld.so allocates outside
 * the heap and outside every module's data).  One direct leak as a control.
 *
 * Expected:
 *   still reachable: 3 x 32 = 96 bytes in 3 blocks (+ runtime) at root_tls_main.c:23
 *   direct:   16 bytes in 1 blocks at root_tls_main.c:33
 *   indirect, cycle, possibly lost, suppressed: 0
 */
#include <stdlib.h>

#include "leakfix.h"

struct node { struct node *next; long pad[3]; }; /* 32 bytes */
__thread void *t_root;
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
    t_root = list_new(3);
    sink = malloc(16);
    sink = NULL;
}

int main(void)
{
    build();
    lf_scrub();
    return 0;
}
