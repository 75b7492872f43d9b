/*
 * tmpspy.c - a preload for test_tmpfile.sh, listed before the shim: records
 * the temporary name each rename(2) or renameat2 moves into place (one line to the file
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

static void spy_log(const char *from)
{
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
}

int rename(const char *from, const char *to)
{
    int (*real)(const char *, const char *) = (int (*)(const char *, const char *))dlsym(RTLD_NEXT, "rename");
    spy_log(from);
    return real(from, to);
}

int renameat2(int fd1, const char *from, int fd2, const char *to, unsigned flags)
{
    int (*real)(int, const char *, int, const char *, unsigned) =
        (int (*)(int, const char *, int, const char *, unsigned))dlsym(RTLD_NEXT, "renameat2");
    int r = real(fd1, from, fd2, to, flags);
    if (r == 0) /* a refused no-replace rename is followed by rename(2) */
        spy_log(from);
    return r;
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
