/*
 * peakrace.c - a capture of the peak is not lost while another thread
 * writes a snapshot (peak_put holds the capture's lock).  A writer
 * thread takes snapshots without pause; main makes ROUNDS new peaks,
 * each a block of 1 MiB and a little more than the last, freed at once,
 * and after each asks the shim for the peak's capture
 * (HEAPSNAP_DUMP_PEAK, under HEAPSNAP_PEAK=exact): it must hold that
 * block.  Prints "lost N of ROUNDS"; exits 1 when a capture was lost.
 */
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "heapsnap.h"

#define ROUNDS 1000

static atomic_int stop;
static const char *path;

static void *writer(void *arg)
{
    (void)arg;
    while (!atomic_load(&stop))
        heapsnap_take_snapshot(path);
    return NULL;
}

__attribute__((noinline)) static void peak_once(size_t size)
{
    char *volatile p = malloc(size);
    if (p)
        p[0] = 1;
    free(p);
}

int main(int argc, char **argv)
{
    if (argc < 2)
        return 2;
    path = argv[1];
    pthread_t t;
    if (pthread_create(&t, NULL, writer, NULL) != 0)
        return 2;
    int lost = 0;
    for (int i = 0; i < ROUNDS; i++) {
        size_t size = ((size_t)1 << 20) + (size_t)i * 4096;
        peak_once(size);
        struct heapsnap_dump *d = heapsnap_dump(HEAPSNAP_DUMP_PEAK, 0, NULL, 0);
        uint64_t held = 0;
        for (uint64_t k = 0; d && k < d->nitems; k++)
            held += d->sizes[k];
        if (held < size)
            lost++;
        heapsnap_dump_free(d);
    }
    atomic_store(&stop, 1);
    pthread_join(t, NULL);
    printf("lost %d of %d\n", lost, ROUNDS);
    return lost ? 1 : 0;
}
