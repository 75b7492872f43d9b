/*
 * manysites.c - test_state_peak's fixture: a program of many traces.  It
 * keeps one block from each of N call stacks (1 << LEVELS at most, every
 * one LEVELS frames deep: bit k of a stack's number picks one of two call
 * sites at level k), prints "ready" and waits for its stdin to close, so
 * that its state file holds still while it is read.
 * Usage: manysites N
 */
#include <stdio.h>
#include <stdlib.h>

#define LEVELS 16

static void *keep[1 << LEVELS];

__attribute__((noinline)) static void *manysites_level(int level, unsigned path)
{
    void *p;
    if (level == LEVELS)
        return malloc(16 + path % 64);
    if (path >> level & 1) {
        p = manysites_level(level + 1, path);
        __asm__ volatile("nop" ::: "memory");
    } else {
        p = manysites_level(level + 1, path);
        __asm__ volatile("" ::: "memory");
    }
    return p;
}

int main(int argc, char **argv)
{
    unsigned n = argc > 1 ? (unsigned)atoi(argv[1]) : 0;
    if (n > 1u << LEVELS)
        n = 1u << LEVELS;
    for (unsigned i = 0; i < n; i++)
        keep[i] = manysites_level(0, i);
    printf("ready\n");
    fflush(stdout);
    while (getchar() != EOF)
        ;
    return keep[0] == NULL;
}
