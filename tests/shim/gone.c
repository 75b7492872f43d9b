/*
 * gone.c - gone blocks (shim/pending.c): while the program has one thread,
 * a free of an old block goes to the real free at once and its table
 * entry leaves a few frees later.  Another thread may get the address back
 * meanwhile.  Here that thread is glibc's own, for a SIGEV_THREAD timer
 * (created inside libc, so the shim's pthread_create never sees it and
 * main keeps deferring).  Run with the tcache off and one arena
 * (GLIBC_TUNABLES in test_gone.sh), so a freed chunk is the next one of
 * its size that any thread gets.
 *   main frees 3 old blocks from gone_old and the callback allocates 3 of
 *   the same size from gone_cb: it gets their addresses, and its blocks
 *   are live (an insert of a gone address cancels the pending removal);
 *   main frees 1 old block, allocates 1 from gone_mine (the same address,
 *   kept fresh), and the callback frees it: gone_mine has nothing live
 *   (a free does not take a gone block's entry for the live one).
 * Then main frees enough old blocks to push every gone one out, and
 * writes a snapshot to argv[1].  Prints what the test compares.
 */
#include <heapsnap.h>
#include <semaphore.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <time.h>

#define GONE_SIZE 88 /* a fastbin, and a size glibc's own allocations avoid */
#define GONE_FILL 1000
#define GONE_N 3

static void *fill[GONE_FILL], *old[GONE_N], *cb[GONE_N], *mine;
static sem_t done;
static int step;

__attribute__((noinline)) static void *gone_old(void) { return malloc(GONE_SIZE); }
__attribute__((noinline)) static void *gone_fill(void) { return malloc(GONE_SIZE); }
__attribute__((noinline)) static void *gone_cb(void) { return malloc(GONE_SIZE); }
__attribute__((noinline)) static void *gone_mine(void) { return malloc(GONE_SIZE); }

static void gone_callback(union sigval v)
{
    (void)v;
    if (step == 0)
        for (int i = 0; i < GONE_N; i++)
            cb[i] = gone_cb();
    else
        free(mine);
    sem_post(&done);
}

static void gone_fire(timer_t t)
{
    struct itimerspec its = {.it_value = {0, 1000000}};
    timer_settime(t, 0, &its, NULL);
    sem_wait(&done);
    step++;
}

int main(int argc, char **argv)
{
    struct sigevent sev = {.sigev_notify = SIGEV_THREAD, .sigev_notify_function = gone_callback};
    timer_t t;
    if (argc != 2 || sem_init(&done, 0, 0) != 0 || timer_create(CLOCK_MONOTONIC, &sev, &t) != 0)
        return 2;
    free(malloc(1 << 20)); /* a peak none of the rest reaches: no settle at a new peak */
    for (int i = 0; i < 40; i++) /* young frees: main keeps fresh blocks, and defers */
        free(malloc(GONE_SIZE));
    for (int i = 0; i < GONE_N; i++)
        old[i] = gone_old();
    for (int i = 0; i < GONE_FILL; i++) /* old[] is no longer young nor fresh */
        fill[i] = gone_fill();

    for (int i = 0; i < GONE_N; i++)
        free(old[i]);
    gone_fire(t);
    int reused = 0;
    for (int i = 0; i < GONE_N; i++)
        reused += cb[GONE_N - 1 - i] == old[i];
    printf("callback got the gone addresses: %d\n", reused);

    free(fill[0]);
    mine = gone_mine();
    printf("main got its gone address: %d\n", mine == fill[0]);
    gone_fire(t);

    for (int i = 1; i <= 8; i++) /* every gone block leaves the table */
        free(fill[i]);
    printf("snapshot: %d\n", heapsnap_take_snapshot(argv[1]));
    return 0;
}
