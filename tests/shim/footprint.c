/*
 * footprint.c - the shim's fixed memory cost, as a program sees it: its own
 * anonymous resident memory (/proc/self/smaps_rollup's Anonymous) right
 * after start-up and one tracked allocation.  test_footprint.sh runs it
 * with and without the shim.
 *
 * Usage: footprint        prints "anon_kb N".
 */
#include <stdio.h>
#include <stdlib.h>

int main(void)
{
    char line[256];
    long anon = -1;
    void *p = malloc(100);
    FILE *f = fopen("/proc/self/smaps_rollup", "r");
    while (f && fgets(line, sizeof line, f))
        if (sscanf(line, "Anonymous: %ld kB", &anon) == 1)
            break;
    if (f)
        fclose(f);
    printf("anon_kb %ld\n", anon);
    free(p);
    return anon < 0;
}
