/*
 * fresh.c - blocks the shim keeps fresh (shim/pending.c: a new block waits
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
 */
#include <heapsnap.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#define FRESH_N 3
#define FRESH_SIZE 4242

static pthread_mutex_t fresh_mu = PTHREAD_MUTEX_INITIALIZER;
static pthread_cond_t fresh_cv = PTHREAD_COND_INITIALIZER;
static int fresh_go, fresh_done;
static void *fresh_blocks[FRESH_N];

__attribute__((noinline)) static void *fresh_site(void)
{
    return malloc(FRESH_SIZE);
}

static void fresh_signal(int *flag)
{
    pthread_mutex_lock(&fresh_mu);
    *flag = 1;
    pthread_cond_broadcast(&fresh_cv);
    pthread_mutex_unlock(&fresh_mu);
}

static void fresh_wait(const int *flag)
{
    pthread_mutex_lock(&fresh_mu);
    while (!*flag)
        pthread_cond_wait(&fresh_cv, &fresh_mu);
    pthread_mutex_unlock(&fresh_mu);
}

static void *fresh_worker(void *arg)
{
    (void)arg;
    fresh_wait(&fresh_go);
    for (int i = 0; i < FRESH_N; i++)
        fresh_blocks[i] = fresh_site();
    fresh_signal(&fresh_done);
    for (;;)
        pause(); /* keeps its slots: never ends, never allocates again */
    return NULL;
}

/* The worker exists before live_before is counted (its thread's own
 * blocks are in the count); then it allocates. */
static size_t fresh_start_worker(void)
{
    pthread_t t;
    pthread_create(&t, NULL, fresh_worker, NULL);
    size_t live_before = heapsnap_get_count(NULL, 0);
    fresh_signal(&fresh_go);
    fresh_wait(&fresh_done);
    return live_before;
}

static int fresh_cross(const char *path)
{
    size_t live_before = fresh_start_worker();
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

static int fresh_live(const char *path, const char *child_path)
{
    fresh_start_worker();
    int r = heapsnap_take_snapshot(path);
    printf("main snapshot: %d\n", r);
    fflush(stdout);
    pid_t pid = fork();
    if (pid == 0) {
        r = heapsnap_take_snapshot(child_path);
        printf("child snapshot: %d\n", r);
        fflush(stdout);
        _exit(0);
    }
    int st;
    waitpid(pid, &st, 0);
    printf("child status: %d\n", WIFEXITED(st) ? WEXITSTATUS(st) : -1);
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
    return 2;
}
