/* holdmany.c - holds N blocks of 48 bytes (argv[1], default 100), then
 * sleeps argv[2] milliseconds (default 0) and exits 0: a snapshot as large
 * as the test needs (BLOCKS: 32 bytes a block), and time for interval
 * snapshots.  Prints "done" to stderr last: the program finished. */
#include <stdio.h>
#include <stdlib.h>
#include <time.h>

int main(int argc, char **argv)
{
    long n = argc > 1 ? atol(argv[1]) : 100, ms = argc > 2 ? atol(argv[2]) : 0;
    void **keep = malloc((size_t)n * sizeof *keep);
    for (long i = 0; keep && i < n; i++)
        keep[i] = malloc(48);
    struct timespec ts = {ms / 1000, (ms % 1000) * 1000000L};
    while (nanosleep(&ts, &ts) != 0)
        ;
    fputs("done\n", stderr); /* stdout may be where the snapshot goes */
    return 0;
}
