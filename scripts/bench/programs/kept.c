/*
 * kept.c - benchmark workload: small blocks allocated and kept (issue 68).
 *
 * Real programs mostly build: they allocate and keep.  This one makes N
 * blocks of 16-128 bytes and keeps every one of them alive to the end (the
 * exit snapshot sees them all; nothing is freed), each from one of STACKS
 * distinct call stacks.  A stack is chosen by a walk of KEPT_LEVELS frames
 * through two call sites a level in kept_level (the bits of the stack's
 * number pick the site, its low bits the innermost frames), so every
 * stack has the same depth and the count of distinct stacks is the only
 * thing that varies between 64 and 100,000.  As in a real program the outer
 * frames are shared: with 64 stacks only the six innermost levels vary.
 * Allocation i takes stack (i * KEPT_STRIDE) % STACKS: consecutive
 * allocations come from different stacks, as in a parser or a compiler.
 * With "pairs", a block is freed KEPT_RING allocations after it was made:
 * the same stacks as malloc+free pairs, the churn shape to compare with.
 *
 * Usage: kept N STACKS [pairs]    prints "checksum kept <hex>", exits 0.
 */
#include <alloca.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define KEPT_LEVELS 17          /* 2^17 > the most distinct stacks used (100k) */
#define KEPT_STRIDE 7919        /* a prime: walks every stack in turn */
#define KEPT_RING 64            /* pairs: blocks live at once */

static struct {
    void **blocks;              /* every block made, kept to the end */
    long n;                     /* blocks made so far */
    int pairs;                  /* "pairs": free each block KEPT_RING later */
    uint64_t sum;               /* checksum of sizes and stacks */
} kept;

/* One frame a level, called from one of two sites: the stack's bit for
 * this level picks the site (the nop keeps the two calls apart). */
__attribute__((noinline)) static void *kept_level(int level, unsigned long path, size_t size)
{
    void *p;
    if (level == KEPT_LEVELS)
        return malloc(size);
    if (path >> (KEPT_LEVELS - 1 - level) & 1) {
        p = kept_level(level + 1, path, size);
        __asm__ volatile("nop" ::: "memory");
    } else {
        p = kept_level(level + 1, path, size);
        __asm__ volatile("" ::: "memory");
    }
    return p;
}

/* Makes the n blocks (kept in kept.blocks). */
__attribute__((noinline)) static int kept_run(long n, unsigned long stacks)
{
    kept.blocks = malloc(n * sizeof *kept.blocks);
    if (!kept.blocks)
        return 1;
    for (long i = 0; i < n; i++) {
        unsigned long path = (unsigned long)i * KEPT_STRIDE % stacks;
        size_t size = 16 + (path * 13 + (unsigned long)i) % 113;
        void *p = kept_level(0, path, size);
        if (!p)
            return 1;
        ((unsigned char *)p)[0] = (unsigned char)path;
        if (kept.pairs && kept.n >= KEPT_RING)
            free(kept.blocks[kept.n - KEPT_RING]);
        kept.blocks[kept.n++] = p;
        kept.sum = kept.sum * 31 + size + path;
    }
    return 0;
}

int main(int argc, char **argv)
{
    int pairs = argc == 4 && strcmp(argv[3], "pairs") == 0;
    if (argc != 3 && !pairs) {
        fprintf(stderr, "usage: kept N STACKS [pairs]\n");
        return 2;
    }
    long n = atol(argv[1]);
    unsigned long stacks = strtoul(argv[2], NULL, 10);
    if (n < 1 || stacks < 1 || stacks > (1ul << KEPT_LEVELS)) {
        fprintf(stderr, "kept: N >= 1, 1 <= STACKS <= %lu\n", 1ul << KEPT_LEVELS);
        return 2;
    }
    kept.pairs = pairs;
    /* The walks run at stack addresses the environment's size does not
     * move (a 64 KiB boundary below main's frame): heapsnap's unwinder
     * keeps a thread's walks in sets picked by the hook's caller's stack
     * address, and a longer environment moved the count by 1-3%. */
    volatile char *pad = alloca(((uintptr_t)__builtin_frame_address(0) & 0xffff) + 256);
    pad[0] = 0;
    if (kept_run(n, stacks) != 0)
        return 1;
    printf("checksum kept %llx\n", (unsigned long long)kept.sum);
    return 0;
}
