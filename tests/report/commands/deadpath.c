/*
 * deadpath.c - one site reached by stacks of which some hold nothing at exit
 * (tests/report/commands/test_top_counts.sh): a site's count must not depend on
 * which of its stacks still hold a block.
 *   line 17  make       100 x malloc(32) kept (from keep_some)
 *                    +  300 x malloc(16) freed at once (from churn): 100 live,
 *                       400 allocations, as two tracebacks (one with nothing live)
 *   line 19  make_gone   50 x malloc(8), all freed: only the allocation sorts list it
 * No stdio: a printf buffer would be one more block.
 */
#include <stdlib.h>

static void *keep[100];

__attribute__((noinline)) static void *make(size_t n)
{
    return malloc(n);
}
__attribute__((noinline)) static void *make_gone(size_t n) { return malloc(n); }

__attribute__((noinline)) static void keep_some(int i) { keep[i] = make(32); }
__attribute__((noinline)) static void churn(void)
{
    for (int i = 0; i < 300; i++)
        free(make(16));
    for (int i = 0; i < 50; i++)
        free(make_gone(8));
}

int main(void)
{
    for (int i = 0; i < 100; i++)
        keep_some(i);
    churn();
    return 0;
}
