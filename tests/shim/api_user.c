/*
 * api_user.c - a program using heapsnap.h through its weak symbols.  Without
 * the shim it prints "no shim" and exits 0.  Under the shim:
 *   (default) keeps 10 x 1000 B from api_site, takes a snapshot to the
 *             HEAPSNAP_OUTPUT name and one to argv[1], checks traced memory,
 *             reset_peak and clear_traces, and prints what it saw;
 *   big N     keeps N x 16 B blocks and prints how long one snapshot to
 *             argv[3] took, in milliseconds, and the shim's memory before it.
 */
#include <heapsnap.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

static void *keep[16];

__attribute__((noinline)) static void api_site(void)
{
    for (int i = 0; i < 10; i++)
        keep[i] = malloc(1000);
}

static double now_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return ts.tv_sec * 1e3 + ts.tv_nsec / 1e6;
}

static int big(long n, const char *path)
{
    void **v = malloc((size_t)n * sizeof *v);
    for (long i = 0; i < n; i++)
        v[i] = malloc(16);
    size_t shim = heapsnap_get_tracemalloc_memory();
    double t0 = now_ms();
    int r = heapsnap_take_snapshot(path);
    printf("snapshot of %ld blocks: r=%d ms=%.0f shim=%zu\n", n, r, now_ms() - t0, shim);
    return r;
}

int main(int argc, char **argv)
{
    size_t c0, p0, c1, p1, c2, p2, c3;
    if (!heapsnap_is_tracing) {
        printf("no shim\n");
        return 0;
    }
    if (argc > 3 && !strcmp(argv[1], "big"))
        return big(atol(argv[2]), argv[3]) ? 1 : 0;
    printf("tracing %d\n", heapsnap_is_tracing());
    heapsnap_get_traced_memory(&c0, &p0);
    api_site();
    heapsnap_get_traced_memory(&c1, &p1);
    printf("grew by 10000: %d\n", c1 - c0 == 10000);
    printf("peak >= current: %d\n", p1 >= c1);
    printf("snapshot to OUTPUT: %d\n", heapsnap_take_snapshot(NULL));
    printf("snapshot to path: %d\n", heapsnap_take_snapshot(argc > 1 ? argv[1] : "api.hsnap"));
    for (int i = 0; i < 10; i++)
        free(keep[i]);
    heapsnap_get_traced_memory(&c2, &p2);
    printf("shrank by 10000: %d, peak kept: %d\n", c1 - c2 == 10000, p2 >= p1);
    heapsnap_reset_peak();
    heapsnap_get_traced_memory(&c2, &p2);
    printf("reset peak == current: %d\n", p2 == c2);
    heapsnap_clear_traces();
    heapsnap_get_traced_memory(&c3, NULL);
    printf("cleared: %d\n", c3 == 0);
    keep[0] = malloc(500);
    heapsnap_get_traced_memory(&c3, NULL);
    printf("after clear, one block: %d\n", c3 == 500);
    printf("shim memory > 0: %d\n", heapsnap_get_tracemalloc_memory() > 0);
    printf("snapshot to a bad path: %d\n", heapsnap_take_snapshot("/nonexistent/dir/x.hsnap"));
    return 0;
}
