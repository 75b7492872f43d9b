/*
 * ctl.c - the CLI's side of the control socket a process's shim serves
 * (shim/attach: /tmp/heapsnap-UID/PID.sock, one-line requests).
 *
 * Nothing in /tmp is trusted by its name: the directory must be a
 * directory of the process's user that no one else may write to (else the
 * shim made a private /tmp/heapsnap-UID.XXXXXX, looked for here), and the
 * process listening on a socket must be the one asked for (SO_PEERCRED),
 * so a directory or socket another user planted first is never talked
 * to.  Every byte read from a socket goes through esc_text before it
 * reaches a terminal.  Sockets left by processes that ended (a SIGKILL
 * leaves its socket) are removed whenever a directory is looked at.
 */
#include <dirent.h>
#include <errno.h>
#include <glob.h>
#include <limits.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <unistd.h>

#include "inject.h"
#include "escape.h"
#include "fmt.h"

#define CTL_ANSWER_MS 120000 /* the longest silence between an answer's lines */

/* dir is euid's alone: 1; else 0, and why in why. */
static int ctl_trusted(const char *dir, long euid, char *why, size_t n)
{
    struct stat st;
    if (lstat(dir, &st) != 0) {
        snprintf(why, n, "%s", strerror(errno));
        return 0;
    }
    if (!S_ISDIR(st.st_mode))
        snprintf(why, n, "not a directory");
    else if ((long)st.st_uid != euid)
        snprintf(why, n, "owned by uid %ld, not %ld", (long)st.st_uid, euid);
    else if (st.st_mode & 022)
        snprintf(why, n, "others may write to it (mode %04o)", (unsigned)(st.st_mode & 07777));
    else
        return 1;
    return 0;
}

/* The sockets in dir of processes that no longer run, removed. */
static void ctl_sweep(const char *dir)
{
    DIR *d = opendir(dir);
    struct dirent *e;
    char path[PATH_MAX];
    if (!d)
        return;
    while ((e = readdir(d))) {
        char *end;
        long pid = strtol(e->d_name, &end, 10);
        if (pid <= 0 || strcmp(end, ".sock") || kill((pid_t)pid, 0) == 0 || errno != ESRCH)
            continue;
        snprintf(path, sizeof path, "%s/%s", dir, e->d_name);
        unlink(path);
    }
    closedir(d);
}

void ctl_path(pid_t pid, long euid, char *out, size_t n)
{
    static int said;
    char dir[64], why[128];
    struct stat st;
    glob_t g;
    snprintf(dir, sizeof dir, "/tmp/heapsnap-%ld", euid);
    int exists = lstat(dir, &st) == 0, shared = exists && ctl_trusted(dir, euid, why, sizeof why);
    out[0] = 0;
    if (shared) {
        ctl_sweep(dir);
        snprintf(out, n, "%s/%d.sock", dir, (int)pid);
        if (lstat(out, &st) == 0)
            return;
    } else if (exists && !said++) {
        fprintf(stderr, "heapsnap: %s is not trusted (%s): its sockets are ignored; the "
                "shim serves from a private /tmp/heapsnap-%ld.XXXXXX instead\n", dir, why, euid);
    }
    snprintf(dir, sizeof dir, "/tmp/heapsnap-%ld.*", euid);
    if (glob(dir, GLOB_NOSORT, NULL, &g) != 0)
        return;
    for (size_t i = 0; i < g.gl_pathc; i++) {
        char p[PATH_MAX];
        if (!ctl_trusted(g.gl_pathv[i], euid, why, sizeof why))
            continue;
        ctl_sweep(g.gl_pathv[i]);
        snprintf(p, sizeof p, "%s/%d.sock", g.gl_pathv[i], (int)pid);
        if (lstat(p, &st) == 0) {
            snprintf(out, n, "%s", p);
            break;
        }
    }
    globfree(&g);
}

