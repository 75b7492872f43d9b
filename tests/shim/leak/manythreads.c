/*
 * manythreads.c - more threads than one chunk of the stop's registry
 * holds: 150 started through the shim's pthread_create hook (their slots
 * fill three chunks, mapped as the threads come) and 70 through the one
 * that dlsym(RTLD_NEXT) finds from a library (hiddenlib.c), which the stop
 * finds in /proc/self/task and gives slots past those, mapped during the
 * stop.  Each holds a block only in a local of its stack (7001 bytes for a
 * registered thread, 7002 for a hidden one) while main runs
 * heapsnap_collect(argv[1]) and prints "collect N" (want 0: every block
 * reachable, every thread stopped).  valgrind --leak-check=full: definitely
 * lost 0.
 */
#include <pthread.h>
#include <stdatomic.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "heapsnap.h"

#define REGISTERED 150
#define HIDDEN 70

static atomic_int ready;

static void *holder(void *arg)
{
    size_t n = (size_t)(uintptr_t)arg;
    void *volatile mine = malloc(n);
    memset(mine, 3, n);
    atomic_fetch_add(&ready, 1);
    for (;;)
        pause();
    return mine;
}

int hidden_create(pthread_t *t, void *(*fn)(void *), void *arg);

int main(int argc, char **argv)
{
    pthread_t t;
    pthread_attr_t a;
    pthread_attr_init(&a);
    pthread_attr_setstacksize(&a, 256 * 1024);
    for (int i = 0; i < REGISTERED; i++)
        if (pthread_create(&t, &a, holder, (void *)(uintptr_t)7001) != 0)
            return 1;
    for (int i = 0; i < HIDDEN; i++)
        if (hidden_create(&t, holder, (void *)(uintptr_t)7002) != 0)
            return 1;
    while (atomic_load(&ready) < REGISTERED + HIDDEN)
        usleep(1000);
    if (!heapsnap_collect) {
        puts("no shim");
        return 0;
    }
    printf("collect %ld\n", heapsnap_collect(argc > 1 ? argv[1] : NULL));
    fflush(stdout);
    _exit(0);
}
