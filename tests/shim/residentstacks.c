/*
 * residentstacks.c - a program with many distinct allocation stacks for
 * test_state_resident.sh: 32,768 call paths (fifteen levels of two
 * functions), one block each, kept; then "ready" on the fifo named in
 * argv[1], and it waits to be killed (10 s at most).
 */
#include <stdio.h>
#include <stdlib.h>
#include <unistd.h>

#define LEVELS 15

static void *leaf(unsigned bits, int level);

__attribute__((noinline)) static void *path_a(unsigned bits, int level)
{
    void *p = leaf(bits >> 1, level - 1);
    __asm__ volatile("" ::: "memory"); /* not a tail call: a frame of its own */
    return p;
}

__attribute__((noinline)) static void *path_b(unsigned bits, int level)
{
    void *p = leaf(bits >> 1, level - 1);
    __asm__ volatile("" ::: "memory");
    return p;
}

__attribute__((noinline)) static void *leaf(unsigned bits, int level)
{
    if (level == 0)
        return malloc(32);
    return (bits & 1) ? path_a(bits, level) : path_b(bits, level);
}

int main(int argc, char **argv)
{
    static void *kept[1u << LEVELS];
    for (unsigned i = 0; i < (1u << LEVELS); i++)
        if (!(kept[i] = leaf(i, LEVELS)))
            return 3;
    FILE *f = argc > 1 ? fopen(argv[1], "w") : NULL;
    if (!f)
        return 2;
    fputs("ready\n", f);
    fclose(f);
    sleep(10);
    return 0;
}
