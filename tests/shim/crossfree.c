/*
 * crossfree.c - 8 threads x 100k malloc/free, half of the frees done by the
 * neighbour thread (cross-thread frees through a lock-protected mailbox).
 * Each thread finally keeps 10 blocks of (1000 + its index) bytes from
 * keep_site.  Prints a checksum that does not depend on scheduling.
 * `threads WAVES`: WAVES rounds of 8 threads doing 5000 operations each
 * (more threads over the run than the shim has lines for its sums).
 */
#include <pthread.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define THREADS 8
#define OPS 100000
#define BOX 64

struct mailbox {
    pthread_mutex_t lock;
    void *slot[BOX];
    int n;
};

static struct mailbox box[THREADS];
static void *kept[THREADS][10];
static uint64_t sums[THREADS];
static int ops = OPS;

/* Hands p to the neighbour; frees it here if the mailbox is full. */
static void post(int to, void *p)
{
    struct mailbox *b = &box[to];
    pthread_mutex_lock(&b->lock);
    if (b->n < BOX) {
        b->slot[b->n++] = p;
        p = NULL;
    }
    pthread_mutex_unlock(&b->lock);
    free(p);
}

static void drain(int me)
{
    struct mailbox *b = &box[me];
    pthread_mutex_lock(&b->lock);
    while (b->n)
        free(b->slot[--b->n]);
    pthread_mutex_unlock(&b->lock);
}

__attribute__((noinline)) static void keep_site(int me)
{
    for (int i = 0; i < 10; i++)
        kept[me][i] = malloc(1000 + (size_t)me);
}

static void *worker(void *arg)
{
    int me = (int)(intptr_t)arg;
    for (int i = 0; i < ops; i++) {
        size_t n = 1 + (size_t)(i * 7 + me) % 512;
        unsigned char *p = malloc(n);
        memset(p, i & 0xff, n);
        sums[me] += p[n - 1];
        if (i & 1)
            post((me + 1) % THREADS, p);
        else
            free(p);
        if ((i & 255) == 0)
            drain(me);
    }
    drain(me);
    keep_site(me);
    return NULL;
}

int main(int argc, char **argv)
{
    pthread_t t[THREADS];
    int waves = argc > 1 ? atoi(argv[1]) : 1;
    if (waves > 1)
        ops = 5000;
    for (int i = 0; i < THREADS; i++)
        pthread_mutex_init(&box[i].lock, NULL);
    for (int w = 0; w < waves; w++) {
        for (intptr_t i = 0; i < THREADS; i++)
            pthread_create(&t[i], NULL, worker, (void *)i);
        for (int i = 0; i < THREADS; i++)
            pthread_join(t[i], NULL);
    }
    for (int i = 0; i < THREADS; i++)
        drain(i);
    uint64_t total = 0;
    for (int i = 0; i < THREADS; i++)
        total += sums[i];
    printf("checksum %llu\n", (unsigned long long)total);
    return 0;
}
