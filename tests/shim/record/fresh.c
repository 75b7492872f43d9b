/*
 * fresh.c - blocks the shim keeps fresh (pend_*: a new block waits
 * in its thread's slots before it enters the table) must not show.  Each
 * mode prints lines the test compares with what a shim that inserted at
 * once would give.  A worker that has just allocated keeps its blocks
 * fresh: its thread frees nothing old, so it does not hold frees.
 *   cross   a worker allocates 3 blocks of 4242 B from fresh_site, hands
 *           them over and waits; main frees them (a free of another
 *           thread's fresh blocks): nothing unreachable, the live count
 *           back where it was, and a snapshot to argv[2] with no live block
 *           from fresh_site, no foreign free and balanced books;
 *   live    the worker keeps its 3 blocks and waits; main's snapshot to
 *           argv[2] has them live (another thread's fresh blocks are in
 *           every walk), and so does a fork's child's, in argv[3] (the
 *           child puts the gone thread's fresh blocks in the table);
 *   clear   main allocates 3 blocks and clears the traces at once: the
 *           traced size is 0 after the clear and after their frees, which
 *           count as foreign.
 *   keep    main keeps 5,000 blocks of 48 B from keep_site (far more
 *           pushed out of their slots alive than PEND_KEPT_OFF: it stops
 *           keeping blocks fresh, pend_keep_none), then makes and frees
 *           2,000 young blocks from young_site (fresh blocks on again),
 *           keeps 100 more and frees every other kept block: the traced
 *           bytes each block made and left (244800 and 122400), and a
 *           snapshot to argv[2] with 2,550 live blocks from keep_site.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "parked.h"

#define FRESH_N 3
#define FRESH_SIZE 4242

static void *fresh_blocks[FRESH_N];

__attribute__((noinline)) static void *fresh_site(void)
{
    return malloc(FRESH_SIZE);
}

/* The worker's job: FRESH_N blocks from fresh_site, kept fresh. */
static void fresh_job(void)
{
    for (int i = 0; i < FRESH_N; i++)
        fresh_blocks[i] = fresh_site();
}

static int fresh_cross(const char *path)
{
    size_t live_before = parked_start(fresh_job);
    for (int i = 0; i < FRESH_N; i++)
        free(fresh_blocks[i]);
    long unreachable = heapsnap_collect(NULL);
    size_t live = heapsnap_get_count(NULL, 0);
    int r = heapsnap_take_snapshot(path);
    printf("unreachable: %ld\n", unreachable);
    printf("live count unchanged: %d\n", live == live_before);
    printf("snapshot: %d\n", r);
    return 0;
}

static void fresh_child(const void *path)
{
    printf("child snapshot: %d\n", heapsnap_take_snapshot(path));
}

static int fresh_live(const char *path, const char *child_path)
{
    parked_start(fresh_job);
    int r = heapsnap_take_snapshot(path);
    printf("main snapshot: %d\n", r);
    parked_fork(fresh_child, child_path);
    return 0;
}

static int fresh_clear(void)
{
    size_t c0, c1, p;
    void *b[FRESH_N];
    for (int i = 0; i < FRESH_N; i++)
        b[i] = fresh_site();
    heapsnap_clear_traces();
    heapsnap_get_traced_memory(&c0, &p);
    for (int i = 0; i < FRESH_N; i++)
        free(b[i]);
    heapsnap_get_traced_memory(&c1, &p);
    printf("after clear: %zu\n", c0);
    printf("after frees: %zu\n", c1);
    return 0;
}

#define KEEP_N 5100
#define KEEP_SIZE 48
static void *keep_blocks[KEEP_N];

__attribute__((noinline)) static void *keep_site(void)
{
    return malloc(KEEP_SIZE);
}

__attribute__((noinline)) static void *young_site(size_t n)
{
    return malloc(n);
}

static int fresh_keep(const char *path)
{
    size_t c0, c1, c2, p;
    heapsnap_get_traced_memory(&c0, &p);
    for (int i = 0; i < 5000; i++)
        keep_blocks[i] = keep_site();
    for (int i = 0; i < 2000; i++) {
        void *y = young_site(16 + (size_t)i % 64);
        ((volatile char *)y)[0] = 1;
        free(y);
    }
    for (int i = 5000; i < KEEP_N; i++)
        keep_blocks[i] = keep_site();
    heapsnap_get_traced_memory(&c1, &p);
    for (int i = 0; i < KEEP_N; i += 2)
        free(keep_blocks[i]);
    heapsnap_get_traced_memory(&c2, &p);
    int r = heapsnap_take_snapshot(path);
    printf("kept: %zu\n", c1 - c0);
    printf("after frees: %zu\n", c2 - c0);
    printf("snapshot: %d\n", r);
    return 0;
}

int main(int argc, char **argv)
{
    if (!heapsnap_is_tracing || !heapsnap_is_tracing()) {
        printf("no shim\n");
        return 0;
    }
    if (argc == 3 && !strcmp(argv[1], "cross"))
        return fresh_cross(argv[2]);
    if (argc == 4 && !strcmp(argv[1], "live"))
        return fresh_live(argv[2], argv[3]);
    if (argc == 2 && !strcmp(argv[1], "clear"))
        return fresh_clear();
    if (argc == 3 && !strcmp(argv[1], "keep"))
        return fresh_keep(argv[2]);
    return 2;
}
