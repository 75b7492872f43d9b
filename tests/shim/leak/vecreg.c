/*
 * vecreg.c - a pointer held only in a vector register of a thread the leak
 * check stops (LeakSanitizer's use_registers_extra case, and its ymm and
 * zmm cousins).  argv[1] is the register: xmm (the low half of xmm8), ymm
 * (the upper half of ymm9: AVX), zmm (zmm17, which only AVX-512 has);
 * argv[2] the snapshot path.  The thread allocates a 9001-byte block,
 * scrubs its dead stack, moves the pointer from a global into the register
 * (clearing the global) and spins without a call; main then runs
 * heapsnap_collect and prints "collect N" (N unreachable blocks: 0 when
 * the register was scanned), and the thread frees the block from the
 * register.  Prints "skip <why>" when the CPU lacks the register.
 */
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define NOINLINE __attribute__((noinline))

long heapsnap_collect(const char *path) __attribute__((weak));

static void *volatile g_ptr;
static atomic_int ready, done;
static int mode; /* 0 xmm, 1 ymm, 2 zmm */

NOINLINE static void alloc(void)
{
    g_ptr = malloc(9001);
}

NOINLINE static void scrub(void)
{
    volatile char pad[16384];
    for (unsigned i = 0; i < sizeof pad; i++)
        pad[i] = 0;
}

/* g_ptr into the register, g_ptr cleared; no call until it is taken back. */
static void *holder(void *arg)
{
    alloc();
    scrub();
    if (mode == 0)
        __asm__ volatile("movq %0, %%xmm8" : : "m"(g_ptr) : "xmm8");
    else if (mode == 1)
        __asm__ volatile("vmovq %0, %%xmm0\n\t"
                         "vinsertf128 $1, %%xmm0, %%ymm9, %%ymm9\n\t"
                         "vpxor %%xmm0, %%xmm0, %%xmm0"
                         : : "m"(g_ptr) : "xmm0", "xmm9");
    else
        /* no clobber: the compiler cannot name it without -mavx512f,
         * and without it never uses it either */
        __asm__ volatile("vmovq %0, %%xmm17" : : "m"(g_ptr));
    g_ptr = NULL;
    atomic_store(&ready, 1);
    while (!atomic_load(&done))
        __asm__ volatile("pause");
    if (mode == 0)
        __asm__ volatile("movq %%xmm8, %0" : "=m"(g_ptr));
    else if (mode == 1)
        __asm__ volatile("vextractf128 $1, %%ymm9, %%xmm0\n\t"
                         "vmovq %%xmm0, %0\n\t"
                         "vzeroupper"
                         : "=m"(g_ptr) : : "xmm0");
    else
        __asm__ volatile("vmovq %%xmm17, %0" : "=m"(g_ptr));
    free(g_ptr);
    return arg;
}

int main(int argc, char **argv)
{
    pthread_t t;
    if (!heapsnap_collect) {
        puts("no shim");
        return 0;
    }
    if (argc < 3)
        return 2;
    mode = !strcmp(argv[1], "ymm") ? 1 : !strcmp(argv[1], "zmm") ? 2 : 0;
    __builtin_cpu_init();
    if (mode == 1 && !__builtin_cpu_supports("avx")) {
        puts("skip the CPU (or the kernel) has no AVX");
        return 0;
    }
    if (mode == 2 && !__builtin_cpu_supports("avx512f")) {
        puts("skip the CPU (or the kernel) has no AVX-512");
        return 0;
    }
    if (pthread_create(&t, NULL, holder, NULL) != 0)
        return 1;
    while (!atomic_load(&ready))
        ;
    printf("collect %ld\n", heapsnap_collect(argv[2]));
    atomic_store(&done, 1);
    pthread_join(t, NULL);
    return 0;
}
