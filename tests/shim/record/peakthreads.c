/*
 * peakthreads.c - 70 threads alive at once: every chunk of the peak's
 * per-thread lines (PEAK_LINE_CHUNK) is mapped, and the threads past
 * PEAK_LINES share line 0.  Each keeps 10 blocks of 1000
 * bytes from hold_site; when all hold theirs, main allocates 1 MiB (a
 * capture of the peak, HEAPSNAP_PEAK=exact), then every block is freed.
 * The peak's sums: hold_site 700 blocks, 700000 bytes.
 */
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>

#define THREADS 70
#define KEEP 10

static pthread_barrier_t held, done;
static void *kept[THREADS][KEEP];

__attribute__((noinline)) static void *hold_site(void)
{
    return malloc(1000);
}

static void *worker(void *arg)
{
    void **mine = arg;
    for (int i = 0; i < KEEP; i++)
        mine[i] = hold_site();
    pthread_barrier_wait(&held);
    pthread_barrier_wait(&done);
    for (int i = 0; i < KEEP; i++)
        free(mine[i]);
    return NULL;
}

int main(void)
{
    pthread_t t[THREADS];
    pthread_barrier_init(&held, NULL, THREADS + 1);
    pthread_barrier_init(&done, NULL, THREADS + 1);
    for (int i = 0; i < THREADS; i++)
        if (pthread_create(&t[i], NULL, worker, kept[i]) != 0)
            return 1;
    pthread_barrier_wait(&held);
    volatile char *one = malloc(1 << 20);
    *one = 1;
    free((void *)one);
    pthread_barrier_wait(&done);
    for (int i = 0; i < THREADS; i++)
        pthread_join(t[i], NULL);
    puts("ok");
    return 0;
}
