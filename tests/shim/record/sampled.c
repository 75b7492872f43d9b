/*
 * sampled.c - a heap with a known distribution, for HEAPSNAP_SAMPLE's
 * estimates (test_sample.sh).  One function per site; everything below is
 * live at exit except the churn, which allocates and frees 2,000,000 blocks
 * of varied sizes (so sampled blocks are also freed, and the countdown runs
 * through many small blocks between samples).
 *
 *   small_site   40000 x 48 B      1,920,000 B   (sampling rate ~4.6%)
 *   mixed_site   20000 x 16..496 B  5,120,000 B   (sizes cycle in steps of 16)
 *   medium_site   2000 x 1000 B    2,000,000 B
 *   large_site     100 x 65536 B   6,553,600 B   (larger than the interval)
 *   huge_site        2 x 4 MiB     8,388,608 B
 *   tiny_site      100 x 32 B          3,200 B   (under 1% of the heap)
 */
#include <stdio.h>
#include <stdlib.h>

#define NOINLINE __attribute__((noinline))

void *keep[70000]; /* global: the stores are not dead */
static int nkeep;

NOINLINE static void small_site(void) { keep[nkeep++] = malloc(48); }
NOINLINE static void mixed_site(int i) { keep[nkeep++] = malloc(16 + 16 * (size_t)(i % 31)); }
NOINLINE static void medium_site(void) { keep[nkeep++] = malloc(1000); }
NOINLINE static void large_site(void) { keep[nkeep++] = malloc(65536); }
NOINLINE static void huge_site(void) { keep[nkeep++] = malloc(4u << 20); }
NOINLINE static void tiny_site(void) { keep[nkeep++] = malloc(32); }

NOINLINE static void churn_site(void)
{
    static void *ring[64];
    for (int i = 0; i < 2000000; i++) {
        free(ring[i & 63]);
        ring[i & 63] = malloc(8 + (size_t)((unsigned)i * 7919u % 1024u));
    }
    for (int i = 0; i < 64; i++)
        free(ring[i]);
}

int main(void)
{
    for (int i = 0; i < 40000; i++) {
        small_site();
        if (i % 2 == 0)
            mixed_site(i / 2);
        if (i % 20 == 0)
            medium_site();
        if (i % 400 == 0)
            large_site();
        if (i % 400 == 0)
            tiny_site();
        if (i % 20000 == 0)
            huge_site();
    }
    churn_site();
    printf("kept %d blocks\n", nkeep);
    return 0;
}
