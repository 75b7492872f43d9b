/*
 * thread_exited.c - a thread leaks a block and keeps another in a global,
 * then exits and is joined.  Its stack and TLS are gone at exit; the leak
 * must still be found, and the kept block still reachable.
 *
 * Expected:
 *   direct:          72 bytes in 1 blocks at thread_exited.c:21
 *   still reachable: 88 bytes in 1 blocks (+ runtime) at thread_exited.c:22
 *   indirect, cycle, possibly lost, suppressed: 0
 */
#include <pthread.h>
#include <stdlib.h>

#include "leakfix.h"

void *g_kept;
static void *volatile sink;

static void *worker(void *arg)
{
    sink = malloc(72);
    g_kept = malloc(88);
    sink = NULL;
    lf_scrub();
    return arg;
}

static LF_NOINLINE void build(void)
{
    pthread_t tid;
    if (pthread_create(&tid, NULL, worker, NULL) != 0) exit(3);
    pthread_join(tid, NULL);
}

int main(void)
{
    build();
    lf_scrub();
    return 0;
}
