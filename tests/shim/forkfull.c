/*
 * forkfull.c - for test_state_bounds.sh: a parent that allocates one block
 * from each of 2^N call paths (N levels of two functions), then forks a
 * child that inherits those traces and keeps allocating from one site
 * until killed (10 s at most); the parent waits for it.  The child's state
 * file must take every inherited stack at its first heartbeat.
 */
#include <stdlib.h>
#include <sys/wait.h>
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

static void *leaf(unsigned bits, int level)
{
    if (!level)
        return malloc(32);
    return bits & 1 ? path_a(bits, level) : path_b(bits, level);
}

int main(int argc, char **argv)
{
    int levels = argc > 1 ? atoi(argv[1]) : 15;
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
