/*
 * runchan.c - the channel to `heapsnap run`: one message per snapshot
 * written, or per snapshot that could not be written, on the socket that
 * run made and left open across exec (HEAPSNAP_MANIFEST_FD="FD:INODE").
 *
 * The manifest file (HEAPSNAP_MANIFEST) is its user's, 0600: a process
 * that became another user (a server's worker after setuid) cannot open
 * it, and a file others could open would let them add entries.  A socket
 * inherited at exec is held only by the processes run started (a socket
 * cannot be opened again through /proc/PID/fd), keeps working across a
 * change of ids, and the kernel tells run each sender's pid and uid.
 * The fd is checked before each use (a socket, the inode run named): a
 * program that closed it, or has another file at that number, is never
 * written to; the caller then falls back to the manifest file.
 *
 * A message: struct hsnap_runmsg, then the path's bytes (no NUL).
 */
#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "snapshot.h"

#define RCHAN_TRIES 50 /* a full socket: 50 waits of 1 ms, run reads as they come */

/* The fd that v (HEAPSNAP_MANIFEST_FD's value) names when it is still
 * run's socket, else -1. */
static int rchan_fd_of(const char *v)
{
    char *end;
    struct stat st;
    if (!v || !*v)
        return -1;
    long fd = strtol(v, &end, 10);
    if (*end != ':' || fd < 0 || fd > 1 << 20)
        return -1;
    unsigned long long ino = strtoull(end + 1, &end, 10);
    if (*end || fstat((int)fd, &st) != 0 || !S_ISSOCK(st.st_mode) || st.st_ino != ino)
        return -1;
    return (int)fd;
}

static int rchan_fd(void)
{
    return rchan_fd_of(opt_str(OPT_MANIFEST_FD));
}

/* The channel's number (helper_init's thread keeps it in a table of its own),
 * or -1: none. */
int rchan_fd_number(void)
{
    return rchan_fd();
}

/* Tells run that path was written (err 0) or could not be (err: errno).
 * 0 when run was told; -1: no channel, or the message could not go. */
static int rchan_send_on(int fd, uint32_t magic, const char *path, int err);

static int rchan_send(uint32_t magic, const char *path, int err)
{
    return rchan_send_on(rchan_fd(), magic, path, err);
}

int rchan_tell(const char *path, int err)
{
    return rchan_send(HSNAP_RUNMSG_MAGIC, path, err);
}

/* Tells run where this process keeps its state file (hsnap_state.h): run
 * names it when the process ends without its snapshot.  A process that no
 * longer holds the socket (multiprocessing's spawn closes every fd it does
 * not pass) appends "<path>\0" to HEAPSNAP_MANIFEST instead, as snapshots
 * do (name_manifest), when run gave it a channel (HEAPSNAP_MANIFEST_FD);
 * run tells a state file there by its ".state" name and header. */
int rchan_tell_state(const char *path)
{
    char abs[NAME_MAX_PATH + 40];
    size_t len = 0;
    if (path[0] != '/' && getcwd(abs, NAME_MAX_PATH)) {
        len = strlen(abs);
        abs[len++] = '/';
    }
    size_t n = strnlen(path, sizeof abs - len - 1);
    memcpy(abs + len, path, n);
    abs[len + n] = 0;
    if (rchan_send(HSNAP_RUNMSG_STATE_MAGIC, abs, 0) == 0)
        return 0;
    const char *m = opt_str(OPT_MANIFEST), *chan = opt_str(OPT_MANIFEST_FD);
    if (!m || !*m || !chan || !*chan || cred_secure() || memchr(abs, '\n', len + n))
        return -1; /* not under run (which reads it): the file lists snapshots only */
    return name_manifest_append(m, abs, len + n + 1);
}

/* Tells run that path, told just before, is this process's exit
 * snapshot: nothing follows it. */
int rchan_tell_last(const char *path)
{
    return rchan_send(HSNAP_RUNMSG_LAST_MAGIC, path, 0);
}

/* Tells run that this process made process pid (as fork or posix_spawn
 * returns; a vfork child tells its own, as it execs): a command that forks a background
 * job and exits at once leaves run that pid to wait for, though the child
 * had no time yet to tell its state file (linger_wait).  errno kept; no
 * channel: nothing. */
void rchan_tell_kin(pid_t pid)
{
    char dec[24], *p = dec + sizeof dec - 1;
    int saved = errno;
    unsigned long v = (unsigned long)pid;
    *p = 0;
    do
        *--p = (char)('0' + v % 10);
    while (v /= 10);
    rchan_send(HSNAP_RUNMSG_KIN_MAGIC, p, 0);
    errno = saved;
}

/* Tells run that this process ends with recording stopped (pause_stop), so
 * that it writes no exit snapshot: run says so, not "killed". */
int rchan_tell_stopped(void)
{
    return rchan_send(HSNAP_RUNMSG_STOPPED_MAGIC, "stopped", 0);
}

/* Tells run that this image is a launcher's, running what (launch_own_image),
 * from a process whose options were never read (cred_secure's start-up):
 * the channel from its variable.  errno kept. */
void rchan_tell_launcher(const char *what)
{
    int saved = errno;
    rchan_send_on(rchan_fd_of(getenv(opt_name(OPT_MANIFEST_FD))), HSNAP_RUNMSG_LAUNCHER_MAGIC,
                  what, 0);
    errno = saved;
}

static int rchan_send_on(int fd, uint32_t magic, const char *path, int err)
{
    struct {
        struct hsnap_runmsg m;
        char path[NAME_MAX_PATH];
    } msg;
    size_t n = strnlen(path, sizeof msg.path);
    if (fd < 0)
        return -1;
    msg.m.magic = magic;
    msg.m.err = (uint32_t)err;
    memcpy(msg.path, path, n);
    for (unsigned i = 0; i < RCHAN_TRIES; i++) {
        if (send(fd, &msg, sizeof msg.m + n, MSG_DONTWAIT | MSG_NOSIGNAL) >= 0)
            return 0;
        if (errno != EAGAIN && errno != EINTR)
            return -1;
        struct timespec ms = {0, 1000000};
        nanosleep(&ms, NULL);
    }
    return -1;
}
