/* rootbusy.c - heapsnap_register_root while another thread's snapshot is
 * held up.  The snapshot goes to the FIFO argv[1], whose reader takes
 * nothing, so its writer holds the snapshot lock until the shim gives the
 * reader up (snapdest.c: DEST_STALL_MS without progress); argv[2] blocks
 * of 48 bytes make the snapshot larger than the pipe holds.  One second
 * into the hold-up the main thread registers a root range and unregisters
 * it, then prints "register_ms M", "unregister_ms M" (each call's time),
 * "register R unregister R" (their results) and, once the snapshot has
 * given up, "snapshot R" (heapsnap_take_snapshot's). */
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <time.h>

#include "heapsnap.h"

static void *rootbusy_write(void *path)
{
    return (void *)(long)heapsnap_take_snapshot(path);
}

static long rootbusy_ms(const struct timespec *a)
{
    struct timespec b;
    clock_gettime(CLOCK_MONOTONIC, &b);
    return (b.tv_sec - a->tv_sec) * 1000 + (b.tv_nsec - a->tv_nsec) / 1000000;
}

int main(int argc, char **argv)
{
    static void *range[64];
    long n = argc > 2 ? atol(argv[2]) : 20000;
    void **keep = malloc((size_t)n * sizeof *keep);
    pthread_t w;
    struct timespec t0, one = {1, 0};
    void *res;
    if (argc < 2 || !keep || !heapsnap_register_root)
        return 2;
    for (long i = 0; i < n; i++)
        keep[i] = malloc(48);
    if (pthread_create(&w, NULL, rootbusy_write, argv[1]) != 0)
        return 2;
    nanosleep(&one, NULL);
    clock_gettime(CLOCK_MONOTONIC, &t0);
    int reg = heapsnap_register_root(range, sizeof range);
    printf("register_ms %ld\n", rootbusy_ms(&t0));
    clock_gettime(CLOCK_MONOTONIC, &t0);
    int unreg = heapsnap_unregister_root(range);
    printf("unregister_ms %ld\n", rootbusy_ms(&t0));
    printf("register %d unregister %d\n", reg, unreg);
    fflush(stdout);
    pthread_join(w, &res);
    printf("snapshot %ld\n", (long)res);
    return 0;
}
