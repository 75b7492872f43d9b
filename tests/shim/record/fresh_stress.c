/*
 * fresh_stress.c - fresh and held blocks (pend_*) under load: 8
 * threads allocate from one site and free half of their blocks at once and
 * half through a neighbour's mailbox (another thread's free of a block
 * that is often still fresh), with a realloc now and then, while the main
 * thread counts live blocks, runs the leak check, clears the traces once
 * and forks children that write snapshots.  When the threads are done and
 * the mailboxes emptied, every block from stress_site is freed: the
 * snapshot written to argv[1] then must have none of them live and
 * balanced books (the test reads it).  Other blocks may live on: glibc
 * keeps the DTVs of the threads whose stacks it caches, unless the clear
 * forgot them.  Prints "done rounds R snapshot S" (R: API rounds).
 */
#include <heapsnap.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/wait.h>
#include <unistd.h>

#define STRESS_THREADS 8
#define STRESS_OPS 300000
#define STRESS_BOX 64

static _Atomic(void *) stress_box[STRESS_THREADS][STRESS_BOX];
static atomic_int stress_left = STRESS_THREADS;

__attribute__((noinline)) static void *stress_site(size_t n)
{
    return malloc(n);
}

static void *stress_worker(void *arg)
{
    int me = (int)(long)arg, to = (me + 1) % STRESS_THREADS;
    unsigned x = (unsigned)me * 7919u + 1;
    for (int i = 0; i < STRESS_OPS; i++) {
        x = x * 1103515245u + 12345u;
        void *p = stress_site(16 + (x >> 16) % 200);
        if (x & 1)
            free(p);
        else if ((p = atomic_exchange(&stress_box[to][(x >> 8) % STRESS_BOX], p)))
            free(p); /* the neighbour's block this thread put there earlier */
        if ((p = atomic_exchange(&stress_box[me][(x >> 12) % STRESS_BOX], NULL)))
            free(p); /* a block the neighbour allocated */
        if (i % 1024 == 0)
            free(realloc(stress_site(10), 100));
    }
    atomic_fetch_sub(&stress_left, 1);
    return NULL;
}

int main(int argc, char **argv)
{
    pthread_t t[STRESS_THREADS];
    if (argc != 2)
        return 2;
    if (!heapsnap_is_tracing || !heapsnap_is_tracing()) {
        printf("no shim\n");
        return 0;
    }
    for (long i = 0; i < STRESS_THREADS; i++)
        pthread_create(&t[i], NULL, stress_worker, (void *)i);
    int rounds = 0;
    for (; atomic_load(&stress_left) > 0; rounds++) {
        heapsnap_get_count(NULL, 0);
        if (rounds % 10 == 0)
            heapsnap_collect(NULL);
        if (rounds == 2)
            heapsnap_clear_traces();
        if (rounds % 7 == 0) {
            pid_t pid = fork();
            if (pid == 0)
                _exit(heapsnap_take_snapshot(NULL) == 0 ? 0 : 1);
            waitpid(pid, NULL, 0);
        }
    }
    for (int i = 0; i < STRESS_THREADS; i++)
        pthread_join(t[i], NULL);
    for (int i = 0; i < STRESS_THREADS; i++)
        for (int j = 0; j < STRESS_BOX; j++)
            free(atomic_exchange(&stress_box[i][j], NULL));
    int r = heapsnap_take_snapshot(argv[1]);
    printf("done rounds %d snapshot %d\n", rounds, r);
    return 0;
}
