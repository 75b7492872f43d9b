/*
 * snapdest.c - what a snapshot's name leads to, and the writes that must
 * not replace it.  Nothing, or a regular file, gets a temporary renamed
 * over it (snapname.c).  A device, FIFO or socket, or a symlink to one
 * (/dev/stdout, /proc/self/fd/1), is written in place, never replaced: the
 * snapshot is made in a scratch file (dest_scratch: its section headers
 * are written back once known) and copied to it.  A symlink to anything
 * else is refused, as the CLI's -o refuses it: followed, a link planted in
 * a shared directory would choose what the process, root perhaps,
 * overwrites.  For the same reason a node is written to only when it (and
 * a symlink on the way) belongs to this user or root.  Nothing blocks the
 * host: the open is O_NONBLOCK (a FIFO without a reader is refused), the
 * copy gives up after DEST_STALL_MS without progress, and a reader that
 * goes away raises no SIGPIPE.  Prefix dest_; callers hold the snapshot
 * lock.
 */
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

#include "snapshot.h"

#define DEST_STALL_MS 5000 /* a reader that takes nothing for this long is dropped */

static int dest_owned(const struct stat *st)
{
    return st->st_uid == 0 || st->st_uid == geteuid();
}

static int dest_node(const struct stat *st)
{
    return !S_ISREG(st->st_mode) && !S_ISDIR(st->st_mode) && !S_ISLNK(st->st_mode);
}

int dest_kind(const char *path, const char **why)
{
    struct stat ls, st;
    const char *w = NULL;
    int kind = DEST_RENAME;
    if (lstat(path, &ls) != 0) /* nothing there, or its directory says why */
        return DEST_RENAME;
    if (!S_ISLNK(ls.st_mode) && !dest_node(&ls))
        return DEST_RENAME;
    if (!S_ISLNK(ls.st_mode)) {
        st = ls;
        kind = DEST_STREAM;
    } else if (stat(path, &st) != 0) {
        w = "a symbolic link to nothing (neither followed nor replaced)";
    } else if (!dest_node(&st)) {
        w = S_ISREG(st.st_mode) ? "a symbolic link to a regular file (neither followed nor "
                                  "replaced)"
                                : "a symbolic link to a directory (neither followed nor replaced)";
    } else {
        kind = DEST_STREAM_LINK;
    }
    if (!w && (!dest_owned(&ls) || !dest_owned(&st)))
        w = "a device, FIFO or socket of another user (not written to)";
    if (why)
        *why = w;
    return w ? -1 : kind;
}

int dest_scratch(void)
{
    int fd = open("/tmp", O_TMPFILE | O_RDWR | O_CLOEXEC, 0600);
    return fd >= 0 ? fd : memfd_create("heapsnap", MFD_CLOEXEC);
}

/* n bytes of p to the non-blocking fd, waiting at most DEST_STALL_MS for
 * room each time; 0, or -1 (*why, errno). */
static int dest_put(int fd, const char *p, size_t n, const char **why)
{
    while (n) {
        ssize_t w = write(fd, p, n);
        if (w > 0) {
            p += w;
            n -= (size_t)w;
            continue;
        }
        if (w < 0 && errno == EINTR)
            continue;
        if (w < 0 && errno == EAGAIN) {
            struct pollfd pf = {.fd = fd, .events = POLLOUT};
            int k = poll(&pf, 1, DEST_STALL_MS);
            if (k > 0 || (k < 0 && errno == EINTR))
                continue;
            if (k == 0) {
                *why = "its reader took nothing for 5 seconds";
                errno = ETIMEDOUT;
            }
            return -1;
        }
        if (w < 0 && errno == EPIPE)
            *why = "its reader went away";
        return -1;
    }
    return 0;
}

/* src, from its start to its end, to fd; SIGPIPE held on this thread
 * meanwhile (sighold_take), and taken back if the write raised it. */
static int dest_copy(int fd, int src, const char **why)
{
    const size_t room = 65536; /* mapped here: no .bss held for good */
    char *buf = arena_map(room);
    struct sighold pipe;
    int r = 0, e;
    off_t at = 0;
    if (!buf)
        return -1;
    sighold_take(&pipe, SIGPIPE);
    for (;;) {
        ssize_t n = pread(src, buf, room, at);
        if (n < 0 && errno == EINTR)
            continue;
        if (n <= 0 || dest_put(fd, buf, (size_t)n, why) != 0) {
            r = n == 0 ? 0 : -1;
            break;
        }
        at += n;
    }
    e = errno;
    sighold_drop(&pipe);
    arena_unmap(buf, room);
    errno = e;
    return r;
}

int dest_write(const char *path, int kind, int src, const char **why)
{
    struct stat st;
    int fd = open(path, O_WRONLY | O_NONBLOCK | O_NOCTTY | O_CLOEXEC |
                            (kind == DEST_STREAM_LINK ? 0 : O_NOFOLLOW));
    if (fd < 0) {
        if (errno == ENXIO)
            *why = stat(path, &st) == 0 && S_ISSOCK(st.st_mode)
                       ? "a socket (it cannot be opened as a file)"
                       : "a FIFO with no reader";
        return -1;
    }
    if (fstat(fd, &st) != 0 || !dest_node(&st) || !dest_owned(&st)) {
        *why = "replaced while being opened (not written to)";
        close(fd);
        return -1;
    }
    int r = dest_copy(fd, src, why);
    if (close(fd) != 0 && r == 0 && errno != EINTR)
        r = -1;
    return r;
}
