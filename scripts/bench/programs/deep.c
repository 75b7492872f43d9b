/*
 * deep.c - benchmark workload: allocations 12-60 frames deep (issue 4, row 2).
 *
 * Each round descends a fixed-seed random depth of 12, 24, 36, 48 or 60 frames
 * through two mutually recursive functions (so neither the inliner nor
 * tail-call elimination can flatten the chain), then does a few malloc/free
 * steps on a pool of live blocks from one of six sites at the bottom.  The
 * number of distinct stacks stays bounded (5 depths x 6 sites), as in a real
 * program, so the cost measured is the stack walk, not a growing trace table.
 *
 * Why only five depths: heaptrack 1.4's heaptrack_interpret never finishes
 * (it grows to ~18 GB and dies of bad_alloc) when the depth takes many values
 * over 12..60 (every value, or every second or third one); with depths in
 * steps of 12 it is fine.  See docs/performance.md.
 *
 * Usage: deep ROUNDS LIVE       prints "checksum deep <hex>", exits 0.
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define DEEP_STEPS 4            /* malloc/free steps at the bottom of a descent */

static struct {
    uint64_t rng;               /* xorshift64 state, fixed seed */
    void **pool;                /* live blocks */
    long npool;
    uint64_t sum;               /* checksum of sizes and sites */
} deep = { .rng = 0x2545F4914F6CDD1Dull };

static uint64_t deep_next(void)
{
    uint64_t x = deep.rng;
    x ^= x << 13; x ^= x >> 7; x ^= x << 17;
    return deep.rng = x;
}

__attribute__((noinline)) static void *deep_site0(size_t n) { return malloc(n); }
__attribute__((noinline)) static void *deep_site1(size_t n) { return malloc(n + 8); }
__attribute__((noinline)) static void *deep_site2(size_t n) { return malloc(n + 16); }
__attribute__((noinline)) static void *deep_site3(size_t n) { return malloc(n + 24); }
__attribute__((noinline)) static void *deep_site4(size_t n) { return malloc(n + 32); }
__attribute__((noinline)) static void *deep_site5(size_t n) { return malloc(n + 40); }

__attribute__((noinline)) static void deep_bottom(int site)
{
    for (int i = 0; i < DEEP_STEPS; i++) {
        uint64_t r = deep_next();
        size_t n = 16 + (r >> 8) % 201;
        long s = (long)((r >> 24) % (uint64_t)deep.npool);
        void *p;
        switch (site) {
        case 0: p = deep_site0(n); break;
        case 1: p = deep_site1(n); break;
        case 2: p = deep_site2(n); break;
        case 3: p = deep_site3(n); break;
        case 4: p = deep_site4(n); break;
        default: p = deep_site5(n); break;
        }
        if (!p) { fprintf(stderr, "deep: out of memory\n"); exit(3); }
        memcpy(p, &r, sizeof r);
        free(deep.pool[s]);
        deep.pool[s] = p;
        deep.sum = deep.sum * 31 + n + (uint64_t)site;
    }
}

static long deep_odd(int left, int site);

/* The volatile local gives each level a real frame and a non-tail call;
 * noipa keeps the two functions from being folded into one. */
__attribute__((noipa)) static long deep_even(int left, int site)
{
    volatile int here = left;
    if (left <= 0) { deep_bottom(site); return 1; }
    return deep_odd(left - 1, site) + here;
}

__attribute__((noipa)) static long deep_odd(int left, int site)
{
    volatile int here = left;
    if (left <= 0) { deep_bottom(site); return 1; }
    return deep_even(left - 1, site) + here;
}

int main(int argc, char **argv)
{
    if (argc != 3) { fprintf(stderr, "usage: deep ROUNDS LIVE\n"); return 2; }
    long rounds = atol(argv[1]);
    deep.npool = atol(argv[2]);
    if (rounds < 1 || deep.npool < 1) { fprintf(stderr, "deep: bad sizes\n"); return 2; }
    deep.pool = calloc((size_t)deep.npool, sizeof(void *));
    long frames = 0;
    for (long i = 0; i < rounds; i++) {
        uint64_t r = deep_next();
        int depth = 12 + 12 * (int)(r % 5);   /* main + chain + bottom + site */
        frames += deep_even(depth - 4, (int)((r >> 8) % 6));
    }
    for (long s = 0; s < deep.npool; s++)
        free(deep.pool[s]);
    free(deep.pool);
    printf("checksum deep %016llx %ld\n", (unsigned long long)deep.sum, frames);
    return 0;
}
