/*
 * dontfork.c - blocks whose only pointers sit in pages the program marked
 * MADV_DONTFORK (or MADV_WIPEONFORK), which a fork's child does not
 * inherit (or gets zeroed).  Modes:
 *   map    40 blocks of 6301 bytes pointed to from an mmap'd page marked
 *          MADV_DONTFORK
 *   wipe   40 blocks of 6302 bytes, from a page marked MADV_WIPEONFORK
 *   block  40 blocks of 6303 bytes, from the pages of a 1 MiB malloc'd
 *          block (glibc maps it on its own) marked MADV_DONTFORK; the big
 *          block itself is held by a global
 *   big    40 blocks of 6304 bytes, from the last page of 65 MiB marked
 *          MADV_DONTFORK (past what the leak check copies for its fork)
 * and in every mode 1 block of 6399 bytes lost.  Exits 0; the exit
 * snapshot's check sees every 630x block still reachable, the 6399 one
 * definitely lost.  Without the shim, valgrind 3.19 --leak-check=full
 * agrees: "definitely lost: 6,399 bytes in 1 blocks" in each mode, and
 * still reachable 252,040 bytes in 40 blocks (map), 252,080 in 40 (wipe),
 * 1,300,696 in 41 (block: the 1 MiB block too).
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>

#define N 40
#define NOINLINE __attribute__((noinline))

void *volatile big_block; /* mode block: the 1 MiB block */

NOINLINE static void fill(void **where, size_t size)
{
    for (int i = 0; i < N; i++)
        where[i * 5] = memset(malloc(size), i, size);
}

NOINLINE static void lose(void)
{
    void *volatile p = malloc(6399);
    p = NULL;
}

NOINLINE static void scrub(void)
{
    volatile char pad[16384];
    for (unsigned i = 0; i < sizeof pad; i++)
        pad[i] = 0;
}

/* One page (at the end of len bytes) marked with advice; the blocks' pointers
 * go there only. */
NOINLINE static int in_mapping(size_t len, int advice, size_t size)
{
    char *m = mmap(NULL, len, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
    if (m == MAP_FAILED || madvise(m, len, advice) != 0) {
        perror("dontfork: mmap/madvise");
        return 1;
    }
    fill((void **)(m + len - 4096), size);
    return 0;
}

/* The pages of a big malloc'd block, marked MADV_DONTFORK. */
NOINLINE static int in_block(void)
{
    size_t len = 1 << 20;
    char *b = big_block = calloc(1, len);
    char *page = (char *)(((uintptr_t)b + 4095) & ~(uintptr_t)4095);
    if (!b || madvise(page, 65536, MADV_DONTFORK) != 0) {
        perror("dontfork: madvise");
        return 1;
    }
    fill((void **)(page + 8192), 6303);
    return 0;
}

int main(int argc, char **argv)
{
    const char *mode = argc > 1 ? argv[1] : "map";
    int rc = !strcmp(mode, "map")    ? in_mapping(4096, MADV_DONTFORK, 6301)
           : !strcmp(mode, "wipe")   ? in_mapping(4096, MADV_WIPEONFORK, 6302)
           : !strcmp(mode, "block")  ? in_block()
           : !strcmp(mode, "big")    ? in_mapping(65ul << 20, MADV_DONTFORK, 6304)
                                     : 2;
    lose();
    scrub();
    return rc;
}
