/* mapped_seed.c - the program of a fuzz seed (corpus/real_mapped.hsnap,
 * tests/fuzz/mkcorpus.c says how it is made): a range mapped and
 * two of its pages touched beside 2,100 kept blocks from 200 stacks, so
 * that the shim compresses STATS and one trace is of the mmap kind. */
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>

static void *keep[2100];

static __attribute__((noinline)) void grow(int depth, int i)
{
    if (depth > 0) {
        grow(depth - 1, i);
        __asm__ volatile("" ::: "memory"); /* not a tail call: a frame each */
        return;
    }
    keep[i] = malloc(32 + i % 8);
}

int main(void)
{
    char *m = mmap(NULL, 1 << 20, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
    if (m == MAP_FAILED)
        return 1;
    memset(m, 1, 8192);
    for (int i = 0; i < 2100; i++)
        grow(i % 200, i);
    free(keep[3]);
    return m[0] == 1 && keep[0] ? 0 : 2;
}
