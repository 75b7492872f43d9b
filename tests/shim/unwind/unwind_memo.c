/* unwind_memo.c - built WITHOUT frame pointers for test_unwind_equiv.sh:
 * stacks that share much of the previous allocation's stack, to test the
 * CFI walk's memo of its last walk (cfi_memo_*), which replays the frames
 * whose stack words did not change.
 *   - memo_common() is reached alternately through memo_site_a() and
 *     memo_site_b(), called through one pointer from one call instruction:
 *     memo_common's frame is at the same address with the same return
 *     address into it each time, only the word above it differs, and the
 *     frames above that (main's) are the same again;
 *   - a recursion whose depth changes every few allocations (its outer
 *     frames keep their addresses, the inner ones move);
 *   - both again in a second thread, which runs alongside the first. */
#include <pthread.h>
#include <stdlib.h>

#define NOINLINE __attribute__((noinline))

void *volatile memo_keep[1024];
static volatile int memo_sink;

NOINLINE static void *memo_common(size_t n)
{
    void *p = malloc(n);
    memo_sink += (int)n;
    return p;
}

NOINLINE static void *memo_site_a(size_t n)
{
    void *p = memo_common(n + 40);
    memo_sink += 1;
    return p;
}

NOINLINE static void *memo_site_b(size_t n)
{
    void *p = memo_common(n + 56);
    memo_sink += 2;
    return p;
}

NOINLINE static void *memo_down(int d, size_t n)
{
    if (d <= 0)
        return memo_common(n);
    void *p = memo_down(d - 1, n);
    memo_sink += d;
    return p;
}

NOINLINE static void memo_rounds(int base)
{
    static const int depth[] = {5, 5, 5, 9, 9, 3, 30, 30, 7, 7};
    void *(*volatile site[2])(size_t) = {memo_site_a, memo_site_b};
    for (int i = 0; i < 200; i++)
        memo_keep[(base + i) & 1023] = site[i & 1]((size_t)(i & 3));
    for (int i = 0; i < 200; i++)
        memo_keep[(base + 200 + i) & 1023] = memo_down(depth[i % 10], (size_t)depth[i % 10]);
}

static void *memo_thread(void *arg)
{
    memo_rounds(512);
    return arg;
}

int main(void)
{
    pthread_t t;
    if (pthread_create(&t, NULL, memo_thread, NULL) != 0)
        return 1;
    memo_rounds(0);
    pthread_join(t, NULL);
    return 0;
}
