/* churnthread.c - a native thread for test_python_typed_early.sh:
 * churn_start allocates 20,000 blocks of varied sizes (live when the exit
 * snapshot's leak check forks, so in its BLOCKS), then starts a thread
 * that watches for a child of the calling thread (/proc/self/task/TID/
 * children: the check's fork, which the exit snapshot makes on that
 * thread) and frees them all at once, so the live blocks move while the
 * parent's objects' pass runs; then it sleeps until the process ends. */
#include <fcntl.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/syscall.h>
#include <unistd.h>

#define CHURN_BLOCKS 20000

static char path[64];
static void *kept[CHURN_BLOCKS];

static void *churn(void *arg)
{
    char buf[64];
    (void)arg;
    for (;;) {
        int fd = open(path, O_RDONLY);
        ssize_t n = fd >= 0 ? read(fd, buf, sizeof buf) : 0;
        if (fd >= 0)
            close(fd);
        if (n > 0)
            break;
        usleep(20);
    }
    for (unsigned i = 0; i < CHURN_BLOCKS; i++)
        free(kept[i]);
    for (;;)
        pause();
    return NULL;
}

void churn_start(void)
{
    pthread_t t;
    for (unsigned i = 0; i < CHURN_BLOCKS; i++)
        kept[i] = malloc(16 + (i * 37) % 400);
    snprintf(path, sizeof path, "/proc/self/task/%ld/children", (long)syscall(SYS_gettid));
    if (pthread_create(&t, NULL, churn, NULL) == 0)
        pthread_detach(t);
}
