/*
 * tmpspy.c - a preload for test_tmpfile.sh, listed before the shim: records
 * the temporary name each rename(2) moves into place (one line to the file
 * TMPSPY_LOG names), and, with TMPSPY_FIXED=1, makes getrandom return the
 * same bytes every time so that the shim's temporary name can be guessed.
 */
#define _GNU_SOURCE
#include <dlfcn.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/random.h>
#include <unistd.h>

int rename(const char *from, const char *to)
{
    int (*real)(const char *, const char *) = (int (*)(const char *, const char *))dlsym(RTLD_NEXT, "rename");
    const char *log = getenv("TMPSPY_LOG");
    if (log) {
        int fd = open(log, O_WRONLY | O_APPEND | O_CREAT, 0600);
        if (fd >= 0) {
            ssize_t r = write(fd, from, strlen(from));
            r = write(fd, "\n", 1);
            (void)r;
            close(fd);
        }
    }
    return real(from, to);
}

ssize_t getrandom(void *buf, size_t n, unsigned flags)
{
    const char *fixed = getenv("TMPSPY_FIXED");
    if (fixed && *fixed == '1') {
        memset(buf, 7, n);
        return (ssize_t)n;
    }
    ssize_t (*real)(void *, size_t, unsigned) = (ssize_t (*)(void *, size_t, unsigned))dlsym(RTLD_NEXT, "getrandom");
    return real(buf, n, flags);
}
