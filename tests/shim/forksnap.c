/* forksnap.c - fork while snapshots are taken: THREADS threads allocate and
 * free, one thread forks FORKS times (each child allocates and leaves through
 * _exit, or execs /bin/true when the third argument is "exec"), and one
 * thread sends the process SIG every 2 ms so that the shim's helper thread
 * writes a snapshot while the forks happen.
 * Usage: forksnap SIG FORKS [exec]; prints "done FORKS" and exits 0. */
#include <pthread.h>
#include <signal.h>
#include <stdatomic.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#define THREADS 4

static atomic_int stop;
static int sig, forks, use_exec;

static void *churn(void *arg)
{
    void *slot[64] = {0};
    unsigned r = (unsigned)(uintptr_t)arg * 2654435761u;
    while (!atomic_load(&stop)) {
        r = r * 1103515245u + 12345u;
        unsigned i = (r >> 8) % 64;
        free(slot[i]);
        slot[i] = malloc(16 + (r >> 16) % 512);
    }
    for (unsigned i = 0; i < 64; i++)
        free(slot[i]);
    return NULL;
}

static void *signaller(void *arg)
{
    struct timespec ts = {0, 2000000};
    while (!atomic_load(&stop)) {
        kill(getpid(), sig);
        nanosleep(&ts, NULL);
    }
    return NULL;
}

static void fork_once(void)
{
    pid_t pid = fork();
    if (pid == 0) {
        char *p = malloc(100);
        if (use_exec)
            execl("/bin/true", "true", (char *)NULL);
        _exit(p ? 0 : 1);
    }
    if (pid > 0)
        waitpid(pid, NULL, 0);
}

int main(int argc, char **argv)
{
    if (argc < 3)
        return 2;
    sig = atoi(argv[1]);
    forks = atoi(argv[2]);
    use_exec = argc > 3 && !strcmp(argv[3], "exec");
    pthread_t t[THREADS + 1];
    for (int i = 0; i < THREADS; i++)
        pthread_create(&t[i], NULL, churn, (void *)(uintptr_t)(i + 1));
    pthread_create(&t[THREADS], NULL, signaller, NULL);
    for (int i = 0; i < forks; i++)
        fork_once();
    atomic_store(&stop, 1);
    for (int i = 0; i <= THREADS; i++)
        pthread_join(t[i], NULL);
    printf("done %d\n", forks);
    return 0;
}