int ctl_connect(const char *path, pid_t pid, char *err, size_t errlen)
{
    struct sockaddr_un a = {.sun_family = AF_UNIX};
    struct ucred cr;
    socklen_t len = sizeof cr;
    if (!path[0]) {
        errno = ENOENT;
        return -1;
    }
    int fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
    snprintf(a.sun_path, sizeof a.sun_path, "%s", path);
    if (fd < 0 || connect(fd, (struct sockaddr *)&a, sizeof a) != 0) {
        int e = errno;
        if (fd >= 0)
            close(fd);
        errno = e;
        return -1;
    }
    if (getsockopt(fd, SOL_SOCKET, SO_PEERCRED, &cr, &len) != 0 || cr.pid != pid) {
        snprintf(err, errlen, "%s is served by process %d, not by process %d: not trusted", path,
                 (int)cr.pid, (int)pid);
        close(fd);
        return -2;
    }
    return fd;
}

int ctl_request(const char *path, const char *req, pid_t pid, char *err, size_t errlen)
{
    char buf[8192], shown[2 * PATH_MAX], why[512];
    size_t k = 0;
    int ok = 0, fd = ctl_connect(path, pid, why, sizeof why);
    if (fd == -2) {
        snprintf(err, errlen, "detach: %s", why);
        return 2;
    }
    if (fd < 0) {
        snprintf(err, errlen, "detach: process %d is not attached (no %s)", (int)pid,
                 path[0] ? path : "control socket");
        return 2;
    }
    if (write(fd, req, strlen(req)) != (ssize_t)strlen(req)) {
        close(fd);
        snprintf(err, errlen, "detach: %s: %s", path, strerror(errno));
        return 2;
    }
    for (;;) {
        /* Each line comes as soon as its snapshot is written: a process that
         * says nothing for this long is stopped or its serving thread is
         * stuck, and detach says so rather than waiting for ever. */
        struct pollfd pf = {.fd = fd, .events = POLLIN};
        if (poll(&pf, 1, CTL_ANSWER_MS) == 0) {
            snprintf(err, errlen, "detach: process %d did not answer in %d s (stopped, or "
                     "its heapsnap thread is blocked); it may still be attached",
                     (int)pid, CTL_ANSWER_MS / 1000);
            break;
        }
        ssize_t r = read(fd, buf + k, sizeof buf - 1 - k);
        if (r <= 0)
            break;
        k += (size_t)r;
        buf[k] = 0;
        char *nl;
        while ((nl = strchr(buf, '\n'))) {
            *nl = 0;
            if (!strncmp(buf, "wrote ", 6))
                fprintf(stderr, "heapsnap: wrote %s\n",
                        esc_text(fmt_path(buf + 6), shown, sizeof shown));
            else if (!strncmp(buf, "failed ", 7))
                fprintf(stderr, "heapsnap: could not write %s\n", esc_text(buf + 7, shown, sizeof shown));
            else if (!strncmp(buf, "more ", 5))
                fprintf(stderr, "heapsnap: and %s more snapshots\n",
                        esc_text(buf + 5, shown, sizeof shown));
            else if (!strncmp(buf, "warn ", 5)) /* the session's warnings, once each */
                fprintf(stderr, "heapsnap: process %d: %s\n", (int)pid,
                        esc_text(buf + 5, shown, sizeof shown));
            else if (!strncmp(buf, "ok", 2))
                ok = 1;
            else if (!strncmp(buf, "error ", 6))
                snprintf(err, errlen, "detach: process %d: %s", (int)pid,
                         esc_text(buf + 6, shown, sizeof shown));
            k -= (size_t)(nl + 1 - buf);
            memmove(buf, nl + 1, k + 1);
        }
        if (k == sizeof buf - 1)
            k = 0; /* a line too long: dropped */
    }
    close(fd);
    if (!ok && !err[0])
        snprintf(err, errlen, "detach: process %d did not answer (it may have ended)", (int)pid);
    return ok ? 0 : 2;
}

int ctl_served(const char *path, pid_t pid, int ms)
{
    char why[512], buf[256];
    int fd = ctl_connect(path, pid, why, sizeof why);
    if (fd < 0)
        return -1;
    int ok = write(fd, "status\n", 7) == 7;
    struct pollfd pf = {.fd = fd, .events = POLLIN};
    /* one read: the first byte of the answer is what is waited for */
    ok = ok && poll(&pf, 1, ms) > 0 && read(fd, buf, sizeof buf) > 0;
    close(fd);
    return ok ? 0 : -1;
}
