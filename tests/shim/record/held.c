/*
 * held.c - the frees the shim holds back (pend_*) must not show.
 * Each mode prints lines the test compares with what a shim that freed at
 * once would give.  A thread holds only frees of old blocks, and only while
 * most of its frees are of old blocks: held_age makes both so (3000
 * allocations, then their frees, nearly all of blocks old by then).
 *   peak    8 old 1000 B blocks each freed and replaced by a new one: the
 *           peak and the current size do not move, as tracemalloc's would
 *           not (a held block counted as live would raise the peak);
 *   thread  a worker frees 8 old 48 B blocks from held_site and then waits
 *           (its queue still holds 4): the leak check finds nothing unreachable,
 *           the live count has none of them, and a snapshot to argv[2]
 *           has no live block from held_site and balanced books;
 *   fork    the same worker, then fork: the child finds the same;
 *   watch   tracemalloc's traced memory in a thread that holds (the hooks'
 *           plain path): 20 x 200 B and then 100 x 8 B born after
 *           heapsnap_watch_start, the 20 freed: current 800, peak 4800;
 *   big     a freed old 100000 B block is reused by the next such allocation
 *           (an allocation of 64 KiB or more releases the held frees),
 *           printed as the same address or not - the same line without the
 *           shim.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "parked.h"

#define HELD_FILL 3000

/* Ages every block allocated before it out of the thread's young set and
 * makes the thread's frees mostly of old blocks; leaves nothing allocated. */
static void held_age(void)
{
    static void *fill[HELD_FILL];
    for (int i = 0; i < HELD_FILL; i++)
        fill[i] = malloc(16);
    for (int i = 0; i < HELD_FILL; i++)
        free(fill[i]);
}

__attribute__((noinline)) static void *held_site(void)
{
    return malloc(48);
}

/* The worker's job: 8 blocks from held_site, aged, then freed (its queue
 * keeps the last 4 of them). */
static void held_job(void)
{
    void *b[8];
    for (int i = 0; i < 8; i++)
        b[i] = held_site();
    held_age();
    for (int i = 0; i < 8; i++)
        free(b[i]);
}

/* Everything is measured before the first printf (stdout's buffer is a
 * live block of its own). */
static void held_report(const char *who, const char *path, size_t live_before)
{
    long unreachable = heapsnap_collect(NULL);
    size_t live = heapsnap_get_count(NULL, 0);
    int r = heapsnap_take_snapshot(path);
    printf("%s unreachable: %ld\n", who, unreachable);
    printf("%s live count unchanged: %d\n", who, live == live_before);
    if (live != live_before)
        printf("  (%zu before, %zu now)\n", live_before, live);
    printf("%s snapshot: %d\n", who, r);
}

struct held_child {
    const char *path;
    size_t live_before;
};

static void held_child(const void *arg)
{
    const struct held_child *c = arg;
    held_report("child", c->path, c->live_before);
}

static int held_peak(void)
{
    size_t c0, p0, c1, p1;
    void *old[8];
    for (int i = 0; i < 8; i++)
        old[i] = malloc(1000);
    held_age();
    heapsnap_reset_peak();
    heapsnap_get_traced_memory(&c0, &p0);
    for (int i = 0; i < 8; i++) {
        free(old[i]); /* held */
        old[i] = malloc(1000);
    }
    heapsnap_get_traced_memory(&c1, &p1);
    printf("current unchanged: %d\n", c1 == c0);
    printf("peak unchanged: %d\n", p1 == c0);
    for (int i = 0; i < 8; i++)
        free(old[i]);
    return 0;
}

static int held_watch(void)
{
    void *w[20], *f[100];
    size_t c, p;
    held_age(); /* the thread holds: no fresh blocks, the plain path */
    heapsnap_watch_start();
    for (int i = 0; i < 20; i++)
        w[i] = malloc(200);
    for (int i = 0; i < 100; i++)
        f[i] = malloc(8);
    for (int i = 0; i < 20; i++)
        free(w[i]); /* mostly old by now: held, released by the read */
    heapsnap_watch_memory(&c, &p);
    for (int i = 0; i < 100; i++)
        free(f[i]);
    heapsnap_watch_stop();
    printf("watched current: %zu\nwatched peak: %zu\n", c, p);
    return 0;
}

int main(int argc, char **argv)
{
    if (argc < 2)
        return 2;
    if (!strcmp(argv[1], "big")) {
        void *guard = malloc(100), *p = malloc(100000);
        held_age();
        free(p); /* old: held */
        void *q = malloc(100000);
        printf("reused: %d\n", p == q);
        free(q);
        free(guard);
        return 0;
    }
    if (!heapsnap_is_tracing) {
        printf("no shim\n");
        return 0;
    }
    if (!strcmp(argv[1], "peak"))
        return held_peak();
    if (!strcmp(argv[1], "watch"))
        return held_watch();
    if (argc < 3)
        return 2;
    size_t live_before = parked_start(held_job);
    if (!strcmp(argv[1], "thread")) {
        held_report("main", argv[2], live_before);
        return 0;
    }
    if (!strcmp(argv[1], "fork")) {
        struct held_child c = {argv[2], live_before};
        parked_fork(held_child, &c);
        return 0;
    }
    return 2;
}
