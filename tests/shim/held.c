/*
 * held.c - the frees the shim holds back (shim/pending.c) must not show.
 * Each mode prints lines the test compares with what a shim that freed at
 * once would give:
 *   peak    free-then-allocate of 1000 B blocks: current and peak move by
 *           exactly one block, as tracemalloc's would;
 *   thread  a worker frees 8 x 48 B from held_site and then waits (its queue
 *           still holds some): the leak check finds nothing unreachable,
 *           the live count has none of them, and a snapshot to argv[2]
 *           has no live block from held_site and balanced books;
 *   fork    the same worker, then fork: the child finds the same;
 *   big     a freed 100000 B block is reused by the next such allocation
 *           (an allocation of 64 KiB or more releases the held frees),
 *           printed as the same address or not - the same line without the
 *           shim.
 */
#include <heapsnap.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

static pthread_mutex_t held_mu = PTHREAD_MUTEX_INITIALIZER;
static pthread_cond_t held_cv = PTHREAD_COND_INITIALIZER;
static int held_go, held_freed;

__attribute__((noinline)) static void *held_site(void)
{
    return malloc(48);
}

static void *held_worker(void *arg)
{
    void *b[8];
    (void)arg;
    pthread_mutex_lock(&held_mu);
    while (!held_go)
        pthread_cond_wait(&held_cv, &held_mu);
    pthread_mutex_unlock(&held_mu);
    for (int i = 0; i < 8; i++)
        b[i] = held_site();
    for (int i = 0; i < 8; i++)
        free(b[i]);
    pthread_mutex_lock(&held_mu);
    held_freed = 1;
    pthread_cond_broadcast(&held_cv);
    pthread_mutex_unlock(&held_mu);
    for (;;)
        pause(); /* keeps its queue: never ends, never frees again */
    return NULL;
}

/* The worker exists before live_before is counted (its thread's own blocks
 * are in the count); then it allocates and frees. */
static size_t held_start_worker(void)
{
    pthread_t t;
    pthread_create(&t, NULL, held_worker, NULL);
    size_t live_before = heapsnap_get_count(NULL, 0);
    pthread_mutex_lock(&held_mu);
    held_go = 1;
    pthread_cond_broadcast(&held_cv);
    while (!held_freed)
        pthread_cond_wait(&held_cv, &held_mu);
    pthread_mutex_unlock(&held_mu);
    return live_before;
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

static int held_peak(void)
{
    size_t c0, p0, c1, p1;
    void *x = malloc(1000);
    free(x); /* a held free from before the reset */
    heapsnap_reset_peak();
    heapsnap_get_traced_memory(&c0, &p0);
    void *p = malloc(1000);
    free(p);
    for (int i = 0; i < 100; i++) {
        void *q = malloc(1000);
        free(q);
    }
    void *keep = malloc(1000);
    heapsnap_get_traced_memory(&c1, &p1);
    printf("current grew by one block: %d\n", c1 - c0 == 1000);
    printf("peak grew by one block: %d\n", p1 - c0 == 1000);
    free(keep);
    return 0;
}

int main(int argc, char **argv)
{
    if (argc < 2)
        return 2;
    if (!strcmp(argv[1], "big")) {
        void *guard = malloc(100), *p = malloc(100000);
        free(p);
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
    if (argc < 3)
        return 2;
    size_t live_before = held_start_worker();
    if (!strcmp(argv[1], "thread")) {
        held_report("main", argv[2], live_before);
        return 0;
    }
    if (!strcmp(argv[1], "fork")) {
        fflush(stdout);
        pid_t pid = fork();
        if (pid == 0) {
            held_report("child", argv[2], live_before);
            fflush(stdout);
            _exit(0);
        }
        int st;
        waitpid(pid, &st, 0);
        printf("child status: %d\n", WIFEXITED(st) ? WEXITSTATUS(st) : -1);
        return 0;
    }
    return 2;
}
