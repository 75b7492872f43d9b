/*
 * earlykill.c - a 2-thread program for test_killstate_early.sh to kill in
 * its first 0.3 s: both threads keep allocating blocks they keep, from
 * 1,024 call paths (ten levels of two functions), so new traces appear
 * and the peak rises while the state file's first documents are made.
 * It runs until killed (5 s at most).
 *   earlykill fork N (test_state_bounds.sh): one block from each of 2^N
 * call paths, then a fork whose child inherits those traces and keeps
 * allocating from one site until killed (10 s at most); the parent
 * waits for it.  The child's state file takes every inherited stack at
 * its first heartbeat.
 */
#include <pthread.h>
#include <sys/wait.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

static void *leaf(unsigned bits, int level);

__attribute__((noinline)) static void *path_a(unsigned bits, int level)
{
    void *p = leaf(bits >> 1, level - 1);
    __asm__ volatile("" ::: "memory"); /* not a tail call: a frame of its own */
    return p;
}

__attribute__((noinline)) static void *path_b(unsigned bits, int level)
{
    void *p = leaf(bits >> 1, level - 1);
    __asm__ volatile("" ::: "memory");
    return p;
}

__attribute__((noinline)) static void *leaf(unsigned bits, int level)
{
    if (level == 0) {
        void *p = malloc(48 + (bits & 7) * 16);
        if (p)
            memset(p, 1, 48);
        return p;
    }
    return (bits & 1 ? path_a : path_b)(bits, level);
}

static void *grow(void *arg)
{
    void **keep = calloc(100000, sizeof *keep);
    struct timespec pause = {0, 1000};
    for (unsigned i = 0; keep && i < 100000; i++) {
        keep[i] = leaf(i * 2 + (unsigned)(uintptr_t)arg, 16);
        if (i % 64 == 0)
            nanosleep(&pause, NULL);
    }
    return keep;
}

static int fork_after_paths(int levels)
{
    for (unsigned i = 0; i < 1u << levels; i++)
        leaf(i, levels);
    pid_t k = fork();
    if (k == 0) {
        for (int i = 0; i < 1000; i++) {
            void *volatile q = malloc(64);
            free(q);
            usleep(10000);
        }
        _exit(0);
    }
    if (k > 0)
        waitpid(k, NULL, 0);
    return 0;
}

int main(int argc, char **argv)
{
    pthread_t t;
    if (argc > 2 && !strcmp(argv[1], "fork"))
        return fork_after_paths(atoi(argv[2]));
    alarm(5);
    pthread_create(&t, NULL, grow, (void *)1);
    grow((void *)0);
    pthread_join(t, NULL);
    return 0;
}
