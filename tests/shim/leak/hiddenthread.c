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
 */
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "heapsnap.h"

static volatile int ready;

static void *holder(void *arg)
{
    sigset_t all;
    sigfillset(&all);
    if (arg)
        pthread_sigmask(SIG_SETMASK, &all, NULL);
    void *volatile mine = malloc(6543);
    memset(mine, 3, 6543);
    ready = 1;
    for (;;)
        pause();
    return mine;
}

int hidden_create(pthread_t *t, void *(*fn)(void *), void *arg);

int main(int argc, char **argv)
{
    pthread_t t;
    int blocked = argc > 1 && strcmp(argv[1], "blocked") == 0;
    if (hidden_create(&t, holder, blocked ? &t : NULL) != 0)
        return 1;
    while (!ready)
        usleep(1000);
    if (argc > 1 && strcmp(argv[1], "api") == 0) {
        if (!heapsnap_collect) {
            puts("no shim");
            return 0;
        }
        printf("collect %ld\n", heapsnap_collect(NULL));
        fflush(stdout);
    }
    exit(0);
}
