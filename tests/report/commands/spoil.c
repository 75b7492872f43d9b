/*
 * spoil.c - a child writes its exit snapshot, and the parent spoils it
 * (its first 64 bytes zeroed) and ends stopped, writing none of its own:
 * run's summary has only a snapshot that does not load.  argv[1]: the
 * snapshots' name with %d for the pid.
 */
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include "heapsnap.h"

int main(int argc, char **argv)
{
    if (argc < 2)
        return 2;
    pid_t c = fork();
    if (c == 0) {
        void *volatile p = malloc(1000);
        (void)p;
        return 0;
    }
    if (c < 0 || waitpid(c, NULL, 0) != c)
        return 2;
    char path[4096], zero[64] = {0};
    snprintf(path, sizeof path, argv[1], (int)c);
    int fd = open(path, O_WRONLY);
    if (fd < 0 || pwrite(fd, zero, sizeof zero, 0) != (ssize_t)sizeof zero)
        return 3;
    close(fd);
    if (heapsnap_stop)
        heapsnap_stop();
    return 0;
}
