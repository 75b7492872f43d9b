/*
 * snaptraces.c - what writing TRACES costs the process in memory: one
 * block from each of 2^14 distinct stacks 64 frames deep (50 common
 * frames, then 14 levels that each go through one of two call sites), so
 * TRACES holds ~8.5 MB of frames; then the resident set's high-water mark
 * is reset (/proc/self/clear_refs) and one snapshot is written to PATH.
 * Prints "traces=N transient=B": B bytes above the resident set before
 * the call at its high-water mark during it.
 * Usage: snaptraces PATH
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "heapsnap.h"

#define LEVELS 14
#define COMMON 50

static void *blocks[1 << LEVELS];

static long status_kb(const char *key)
{
    char line[256];
    long v = 0;
    FILE *f = fopen("/proc/self/status", "r");
    while (f && fgets(line, sizeof line, f))
        if (!strncmp(line, key, strlen(key)))
            v = atol(line + strlen(key));
    if (f)
        fclose(f);
    return v;
}

static void branch(unsigned k, int level, unsigned path);

__attribute__((noinline)) static void left(unsigned k, int level, unsigned path)
{
    branch(k, level, path << 1);
    __asm__ volatile("" ::: "memory"); /* no tail call */
}

__attribute__((noinline)) static void right(unsigned k, int level, unsigned path)
{
    branch(k, level, path << 1 | 1);
    __asm__ volatile("" ::: "memory");
}

__attribute__((noinline)) static void branch(unsigned k, int level, unsigned path)
{
    if (level == LEVELS) {
        blocks[path] = malloc(16);
        return;
    }
    if (k >> level & 1)
        right(k, level + 1, path);
    else
        left(k, level + 1, path);
    __asm__ volatile("" ::: "memory");
}

__attribute__((noinline)) static void common(unsigned k, int n)
{
    if (n == 0)
        branch(k, 0, 0);
    else
        common(k, n - 1);
    __asm__ volatile("" ::: "memory");
}

int main(int argc, char **argv)
{
    if (argc != 2)
        return 2;
    for (unsigned k = 0; k < 1u << LEVELS; k++)
        common(k, COMMON);
    FILE *f = fopen("/proc/self/clear_refs", "w");
    if (!f || fputs("5", f) < 0 || fclose(f) != 0)
        return 3;
    long rss = status_kb("VmRSS:");
    if (heapsnap_take_snapshot(argv[1]) != 0)
        return 1;
    long hwm = status_kb("VmHWM:");
    printf("traces=%u transient=%ld\n", 1u << LEVELS, (hwm - rss) * 1024);
    for (unsigned k = 0; k < 1u << LEVELS; k++)
        free(blocks[k]);
    return 0;
}
