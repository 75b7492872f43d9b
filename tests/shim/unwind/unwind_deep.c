/* unwind_deep.c - built WITHOUT frame pointers for test_unwind_equiv.sh:
 * allocations at the bottom of a 200-frame mutual recursion (one side with
 * a variable-size alloca, so its CFA is rbp-based), in the main thread and
 * in a second thread, plus shallow ones.  Depths vary so that stacks longer
 * and shorter than HEAPSNAP_DEPTH are both recorded. */
#include <alloca.h>
#include <pthread.h>
#include <stdlib.h>

#define NOINLINE __attribute__((noinline))

void *volatile deep_keep[512];
static volatile int deep_sink;

NOINLINE static void *deep_odd(int d, int i);

NOINLINE static void *deep_even(int d, int i)
{
    if (d <= 0)
        return malloc(24 + (size_t)i);
    void *p = deep_odd(d - 1, i);
    deep_sink += d;
    return p;
}

NOINLINE static void *deep_odd(int d, int i)
{
    volatile char *frame = alloca((size_t)(d & 15) + 8); /* rbp-based CFA */
    frame[0] = (char)d;
    void *p = deep_even(d - 1, i);
    deep_sink += frame[0];
    return p;
}

NOINLINE static void deep_rounds(int base)
{
    static const int depth[] = {200, 3, 120, 250, 40};
    for (int i = 0; i < 40; i++)
        deep_keep[(base + i) & 511] = deep_even(depth[i % 5], i);
}

static void *deep_thread(void *arg)
{
    deep_rounds(256);
    return arg;
}

int main(void)
{
    pthread_t t;
    deep_rounds(0);
    if (pthread_create(&t, NULL, deep_thread, NULL) == 0)
        pthread_join(t, NULL);
    return 0;
}
