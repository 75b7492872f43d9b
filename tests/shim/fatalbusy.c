/*
 * fatalbusy.c - a fatal signal while another thread's snapshot holds the
 * shim's snapshot lock: keeps argv[1] blocks of 48 B (busy_site), starts a
 * thread that takes a snapshot of them to argv[2] (heapsnap_take_snapshot,
 * found with dlsym: no link to the shim), waits until that thread says it
 * is about to call it, sleeps argv[3] ms and aborts.  The fatal snapshot
 * must wait for the other one rather than give up.
 */
#include <dlfcn.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <time.h>

void **keep; /* global: the blocks stay reachable, and are kept */
static atomic_int started;

__attribute__((noinline)) static void busy_site(long n)
{
    keep = malloc((size_t)n * sizeof *keep);
    for (long i = 0; i < n; i++)
        keep[i] = malloc(48);
}

static void *snapper(void *path)
{
    int (*take)(const char *) = (int (*)(const char *))dlsym(RTLD_DEFAULT, "heapsnap_take_snapshot");
    atomic_store(&started, 1);
    if (take)
        take(path);
    return NULL;
}

int main(int argc, char **argv)
{
    if (argc < 4)
        return 2;
    busy_site(atol(argv[1]));
    pthread_t t;
    pthread_create(&t, NULL, snapper, argv[2]);
    while (!atomic_load(&started))
        ;
    struct timespec ms = {0, atol(argv[3]) * 1000000L};
    nanosleep(&ms, NULL);
    printf("about to abort\n");
    fflush(stdout);
    abort();
}
