/*
 * hiddenthread.c - a thread the shim did not see start: created by
 * hiddenlib.c through the pthread_create that dlsym(RTLD_NEXT) finds from
 * a library (libc's: jemalloc starts its background threads so), it holds
 * a block of 6,543 bytes only in a local variable of its stack while main
 * exits, or (argument "api") while main runs heapsnap_collect and prints
 * "collect N" (want 0).  With argument "blocked" the thread blocks every
 * signal first, as jemalloc's do: the stop cannot reach it, and only its
 * stack found by other means holds the block.  valgrind --leak-check=full:
 * still reachable 6,543 bytes in 1 blocks (definitely lost 0), either way.
 * With "many PATH": more threads than one chunk of the stop's registry
 * holds, 150 started through the shim's pthread_create hook (their slots
 * fill three chunks, mapped as the threads come) and 70 hidden ones (the
 * stop gives them slots past those, mapped while it runs), each holding a
 * block only on its stack (7001 bytes, 7002 for a hidden one) while main
 * runs heapsnap_collect(PATH): "collect 0", every thread stopped.
 */
#include <pthread.h>
#include <signal.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "heapsnap.h"

struct hold {
    size_t size;
    int blocked;
};

static atomic_int ready;

static void *holder(void *arg)
{
    const struct hold *h = arg;
    sigset_t all;
    sigfillset(&all);
    if (h->blocked)
        pthread_sigmask(SIG_SETMASK, &all, NULL);
    void *volatile mine = malloc(h->size);
    memset(mine, 3, h->size);
    atomic_fetch_add(&ready, 1);
    for (;;)
        pause();
    return mine;
}

int hidden_create(pthread_t *t, void *(*fn)(void *), void *arg);

/* "many": 150 threads through the hook and 70 hidden ones */
static int many(void)
{
    static const struct hold seen = {7001, 0}, hidden = {7002, 0};
    pthread_t t;
    pthread_attr_t a;
    pthread_attr_init(&a);
    pthread_attr_setstacksize(&a, 256 * 1024);
    for (int i = 0; i < 150; i++)
        if (pthread_create(&t, &a, holder, (void *)&seen) != 0)
            return -1;
    for (int i = 0; i < 70; i++)
        if (hidden_create(&t, holder, (void *)&hidden) != 0)
            return -1;
    return 220;
}

int main(int argc, char **argv)
{
    static struct hold one = {6543, 0};
    pthread_t t;
    const char *mode = argc > 1 ? argv[1] : "";
    int want = 1;
    one.blocked = strcmp(mode, "blocked") == 0;
    if (strcmp(mode, "many") == 0 ? (want = many()) < 0 : hidden_create(&t, holder, &one) != 0)
        return 1;
    while (atomic_load(&ready) < want)
        usleep(1000);
    if (strcmp(mode, "api") == 0 || strcmp(mode, "many") == 0) {
        if (!heapsnap_collect) {
            puts("no shim");
            return 0;
        }
        printf("collect %ld\n", heapsnap_collect(argc > 2 ? argv[2] : NULL));
        fflush(stdout);
    }
    exit(0);
}
