/*
 * root_stack_thread.c - the only pointer to a list of 3 nodes is a local
 * variable in the frame of a second thread, which is still blocked (in
 * read) when main exits.  One direct leak as a control.
 *
 * Expected:
 *   still reachable: 3 x 32 = 96 bytes in 3 blocks at root_stack_thread.c:28
 *                    (+ runtime; what ld.so allocates is runtime too:
 *                    the DTV, dynamic TLS, link maps)
 *   direct:   16 bytes in 1 blocks at root_stack_thread.c:49
 *   indirect, cycle, possibly lost, suppressed: 0
 */
#include <pthread.h>
#include <stdlib.h>
#include <unistd.h>

#include "leakfix.h"

struct node { struct node *next; long pad[3]; }; /* 32 bytes */

static void *volatile sink;
static int ready[2], never[2]; /* pipes: "TLS is set", and one never written */

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

static void *holder(void *arg)
{
    char c = 0;
    void *volatile keep = list_new(3);
    lf_scrub();
    if (write(ready[1], &c, 1) != 1) return NULL;
    while (read(never[0], &c, 1) != 0) {} /* blocks until the process exits */
    return keep ? arg : NULL;
}

static LF_NOINLINE void build(void)
{
    pthread_t tid;
    char c;
    sink = malloc(16);
    sink = NULL;
    if (pipe(ready) != 0 || pipe(never) != 0) exit(3);
    if (pthread_create(&tid, NULL, holder, NULL) != 0) exit(3);
    if (read(ready[0], &c, 1) != 1) exit(3);
}

int main(void)
{
    build();
    lf_scrub();
    return 0;
}
