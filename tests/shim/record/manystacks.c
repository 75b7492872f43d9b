/* manystacks.c - 600 distinct allocation stacks (recursion depth 0..599
 * below one call site), each visited 10 times in rounds, so the per-thread
 * trace cache (256 slots) is evicted between visits and interning must find
 * the stack already stored: the snapshot holds each stack once. */
#include <stdlib.h>

static void *volatile sink;

__attribute__((noinline)) static void descend(int k)
{
    if (k == 0) {
        free(sink);
        sink = malloc(32);
        return;
    }
    descend(k - 1);
    __asm__ volatile("" ::: "memory"); /* no tail call: each depth is a frame */
}

int main(void)
{
    for (int round = 0; round < 10; round++)
        for (int k = 0; k < 600; k++)
            descend(k % 40 + 40 * (k / 40)); /* depths 0..599, all distinct */
    free(sink);
    return 0;
}
