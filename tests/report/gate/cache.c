/*
 * cache.c - a deliberately growing cache beside a steady working set, for
 * `heapsnap trend` (tests/report/gate/test_gate.sh).  Takes ROUNDS snapshots through
 * the API (argv[1] is the name pattern, "%d" the round); each round:
 *   cache_add: 10 x malloc(1000), kept forever   (grows 10000 B per round)
 *   work_round: frees last round's 20 x 500 B and allocates 20 new ones
 *               (always 10000 B live, its blocks always one epoch young)
 * Expected: trend lists cache_add's line and nothing else; its blocks in the
 * last snapshot have survived 0, 1, ... ROUNDS-1 epochs, 10 of each.
 */
#include <stdio.h>
#include <stdlib.h>

#include <heapsnap.h>

#define ROUNDS 5

static void *cache[10 * ROUNDS];
static void *work[20];

static void cache_add(int round)
{
    for (int i = 0; i < 10; i++) cache[round * 10 + i] = malloc(1000);
}

static void work_round(void)
{
    for (int i = 0; i < 20; i++) {
        free(work[i]);
        work[i] = malloc(500);
    }
}

int main(int argc, char **argv)
{
    char path[4096];
    for (int r = 0; r < ROUNDS; r++) {
        cache_add(r);
        work_round();
        snprintf(path, sizeof(path), argc > 1 ? argv[1] : "cache.%d.hsnap", r);
        if (heapsnap_take_snapshot && heapsnap_take_snapshot(path) != 0) return 1;
    }
    return 0;
}
