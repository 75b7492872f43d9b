/*
 * snaptraces.c - what writing a snapshot of many stacks costs in memory:
 * 2^LEVELS distinct allocation stacks (at each level one of two call
 * sites), then the resident set's high-water mark is reset
 * (/proc/self/clear_refs) and one snapshot is written to PATH.  Prints
 * "traces=N transient=B file=F": B bytes above the resident set before
 * the call at its high-water mark during it, F the snapshot's size (most
 * of it the TRACES section, which the writer builds in memory).
 * Usage: snaptraces LEVELS PATH
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "heapsnap.h"

static void *volatile sink;

static void step(int level, unsigned path);

__attribute__((noinline)) static void leaf(void)
{
    free(sink);
    sink = malloc(24);
}

__attribute__((noinline)) static void step_a(int level, unsigned path)
{
    step(level - 1, path);
    __asm__ volatile("" ::: "memory"); /* no tail call */
}

__attribute__((noinline)) static void step_b(int level, unsigned path)
{
    step(level - 1, path);
    __asm__ volatile("" ::: "memory");
}

__attribute__((noinline)) static void step(int level, unsigned path)
{
    if (level == 0)
        leaf();
    else if (path >> (level - 1) & 1)
        step_b(level, path);
    else
        step_a(level, path);
    __asm__ volatile("" ::: "memory");
}

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

int main(int argc, char **argv)
{
    int levels = argc == 3 ? atoi(argv[1]) : 0;
    if (levels < 1 || levels > 20)
        return 2;
    for (unsigned p = 0; p < 1u << levels; p++)
        step(levels, p);
    FILE *f = fopen("/proc/self/clear_refs", "w");
    if (!f || fputs("5", f) < 0 || fclose(f) != 0)
        return 3;
    long rss = status_kb("VmRSS:");
    if (heapsnap_take_snapshot(argv[2]) != 0)
        return 1;
    long hwm = status_kb("VmHWM:");
    struct stat st;
    if (stat(argv[2], &st) != 0)
        return 1;
    printf("traces=%u transient=%ld file=%lld\n", 1u << levels, (hwm - rss) * 1024,
           (long long)st.st_size);
    free(sink);
    return 0;
}
