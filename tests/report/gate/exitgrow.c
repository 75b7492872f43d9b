/*
 * exitgrow.c - a series whose exit snapshot is not like the rest, for the
 * steady part of `heapsnap trend` (tests/report/gate/test_gate_truth.sh).  Takes 4
 * snapshots through the API (argv[1]: a pattern with "%d"); each round
 * cache_add keeps 10 x malloc(1000) (line 23).  At exit the cache is freed
 * and one buffer of 64 KiB is allocated (line 35) and kept: the exit
 * snapshot (HEAPSNAP_OUTPUT) sees the cache gone and the buffer new.
 * Expected: trend over all 5 snapshots lists cache_add's line, and not the
 * buffer's.
 */
#include <stdio.h>
#include <stdlib.h>

#include <heapsnap.h>

#define ROUNDS 4

static void *cache[10 * ROUNDS];
static void *volatile last;

static void cache_add(int round)
{
    for (int i = 0; i < 10; i++) cache[round * 10 + i] = malloc(1000);
}

int main(int argc, char **argv)
{
    char path[4096];
    for (int r = 0; r < ROUNDS; r++) {
        cache_add(r);
        snprintf(path, sizeof(path), argc > 1 ? argv[1] : "eg.%d.hsnap", r);
        if (heapsnap_take_snapshot && heapsnap_take_snapshot(path) != 0) return 1;
    }
    for (int i = 0; i < 10 * ROUNDS; i++) free(cache[i]);
    last = malloc(65536);
    return 0;
}
