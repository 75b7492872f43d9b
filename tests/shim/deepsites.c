/*
 * deepsites.c - more frame-tree nodes than the default state file holds,
 * fast (test_state_bounds.sh): one block kept from each of 2^N call paths
 * (N levels of two functions, a frame each), each path then DEPTH frames deeper through
 * one recursive function, so every trace brings about DEPTH nodes of its
 * own (its outer frames differ).  It then lives for two of the state
 * file's heartbeats, so that the helper writes the stacks, and exits.
 *   deepsites N DEPTH
 */
#include <stdlib.h>
#include <string.h>
#include <time.h>

static void *path_a(unsigned bits, int level, int depth);
static void *path_b(unsigned bits, int level, int depth);

__attribute__((noinline)) static void *chain(int depth)
{
    void *p;
    if (depth == 0) {
        p = malloc(32);
        if (p)
            memset(p, 1, 32);
        return p;
    }
    p = chain(depth - 1);
    __asm__ volatile("" ::: "memory"); /* not a tail call: a frame of its own */
    return p;
}

/* One frame a level: path_a or path_b by the level's bit, then the chain. */
#define STEP(bits, level, depth)                                                     \
    ((level) == 0 ? chain(depth) : ((bits) & 1 ? path_a : path_b)((bits) >> 1, (level) - 1, (depth)))

__attribute__((noinline)) static void *path_a(unsigned bits, int level, int depth)
{
    void *p = STEP(bits, level, depth);
    __asm__ volatile("" ::: "memory");
    return p;
}

__attribute__((noinline)) static void *path_b(unsigned bits, int level, int depth)
{
    void *p = STEP(bits, level, depth);
    __asm__ volatile("" ::: "memory");
    return p;
}

int main(int argc, char **argv)
{
    int levels = argc > 1 ? atoi(argv[1]) : 16, depth = argc > 2 ? atoi(argv[2]) : 40;
    for (unsigned i = 0; i < 1u << levels; i++)
        (void)STEP(i, levels, depth); /* kept: the blocks stay live */
    struct timespec beats = {0, 600000000}; /* two heartbeats and some */
    nanosleep(&beats, NULL);
    return 0;
}
