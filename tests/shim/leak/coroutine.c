/*
 * coroutine.c - the leak check called from a coroutine that runs on a
 * stack of its own (mmap'd; makecontext/swapcontext).  main holds a
 * 6001-byte block only in a local when it switches to the coroutine; the
 * coroutine holds a 6002-byte block only in a local and drops a 6003-byte
 * one, then calls heapsnap_collect(argv[1]).  The coroutine's running
 * frame and the suspended thread stack are both roots: prints "collect 1"
 * (only 6003 unreachable).  Without the shim the coroutine runs memcheck's
 * VALGRIND_DO_LEAK_CHECK instead: valgrind 3.19 says "definitely lost:
 * 6,003 bytes in 1 blocks", 6001 and 6002 still reachable.
 */
#include <stdio.h>
#include <stdlib.h>
#include <sys/mman.h>
#include <ucontext.h>

#if __has_include(<valgrind/memcheck.h>)
#include <valgrind/memcheck.h>
#else
#define VALGRIND_DO_LEAK_CHECK
#endif

long heapsnap_collect(const char *path) __attribute__((weak));

#define NOINLINE __attribute__((noinline))
#define CO_SIZE (256 * 1024)

static const char *path;
static volatile long result = -9;
static ucontext_t main_ctx, co_ctx;

NOINLINE static void drop(void)
{
    void *volatile p = malloc(6003);
    p = NULL;
}

NOINLINE static void scrub(void)
{
    volatile char pad[8192];
    for (unsigned i = 0; i < sizeof pad; i++)
        pad[i] = 0;
}

static void co_main(void)
{
    void *volatile b = malloc(6002);
    drop();
    scrub();
    if (heapsnap_collect)
        result = heapsnap_collect(path);
    else
        VALGRIND_DO_LEAK_CHECK;
    (void)b;
    swapcontext(&co_ctx, &main_ctx);
}

NOINLINE static void hold_and_switch(void)
{
    void *volatile a = malloc(6001);
    swapcontext(&main_ctx, &co_ctx);
    (void)a;
}

int main(int argc, char **argv)
{
    path = argc > 1 ? argv[1] : NULL;
    void *stk = mmap(NULL, CO_SIZE, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
    if (stk == MAP_FAILED || getcontext(&co_ctx) != 0)
        return 2;
    co_ctx.uc_stack.ss_sp = stk;
    co_ctx.uc_stack.ss_size = CO_SIZE;
    co_ctx.uc_link = &main_ctx;
    makecontext(&co_ctx, co_main, 0);
    hold_and_switch();
    if (heapsnap_collect)
        printf("collect %ld\n", result);
    return 0;
}
