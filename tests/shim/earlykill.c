/*
 * earlykill.c - a 2-thread program for test_killstate_early.sh to kill in
 * its first 0.3 s: both threads keep allocating blocks they keep, from
 * 1,024 call paths (ten levels of two functions), so new traces appear
 * and the peak rises while the state file's first documents are made.
 * It runs until killed (5 s at most).
 */
#include <pthread.h>
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

int main(void)
{
    pthread_t t;
    alarm(5);
    pthread_create(&t, NULL, grow, (void *)1);
    grow((void *)0);
    pthread_join(t, NULL);
    return 0;
}
