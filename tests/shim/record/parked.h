/*
 * parked.h - the worker thread of the pending.c fixtures (held.c, fresh.c):
 * it exists before the caller counts the live blocks (its thread's own
 * blocks are in the count), then runs its job once and parks for good -
 * it never ends, allocates or frees again, so whatever its queue holds
 * stays there.  parked_fork runs a report in a fork's child, where the
 * worker is gone.
 */
#include <heapsnap.h>
#include <pthread.h>
#include <stdio.h>
#include <sys/wait.h>
#include <unistd.h>

static pthread_mutex_t parked_mu = PTHREAD_MUTEX_INITIALIZER;
static pthread_cond_t parked_cv = PTHREAD_COND_INITIALIZER;
static int parked_go, parked_done;
static void (*parked_job)(void);

static void parked_set(int *flag)
{
    pthread_mutex_lock(&parked_mu);
    *flag = 1;
    pthread_cond_broadcast(&parked_cv);
    pthread_mutex_unlock(&parked_mu);
}

static void parked_wait(const int *flag)
{
    pthread_mutex_lock(&parked_mu);
    while (!*flag)
        pthread_cond_wait(&parked_cv, &parked_mu);
    pthread_mutex_unlock(&parked_mu);
}

static void *parked_main(void *arg)
{
    (void)arg;
    parked_wait(&parked_go);
    parked_job();
    parked_set(&parked_done);
    for (;;)
        pause();
    return NULL;
}

/* Starts the worker, counts the live blocks, lets it run job and waits
 * until it has; returns the count. */
static size_t parked_start(void (*job)(void))
{
    pthread_t t;
    parked_job = job;
    pthread_create(&t, NULL, parked_main, NULL);
    size_t live_before = heapsnap_get_count(NULL, 0);
    parked_set(&parked_go);
    parked_wait(&parked_done);
    return live_before;
}

/* Forks; the child runs report(arg) and exits; prints the child's status. */
static void parked_fork(void (*report)(const void *), const void *arg)
{
    fflush(stdout);
    pid_t pid = fork();
    if (pid == 0) {
        report(arg);
        fflush(stdout);
        _exit(0);
    }
    int st;
    waitpid(pid, &st, 0);
    printf("child status: %d\n", WIFEXITED(st) ? WEXITSTATUS(st) : -1);
}
