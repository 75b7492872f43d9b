/*
 * fdhigh.h - a descriptor the shim opens while the program runs, moved
 * out of the low numbers the program uses first (a program that expects
 * its next open() to return 3, or that counts its descriptors must not
 * meet the shim's).  For descriptors a helper thread holds for a while.
 */
#ifndef HEAPSNAP_FDHIGH_H
#define HEAPSNAP_FDHIGH_H

#include <errno.h>
#include <fcntl.h>
#include <sys/resource.h>
#include <unistd.h>

/* fd moved to a free number near the top of the soft limit (at most 1023),
 * close-on-exec; fd itself where none is free, or fd < 0. */
static inline int fd_high(int fd)
{
    struct rlimit rl;
    int top = 1023, saved = errno;
    if (fd < 0)
        return fd;
    if (getrlimit(RLIMIT_NOFILE, &rl) == 0 && rl.rlim_cur != RLIM_INFINITY &&
        (long)rl.rlim_cur - 1 < top)
        top = (int)rl.rlim_cur - 1;
    for (int n = top; n > fd && n > top - 64; n--) {
        if (fcntl(n, F_GETFD) != -1 || errno != EBADF)
            continue; /* taken */
        int hi = fcntl(fd, F_DUPFD_CLOEXEC, n);
        if (hi >= 0) {
            close(fd);
            fd = hi;
        }
        break;
    }
    errno = saved;
    return fd;
}

#endif
