/*
 * alloc_all.c - uses every allocation function the shim interposes and
 * prints what a program can observe (results, errno, alignment), so a run
 * with and without the shim must print the same.  Leaves known blocks live:
 *   keep_malloc   1 x 1000 B     keep_calloc   1 x 2000 B (100 x 20)
 *   keep_realloc  1 x 3000 B     keep_rarray   1 x 4000 B (400 x 10)
 *   keep_memalign 1 x 5000 B     keep_pmalign  1 x 6000 B
 *   keep_aligned  1 x 7168 B     keep_valloc   1 x 8000 B
 *   keep_pvalloc  1 x 9000 B     loop_site    10 x 111 B
 * Exits with status 5.
 */
#include <errno.h>
#include <malloc.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static void *live[32];
static int nlive;

static void check(const char *what, void *p, size_t align)
{
    printf("%s: %s aligned=%d\n", what, p ? "ok" : "NULL",
           p ? (int)((uintptr_t)p % align == 0) : -1);
}

__attribute__((noinline)) static void keep_malloc(void) { live[nlive++] = malloc(1000); }
__attribute__((noinline)) static void keep_calloc(void) { live[nlive++] = calloc(100, 20); }
__attribute__((noinline)) static void keep_realloc(void)
{
    char *p = malloc(10);
    strcpy(p, "123456789");
    p = realloc(p, 3000);
    printf("realloc keeps data: %d\n", strcmp(p, "123456789") == 0);
    live[nlive++] = p;
}
__attribute__((noinline)) static void keep_rarray(void) { live[nlive++] = reallocarray(NULL, 400, 10); }
__attribute__((noinline)) static void keep_memalign(void)
{
    void *p = memalign(64, 5000);
    check("memalign", p, 64);
    live[nlive++] = p;
}
__attribute__((noinline)) static void keep_pmalign(void)
{
    void *p = NULL;
    int r = posix_memalign(&p, 256, 6000);
    printf("posix_memalign: %d\n", r);
    check("posix_memalign", p, 256);
    live[nlive++] = p;
}
__attribute__((noinline)) static void keep_aligned(void)
{
    void *p = aligned_alloc(1024, 7168);
    check("aligned_alloc", p, 1024);
    live[nlive++] = p;
}
__attribute__((noinline)) static void keep_valloc(void)
{
    void *p = valloc(8000);
    check("valloc", p, 4096);
    live[nlive++] = p;
}
__attribute__((noinline)) static void keep_pvalloc(void)
{
    void *p = pvalloc(9000);
    check("pvalloc", p, 4096);
    live[nlive++] = p;
}
__attribute__((noinline)) static void loop_site(void)
{
    for (int i = 0; i < 10; i++)
        live[nlive++] = malloc(111);
}

static volatile size_t big = (size_t)1 << 40, half = SIZE_MAX / 2; /* hide from -Walloc-size */

static void edge_cases(void)
{
    errno = 0;
    void *p = malloc((size_t)1 << 62);
    printf("huge malloc: %s errno=%d\n", p ? "ok" : "NULL", errno);
    errno = 0;
    p = calloc(big, big);
    printf("overflowing calloc: %s errno=%d\n", p ? "ok" : "NULL", errno);
    errno = 0;
    p = reallocarray(NULL, half, 3);
    printf("overflowing reallocarray: %s errno=%d\n", p ? "ok" : "NULL", errno);
    void *q = NULL;
    printf("posix_memalign bad alignment: %d\n", posix_memalign(&q, 3, 10));
    char *r = malloc(50);
    errno = 0;
    void *r2 = realloc(r, (size_t)1 << 62);
    printf("failed realloc: %s errno=%d old kept=%d\n", r2 ? "ok" : "NULL", errno, r2 == NULL);
    free(r);
    r = malloc(20);
    printf("realloc(p, 0): %s\n", realloc(r, 0) ? "ptr" : "NULL");
    r = realloc(NULL, 30);
    printf("realloc(NULL, 30): %s usable>=30: %d\n", r ? "ok" : "NULL", malloc_usable_size(r) >= 30);
    free(r);
    free(NULL);
    printf("malloc_usable_size(NULL): %zu\n", malloc_usable_size(NULL));
    for (int i = 0; i < 1000; i++)
        free(malloc((size_t)i)); /* short-lived: nothing left */
}

int main(void)
{
    keep_malloc();
    keep_calloc();
    keep_realloc();
    keep_rarray();
    keep_memalign();
    keep_pmalign();
    keep_aligned();
    keep_valloc();
    keep_pvalloc();
    loop_site();
    edge_cases();
    printf("live blocks: %d\n", nlive);
    fflush(stdout);
    return 5;
}
