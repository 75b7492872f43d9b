/*
 * snapmem.c - what writing a snapshot costs the process in memory.  Either
 * N live blocks of 32 bytes (BLOCKS), or "traces": one block from each of
 * 2^14 distinct stacks 64 frames deep (50 common frames, then 14 levels
 * that each go through one of two call sites), so that TRACES holds ~8.5 MB
 * of frames.  Then the resident set's high-water mark is reset
 * (/proc/self/clear_refs) and one snapshot is written to PATH.  Prints
 * "blocks=N transient=B per_block=P" or "traces=N transient=B": B bytes
 * above the resident set before the call at its high-water mark during
 * it, P = B / N.
 * "exit": 2^16 such stacks (four shallower common depths), every block freed, the
 * high-water mark reset, "rss=K" (KiB) printed, and the exit snapshot is
 * the rest: its cost is the process's peak (GNU time's %M) less K.
 * Usage: snapmem N PATH | snapmem traces PATH | snapmem exit -
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

/* One snapshot to path: the bytes it added to the resident set at its
 * highest, or -1. */
static long transient(const char *path)
{
    FILE *f = fopen("/proc/self/clear_refs", "w");
    if (!f || fputs("5", f) < 0 || fclose(f) != 0)
        return -1;
    long rss = status_kb("VmRSS:");
    if (heapsnap_take_snapshot(path) != 0)
        return -1;
    return (status_kb("VmHWM:") - rss) * 1024;
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

static int snapmem_traces(const char *path)
{
    for (unsigned k = 0; k < 1u << LEVELS; k++)
        common(k, COMMON);
    long bytes = transient(path);
    if (bytes < 0)
        return 1;
    printf("traces=%u transient=%ld\n", 1u << LEVELS, bytes);
    for (unsigned k = 0; k < 1u << LEVELS; k++)
        free(blocks[k]);
    return 0;
}

static int snapmem_exit(void)
{
    for (int c = 16; c <= 19; c++) /* whole stacks: under HEAPSNAP_DEPTH */
        for (unsigned k = 0; k < 1u << LEVELS; k++) {
            common(k, c);
            free(blocks[k]);
        }
    FILE *f = fopen("/proc/self/clear_refs", "w");
    if (!f || fputs("5", f) < 0 || fclose(f) != 0)
        return 1;
    printf("rss=%ld\n", status_kb("VmRSS:"));
    return 0;
}

int main(int argc, char **argv)
{
    if (argc != 3)
        return 2;
    if (!strcmp(argv[1], "traces"))
        return snapmem_traces(argv[2]);
    if (!strcmp(argv[1], "exit"))
        return snapmem_exit();
    long n = atol(argv[1]);
    if (n < 1)
        return 2;
    void **v = malloc((size_t)n * sizeof *v);
    for (long i = 0; i < n; i++)
        v[i] = malloc(32);
    long bytes = transient(argv[2]);
    if (bytes < 0)
        return 1;
    printf("blocks=%ld transient=%ld per_block=%ld\n", n, bytes, bytes / n);
    for (long i = 0; i < n; i++)
        free(v[i]);
    free(v);
    return 0;
}
