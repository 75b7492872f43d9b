/*
 * leakcheck.c - benchmark workload for the exit-time leak check: LIVE blocks
 * still reachable at exit and LEAKED blocks that nothing points to any more.
 *
 * The reachable blocks hang off a global array, and every tenth one points at
 * the next one, so a scanner has some block-to-block references to follow.  The
 * leaked blocks are made in a separate function whose pointers are overwritten
 * in a global that is then cleared, and the stack is scrubbed afterwards, so no
 * stale copy keeps them "possibly" reachable.  A checker must report exactly
 * LEAKED definitely-lost blocks of LEAK_SIZE bytes (valgrind:
 * "definitely lost: LEAKED*LEAK_SIZE bytes in LEAKED blocks").
 *
 * Usage: leakcheck LIVE LEAKED     prints "checksum leakcheck <hex>", exits 0.
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define LEAK_SIZE 48            /* bytes per leaked block: easy to spot */

static struct {
    void **live;                /* the reachable blocks */
    long nlive;
    void *volatile last_leak;   /* briefly holds each leaked block */
    uint64_t sum;               /* checksum of sizes */
} lc;

__attribute__((noinline)) static void lc_make_live(long n)
{
    lc.live = malloc((size_t)n * sizeof(void *));
    if (!lc.live) exit(3);
    for (long i = 0; i < n; i++) {
        size_t sz = 16 + (size_t)(i * 2654435761u % 113);
        lc.live[i] = malloc(sz);
        if (!lc.live[i]) exit(3);
        memset(lc.live[i], 0, sz);
        if (i % 10 == 1)                        /* a block-to-block reference */
            *(void **)lc.live[i] = lc.live[i - 1];
        lc.sum += sz;
    }
    lc.nlive = n;
}

__attribute__((noinline)) static void lc_make_leaks(long n)
{
    for (long i = 0; i < n; i++) {
        lc.last_leak = malloc(LEAK_SIZE);
        if (!lc.last_leak) exit(3);
        memset(lc.last_leak, 0x5A, LEAK_SIZE);   /* no pointers inside */
        lc.sum += LEAK_SIZE;
    }
    lc.last_leak = NULL;
}

/* Overwrite the dead stack area where lc_make_leaks ran. */
__attribute__((noinline)) static void lc_scrub_stack(void)
{
    volatile char pad[4096];
    memset((char *)pad, 0, sizeof pad);
}

int main(int argc, char **argv)
{
    if (argc != 3) { fprintf(stderr, "usage: leakcheck LIVE LEAKED\n"); return 2; }
    long live = atol(argv[1]), leaked = atol(argv[2]);
    if (live < 1 || leaked < 0) { fprintf(stderr, "leakcheck: bad sizes\n"); return 2; }
    lc_make_live(live);
    lc_make_leaks(leaked);
    lc_scrub_stack();
    printf("checksum leakcheck %016llx %ld %ld\n", (unsigned long long)lc.sum, live, leaked);
    return 0;
}
