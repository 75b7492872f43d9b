/*
 * ticker.c - a program for the live tests: it keeps 4 KiB a tick (one
 * malloc every 10 ms at tick_site, each block filled with its tick's byte)
 * and, after each tick, puts "TICKS BYTES" (its own count of the bytes it
 * keeps) in the file its argument names (written beside, then renamed:
 * a reader never sees half of it).  It prints "ready PID" at start; a
 * line "q" on stdin (polled between ticks), or its end, makes it check
 * every block's bytes, free them, print "bye ok" (or "bye corrupt N") and
 * exit 0.  It stops growing at TICK_MAX ticks (128 MiB), ticking on.
 */
#include <fcntl.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#define TICK_MAX 32768

static unsigned char *keep[TICK_MAX];

__attribute__((noinline)) static void *tick_site(size_t n)
{
    return malloc(n);
}

static void put_truth(const char *path, const char *tmp, int ticks, unsigned long bytes)
{
    char line[64];
    int n = snprintf(line, sizeof line, "%d %lu\n", ticks, bytes);
    int fd = open(tmp, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
    if (fd < 0)
        return;
    if (write(fd, line, (size_t)n) == n)
        rename(tmp, path);
    close(fd);
}

int main(int argc, char **argv)
{
    char tmp[4096], line[64];
    unsigned long bytes = 0;
    int t = 0;
    if (argc != 2 || snprintf(tmp, sizeof tmp, "%s.tmp", argv[1]) >= (int)sizeof tmp)
        return 2;
    printf("ready %d\n", (int)getpid());
    fflush(stdout);
    for (;;) {
        if (t < TICK_MAX) {
            keep[t] = tick_site(4096);
            if (!keep[t])
                return 3;
            memset(keep[t], t & 0xff, 4096);
            bytes += 4096;
            t++;
            put_truth(argv[1], tmp, t, bytes);
        }
        struct pollfd p = {0, POLLIN, 0};
        if (poll(&p, 1, 10) <= 0)
            continue;
        if (fgets(line, sizeof line, stdin) && line[0] != 'q')
            continue;
        int bad = 0;
        for (int i = 0; i < t; i++) {
            for (int k = 0; k < 4096; k++)
                bad += keep[i][k] != (i & 0xff);
            free(keep[i]);
        }
        if (bad)
            printf("bye corrupt %d\n", bad);
        else
            printf("bye ok\n");
        return 0;
    }
}
