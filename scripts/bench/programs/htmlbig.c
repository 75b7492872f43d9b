/*
 * htmlbig.c - a big heap for measuring `heapsnap html` and the exports:
 * keeps BLOCKS blocks of 16-64 bytes allocated from 2^BITS distinct stacks
 * (a path of BITS calls, each through one of two functions chosen by a bit
 * of the block's number), and exits; its exit snapshot is the input.
 * Usage: htmlbig BLOCKS BITS   (BITS from 0 to 20)
 */
#include <stdlib.h>

static void **keep;

static void step_left(unsigned path, int left, long i);
static void step_right(unsigned path, int left, long i);

__attribute__((noinline)) static void step(unsigned path, int left, long i)
{
    if (left == 0) {
        keep[i] = malloc(16 + (size_t)(i % 4) * 16);
        return;
    }
    if (path & 1)
        step_right(path >> 1, left - 1, i);
    else
        step_left(path >> 1, left - 1, i);
    __asm__ volatile("" ::: "memory"); /* no tail call: each step is a frame */
}

__attribute__((noinline)) static void step_left(unsigned path, int left, long i)
{
    step(path, left, i);
    __asm__ volatile("" ::: "memory");
}

__attribute__((noinline)) static void step_right(unsigned path, int left, long i)
{
    step(path, left, i);
    __asm__ volatile("" ::: "memory");
}

int main(int argc, char **argv)
{
    long n = argc > 1 ? atol(argv[1]) : 1000000;
    int bits = argc > 2 ? atoi(argv[2]) : 12;
    if (n < 1 || bits < 0 || bits > 20 || !(keep = malloc((size_t)n * sizeof(*keep))))
        return 2;
    for (long i = 0; i < n; i++)
        step((unsigned)i & ((1u << bits) - 1), bits, i);
    return 0;
}
