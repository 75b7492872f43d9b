/*
 * snapmem.c - what writing a snapshot costs the process in memory: N live
 * blocks, then the resident set's high-water mark is reset
 * (/proc/self/clear_refs) and one snapshot is written to PATH.  Prints
 * "blocks=N transient=B per_block=P": B bytes above the resident set
 * before the call at its high-water mark during it, P = B / N.
 * Usage: snapmem N PATH
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "heapsnap.h"

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
    long n = argc == 3 ? atol(argv[1]) : 0;
    if (n < 1)
        return 2;
    void **v = malloc((size_t)n * sizeof *v);
    for (long i = 0; i < n; i++)
        v[i] = malloc(32);
    FILE *f = fopen("/proc/self/clear_refs", "w");
    if (!f || fputs("5", f) < 0 || fclose(f) != 0)
        return 3;
    long rss = status_kb("VmRSS:");
    if (heapsnap_take_snapshot(argv[2]) != 0)
        return 1;
    long hwm = status_kb("VmHWM:");
    long bytes = (hwm - rss) * 1024;
    printf("blocks=%ld transient=%ld per_block=%ld\n", n, bytes, bytes / n);
    for (long i = 0; i < n; i++)
        free(v[i]);
    free(v);
    return 0;
}
