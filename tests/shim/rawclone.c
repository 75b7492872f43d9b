/*
 * rawclone.c - children made by the raw clone and clone3 system calls,
 * without CLONE_VM, so that no fork handler runs in them, from a parent
 * whose other threads allocate and free without pause: a shim lock another
 * thread held at the clone is never released in the child.
 *   rawclone clone|clone3 N   N children in turn; each allocates, frees,
 *                             then calls exit(7); the parent checks the
 *                             status of each and prints "done N"
 * Exit status 0 when every child exited 7, 1 otherwise, 77 when the kernel
 * has no clone3 (ENOSYS).
 */
#define _GNU_SOURCE
#include <errno.h>
#include <linux/sched.h>
#include <pthread.h>
#include <signal.h>
#include <stdatomic.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

#define NTHREADS 4

static atomic_int stop;

static void *hammer(void *arg)
{
    void *keep[64] = {0};
    unsigned k = (unsigned)(uintptr_t)arg;
    while (!atomic_load(&stop)) {
        k = k * 1103515245u + 12345u;
        unsigned i = (k >> 8) % 64;
        free(keep[i]);
        keep[i] = malloc(16 + (k >> 20) % 2000);
    }
    for (int i = 0; i < 64; i++)
        free(keep[i]);
    return NULL;
}

static long child_of(int three)
{
    if (!three)
        return syscall(SYS_clone, SIGCHLD, 0, NULL, NULL, 0);
#ifdef SYS_clone3
    struct clone_args ca;
    memset(&ca, 0, sizeof ca);
    ca.exit_signal = SIGCHLD;
    return syscall(SYS_clone3, &ca, sizeof ca);
#else
    errno = ENOSYS;
    return -1;
#endif
}

int main(int argc, char **argv)
{
    pthread_t t[NTHREADS];
    if (argc != 3)
        return 2;
    int three = !strcmp(argv[1], "clone3"), n = atoi(argv[2]), bad = 0;
    for (int i = 0; i < NTHREADS; i++)
        pthread_create(&t[i], NULL, hammer, (void *)(uintptr_t)(i + 1));
    for (int i = 0; i < n; i++) {
        long pid = child_of(three);
        if (pid < 0 && errno == ENOSYS) {
            atomic_store(&stop, 1);
            return 77;
        }
        if (pid == 0) {
            for (int j = 0; j < 100; j++)
                free(malloc(100 + j));
            exit(7);
        }
        int status;
        if (pid < 0 || waitpid((pid_t)pid, &status, 0) != pid || !WIFEXITED(status) ||
            WEXITSTATUS(status) != 7)
            bad++;
    }
    atomic_store(&stop, 1);
    for (int i = 0; i < NTHREADS; i++)
        pthread_join(t[i], NULL);
    printf("done %d\n", n - bad);
    return bad != 0;
}
