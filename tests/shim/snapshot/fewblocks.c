/* fewblocks.c - a program with few live blocks but many distinct stacks
 * (test_compress_by_size.sh): 3 call sites x 2 leaves x recursion depths
 * 1-60 allocate 360 blocks, each from its own stack; all but 100 are freed.
 * Its snapshot is big (the traces) though under 2048 blocks live. */
#include <stdlib.h>

static void *keep[400];
static int n;

__attribute__((noinline)) static void leaf_a(void) { keep[n++] = malloc(64); }
__attribute__((noinline)) static void leaf_b(void) { keep[n++] = malloc(96); }

__attribute__((noinline)) static void down(int d, void (*leaf)(void))
{
    if (d > 0)
        down(d - 1, leaf);
    else
        leaf();
    __asm__ volatile("" ::: "memory"); /* not a tail call */
}

__attribute__((noinline)) static void site1(int d) { down(d, leaf_a); down(d, leaf_b); }
__attribute__((noinline)) static void site2(int d) { down(d, leaf_a); down(d, leaf_b); }
__attribute__((noinline)) static void site3(int d) { down(d, leaf_a); down(d, leaf_b); }

int main(void)
{
    for (int d = 1; d <= 60; d++) {
        site1(d);
        site2(d);
        site3(d);
    }
    for (int i = 100; i < n; i++)
        free(keep[i]);
    return 0;
}
