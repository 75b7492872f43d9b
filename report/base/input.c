/*
 * input.c - the one way the CLI opens a file it reads.  Every path it reads
 * may come from someone else (a snapshot names its modules, a repository
 * ships its rules and suppressions), so an input must never hang or exhaust
 * the CLI: open() of a FIFO blocks until a writer comes, a read of one blocks
 * forever, /dev/zero never ends.  Hence: open with O_NONBLOCK (a FIFO then
 * opens at once), keep only regular files, clear O_NONBLOCK, and read at
 * most a stated number of bytes (input.h).  Snapshots have no fixed cap:
 * snap_load checks their header before it reads more, and the header's
 * size must equal the file's.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "input.h"

static const char *in_kind(mode_t m)
{
    return S_ISFIFO(m) ? "a FIFO" : S_ISCHR(m) ? "a character device"
         : S_ISBLK(m) ? "a block device" : S_ISSOCK(m) ? "a socket" : "not a file";
}

int in_open(const char *path, struct stat *st, char *err, size_t errlen)
{
    int fd = open(path, O_RDONLY | O_CLOEXEC | O_NONBLOCK | O_NOCTTY);
    if (fd < 0) {
        snprintf(err, errlen, "%s", strerror(errno));
        return -1;
    }
    if (fstat(fd, st) < 0) {
        snprintf(err, errlen, "%s", strerror(errno));
    } else if (S_ISDIR(st->st_mode)) {
        snprintf(err, errlen, "is a directory");
    } else if (!S_ISREG(st->st_mode)) {
        snprintf(err, errlen, "not a regular file (%s)", in_kind(st->st_mode));
    } else {
        int fl = fcntl(fd, F_GETFL);
        if (fl >= 0 && fcntl(fd, F_SETFL, fl & ~O_NONBLOCK) == 0)
            return fd;
        snprintf(err, errlen, "%s", strerror(errno));
    }
    close(fd);
    return -1;
}

char *in_read_text(const char *path, size_t max, size_t *len, char *err, size_t errlen)
{
    char why[160];
    struct stat st;
    int fd = in_open(path, &st, why, sizeof(why));
    if (fd < 0) {
        snprintf(err, errlen, "%s: %s", path, why);
        return NULL;
    }
    char *text = NULL;
    if (st.st_size < 0 || (unsigned long long)st.st_size > max) {
        snprintf(err, errlen, "%s: larger than %zu bytes", path, max);
    } else if (!(text = malloc((size_t)st.st_size + 1))) {
        snprintf(err, errlen, "%s: out of memory", path);
    } else {
        /* Never more than the size seen: a file that grows while read is cut
         * there, one that shrinks ends early. */
        size_t got = 0, want = (size_t)st.st_size;
        ssize_t r = 1;
        while (got < want && (r = read(fd, text + got, want - got)) != 0) {
            if (r < 0 && errno == EINTR)
                continue;
            if (r < 0)
                break;
            got += (size_t)r;
        }
        if (r < 0) {
            snprintf(err, errlen, "%s: %s", path, strerror(errno));
            free(text);
            text = NULL;
        } else {
            text[got] = 0;
            *len = got;
        }
    }
    close(fd);
    return text;
}
