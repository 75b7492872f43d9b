/*
 * live.c - `heapsnap live PID` and `heapsnap run --live`: the session of
 * the live view (the screen is liveview.c).
 *
 * The view reads the process's state file, whose descriptor the shim
 * passes over its control socket (ctl.c: /tmp/heapsnap-UID/PID.sock, request
 * "state", the fd in SCM_RIGHTS): each refresh reads the file, and costs
 * the process nothing.  A process has that socket when it was attached to
 * (heapsnap attach, or live itself), or started with HEAPSNAP_LIVE=1
 * (run --live); live attaches to a process without the shim, and its quit
 * then detaches; a process preloaded without the socket (heapsnap run,
 * LD_PRELOAD) is asked to open it (attach_serve: its shim's
 * heapsnap__serve, called as attach calls), and serves on after the view.
 * The loop waits on the terminal (and on run's channel, drained by the
 * caller's function) for at most a second, then reads the file again; the
 * view ends with q, Ctrl-C, or the process's end.  --batch SECONDS needs
 * no terminal: the view is printed as text each second (lview_print),
 * then quits as q does.
 */
#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <limits.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <time.h>
#include <unistd.h>

#include "attach.h"
#include "cli.h"
#include "commands.h"
#include "escape.h"
#include "inject.h"
#include "live.h"
#include "liveview.h"

#define LIVE_ANSWER_MS 5000 /* the shim answers within this */
#define LIVE_START_MS 10000 /* run --live: the program's socket appears within this */
#define LIVE_COMM 64        /* the process's name (comm), and room to spare */
#define LIVE_BATCH_ROWS 20  /* --batch: the sites printed each second */

static volatile sig_atomic_t live_stop;

static void live_on_signal(int sig)
{
    (void)sig;
    live_stop = 1;
}

static void live_usage(void)
{
    printf("usage: heapsnap live PID [-o PATTERN] [--batch SECONDS]\n"
           "A terminal view of process PID's heap, refreshed each second: heap now, peak,\n"
           "RSS, allocation rate, and the sites by live bytes with their growth since the\n"
           "view opened.  Keys: k the key (l line, f function, b traceback, h the thread\n"
           "that allocated: its name and tid), s the sort (live, growth, allocations),\n"
           "t the thread filter (by the function it started in),\n"
           "w a snapshot, q quit.  A process without heapsnap is attached to (as heapsnap\n"
           "attach; -o names its snapshots) and detached at quit; one attached already, or\n"
           "started by heapsnap run --live, is only watched; one started by heapsnap run\n"
           "or LD_PRELOAD without --live opens its control socket now, and keeps it.\n"
           "--batch SECONDS: no terminal; the view is printed as text each second, for\n"
           "SECONDS, then quits.  Exit status 2 when the process cannot be watched (one\n"
           "line says why).\n");
}

static double live_ms_since(const struct timespec *t0)
{
    struct timespec t;
    clock_gettime(CLOCK_MONOTONIC, &t);
    return (double)(t.tv_sec - t0->tv_sec) * 1e3 + (t.tv_nsec - t0->tv_nsec) / 1e6;
}

/* One answer's bytes into buf (NUL-terminated), and a passed descriptor
 * into *pass (when pass): until the end, "ok"/"error" ending a line, or
 * LIVE_ANSWER_MS.  The bytes read. */
static size_t live_answer(int c, char *buf, size_t n, int *pass)
{
    size_t k = 0;
    struct timespec t0;
    clock_gettime(CLOCK_MONOTONIC, &t0);
    buf[0] = 0;
    while (k + 1 < n) {
        struct pollfd p = {c, POLLIN, 0};
        int left = LIVE_ANSWER_MS - (int)live_ms_since(&t0);
        if (left <= 0 || poll(&p, 1, left) <= 0)
            break;
        char cbuf[CMSG_SPACE(sizeof(int))];
        struct iovec iov = {buf + k, n - 1 - k};
        struct msghdr m = {.msg_iov = &iov, .msg_iovlen = 1, .msg_control = cbuf,
                           .msg_controllen = sizeof cbuf};
        ssize_t r = recvmsg(c, &m, MSG_CMSG_CLOEXEC);
        if (r <= 0)
            break;
        for (struct cmsghdr *cm = CMSG_FIRSTHDR(&m); cm; cm = CMSG_NXTHDR(&m, cm))
            if (cm->cmsg_level == SOL_SOCKET && cm->cmsg_type == SCM_RIGHTS) {
                int fd;
                memcpy(&fd, CMSG_DATA(cm), sizeof fd);
                if (pass && *pass < 0)
                    *pass = fd;
                else
                    close(fd);
            }
        k += (size_t)r;
        buf[k] = 0;
        char *last = k > 1 ? memrchr(buf, '\n', k - 1) : NULL;
        last = last ? last + 1 : buf;
        if (buf[k - 1] == '\n' && (!strncmp(last, "ok", 2) || !strncmp(last, "error", 5)))
            break;
    }
    return k;
}

/* The state file's descriptor from the socket: the fd; -1 and errno
 * ECONNREFUSED/ENOENT when nothing listens there; -2 with the shim's
 * reason in err. */
static int live_state_fd(const char *sock, pid_t pid, char *err, size_t errlen)
{
    char buf[1024], shown[2048], why[512];
    int c = ctl_connect(sock, pid, why, sizeof why), fd = -1;
    if (c == -2) {
        snprintf(err, errlen, "live: %s", why);
        return -2;
    }
    if (c < 0)
        return -1;
    if (write(c, "state\n", 6) != 6) {
        close(c);
        snprintf(err, errlen, "live: process %d's control socket: %s", (int)pid, strerror(errno));
        return -2;
    }
    live_answer(c, buf, sizeof buf, &fd);
    close(c);
    if (fd >= 0 && !strncmp(buf, "ok state", 8))
        return fd;
    if (fd >= 0)
        close(fd);
    buf[strcspn(buf, "\n")] = 0;
    snprintf(err, errlen, "live: process %d: %s", (int)pid,
             !strncmp(buf, "error ", 6) ? esc_text(buf + 6, shown, sizeof shown)
                                        : "no answer on its control socket");
    return -2;
}

/* w: a snapshot through the socket; what happened, for the status line. */
static void live_snapshot(const char *sock, pid_t pid, char *msg, size_t n)
{
    char buf[8192], shown[8192];
    int c = ctl_connect(sock, pid, shown, sizeof shown);
    if (c < 0 || write(c, "snapshot\n", 9) != 9) {
        snprintf(msg, n, "snapshot: the process does not answer (%s)", strerror(errno));
        if (c >= 0)
            close(c);
        return;
    }
    live_answer(c, buf, sizeof buf, NULL);
    close(c);
    char *w = strstr(buf, "wrote "), *f = strstr(buf, "failed "), *e = strstr(buf, "error ");
    char *line = w ? w : f ? f : e;
    if (!line) {
        snprintf(msg, n, "snapshot: no answer");
        return;
    }
    line[strcspn(line, "\n")] = 0;
    snprintf(msg, n, "snapshot: %s", esc_text(line, shown, sizeof shown));
}

/* Whether pid has ended (gone, or a zombie). */
static int live_gone(pid_t pid)
{
    char path[64], buf[512];
    if (kill(pid, 0) != 0 && errno == ESRCH)
        return 1;
    snprintf(path, sizeof path, "/proc/%d/stat", (int)pid);
    FILE *f = fopen(path, "re");
    if (!f)
        return 1;
    size_t k = fread(buf, 1, sizeof buf - 1, f);
    fclose(f);
    buf[k] = 0;
    char *p = strrchr(buf, ')');
    return !p || p[1] != ' ' || p[2] == 'Z' || p[2] == 'X';
}

/* The socket file's identity (0: none): inode and change time, since an
 * inode number freed by the unlink may come back at once.  Another one is
 * another image's (exec). */
static uint64_t live_sock_ino(const char *sock)
{
    struct stat st;
    if (stat(sock, &st) != 0)
        return 0;
    return ((uint64_t)st.st_ino * 1000003u) ^ ((uint64_t)st.st_ctim.tv_sec * 1000000000u +
                                               (uint64_t)st.st_ctim.tv_nsec) ^ 1;
}

/* The process's name into comm, read after its state file's descriptor
 * came: an exec names the process before the new image can serve, so the
 * name is that image's (or a later one's, whose socket the view will
 * find).  Read before, it may be the image's that exec replaced. */
static int live_name(pid_t pid, char *comm, size_t n)
{
    char s2[PATH_MAX];
    return attach_socket(pid, s2, sizeof s2, comm, n);
}

/* After an exec the new image serves a socket of its own: its state file
 * takes the old one's descriptor number (the view's path), its name goes
 * to comm.  *ino is the socket fd came from.  1 when fd was replaced. */
static int live_refd(pid_t pid, const char *sock, int fd, uint64_t *ino, char *comm, size_t n)
{
    char err[512];
    uint64_t now = live_sock_ino(sock);
    if (!now || now == *ino)
        return 0;
    *ino = now;
    int nfd = live_state_fd(sock, pid, err, sizeof err), r = 0;
    if (nfd < 0)
        return 0;
    r = dup3(nfd, fd, O_CLOEXEC) == fd;
    close(nfd);
    if (r)
        live_name(pid, comm, n); /* a process gone since keeps the name it had */
    return r;
}

/* --batch: v printed now and after each second's read, for secs
 * seconds, a signal or the process's end (the same ends as live_loop's).
 * v is freed. */
static int live_batch(struct lview *v, pid_t pid, char comm[LIVE_COMM], const char *sock, int fd,
                      uint64_t ino, double secs)
{
    struct sigaction sa = {.sa_handler = live_on_signal}, old_int, old_term, old_hup;
    sigemptyset(&sa.sa_mask);
    sigaction(SIGINT, &sa, &old_int);
    sigaction(SIGTERM, &sa, &old_term);
    sigaction(SIGHUP, &sa, &old_hup);
    struct timespec t0;
    clock_gettime(CLOCK_MONOTONIC, &t0);
    int ended = 0;
    lview_print(v, stdout, LIVE_BATCH_ROWS);
    for (double next = 1000; !live_stop && !(ended = live_gone(pid)); next += 1000) {
        double left = next - live_ms_since(&t0);
        if (next > secs * 1000)
            break;
        if (left > 0)
            poll(NULL, 0, (int)left);
        if (live_stop || (ended = live_gone(pid)))
            break;
        if (live_refd(pid, sock, fd, &ino, comm, LIVE_COMM))
            lview_restart(v, comm);
        lview_refresh(v);
        lview_print(v, stdout, LIVE_BATCH_ROWS);
    }
    lview_free(v);
    sigaction(SIGINT, &old_int, NULL);
    sigaction(SIGTERM, &old_term, NULL);
    sigaction(SIGHUP, &old_hup, NULL);
    return ended;
}

/* The view until q, a signal or the process's end: 1 when the process
 * ended, 0 otherwise, 2 with err when it could not open.  comm follows
 * the images an exec puts in the process. */
static int live_loop(pid_t pid, char comm[LIVE_COMM], const char *sock, int fd, uint64_t ino,
                     const char *quit, double batch, int extra, int (*drain)(void *), void *arg,
                     char *err, size_t errlen)
{
    char path[64], msg[1024];
    snprintf(path, sizeof path, "/proc/self/fd/%d", fd);
    struct timespec t0;
    struct lview *v;
    clock_gettime(CLOCK_MONOTONIC, &t0);
    /* a process that has just started writes its first document within a
     * heartbeat (0.25 s) */
    while (!(v = lview_new(pid, comm, path, quit, err, errlen))) {
        struct pollfd p = {extra, POLLIN, 0};
        if (live_gone(pid) || live_ms_since(&t0) > LIVE_START_MS)
            return 2;
        live_refd(pid, sock, fd, &ino, comm, LIVE_COMM); /* an exec: its image's name */
        if (poll(&p, extra >= 0 ? 1 : 0, 50) > 0 && drain(arg) != 0)
            extra = -1;
    }
    if (batch > 0)
        return live_batch(v, pid, comm, sock, fd, ino, batch);
    if (lview_open(err, errlen) != 0) {
        lview_free(v);
        return 2;
    }
    /* the symbolizer's warnings (a reset reads the modules again) would
     * write over the screen: they were said once, before it opened */
    int saved_err = dup(STDERR_FILENO), null = open("/dev/null", O_WRONLY | O_CLOEXEC);
    if (saved_err >= 0 && null >= 0)
        dup2(null, STDERR_FILENO);
    if (null >= 0)
        close(null);
    struct sigaction sa = {.sa_handler = live_on_signal}, old_int, old_term, old_hup;
    sigemptyset(&sa.sa_mask);
    sigaction(SIGINT, &sa, &old_int);
    sigaction(SIGTERM, &sa, &old_term);
    sigaction(SIGHUP, &sa, &old_hup); /* a closed terminal: quit (and detach) */
    struct timespec last;
    clock_gettime(CLOCK_MONOTONIC, &last);
    int ended = 0;
    lview_draw(v);
    while (!live_stop && !(ended = live_gone(pid))) {
        struct pollfd p[2] = {{STDIN_FILENO, POLLIN, 0}, {extra, POLLIN, 0}};
        int left = 1000 - (int)live_ms_since(&last);
        if (poll(p, extra >= 0 ? 2 : 1, left > 0 ? left : 0) > 0 && extra >= 0 &&
            p[1].revents && drain(arg) != 0)
            extra = -1; /* every sender is gone */
        int ch, act = LVIEW_NONE, keyed = 0;
        while (act != LVIEW_QUIT && (ch = lview_getkey()) >= 0) {
            keyed = 1;
            if ((act = lview_key(v, ch)) == LVIEW_SNAPSHOT) {
                live_snapshot(sock, pid, msg, sizeof msg);
                lview_say(v, msg);
            }
        }
        if (act == LVIEW_QUIT)
            break;
        if (live_ms_since(&last) >= 1000) {
            clock_gettime(CLOCK_MONOTONIC, &last);
            if (live_refd(pid, sock, fd, &ino, comm, LIVE_COMM))
                lview_restart(v, comm);
            lview_refresh(v);
        } else if (!keyed) {
            continue;
        }
        lview_draw(v);
    }
    lview_close();
    if (saved_err >= 0) {
        dup2(saved_err, STDERR_FILENO);
        close(saved_err);
    }
    lview_free(v);
    sigaction(SIGINT, &old_int, NULL);
    sigaction(SIGTERM, &old_term, NULL);
    sigaction(SIGHUP, &old_hup, NULL);
    return ended;
}

int live_watch(pid_t pid, int extra, int (*drain)(void *), void *arg, char *err, size_t errlen)
{
    char sock[PATH_MAX], comm[LIVE_COMM];
    struct timespec t0;
    int fd = -1;
    uint64_t ino = 0;
    clock_gettime(CLOCK_MONOTONIC, &t0);
    while (fd < 0 && !live_gone(pid) && live_ms_since(&t0) < LIVE_START_MS) {
        if (attach_socket(pid, sock, sizeof sock, comm, LIVE_COMM) == 0 &&
            (ino = live_sock_ino(sock)) != 0)
            fd = live_state_fd(sock, pid, err, errlen); /* -2: answered no; again */
        if (fd >= 0 && live_name(pid, comm, LIVE_COMM) != 0)
            snprintf(comm, sizeof comm, "?");
        struct pollfd p = {extra, POLLIN, 0};
        if (fd < 0 && poll(&p, extra >= 0 ? 1 : 0, 20) > 0 && drain(arg) != 0)
            extra = -1;
    }
    if (fd < 0) {
        if (live_gone(pid))
            return 0; /* ended before its first heartbeat: nothing to watch */
        if (fd == -2)
            return 2;
        snprintf(err, errlen, "run: --live: process %d opened no control socket (it ignores "
                 "LD_PRELOAD, or runs as another user)", (int)pid);
        return 2;
    }
    int r = live_loop(pid, comm, sock, fd, ino, "close the view", 0, extra, drain, arg, err,
                      errlen);
    close(fd);
    if (r == 0)
        fprintf(stderr, "heapsnap: the view is closed; process %d (%s) runs on, and its "
                "snapshots are listed when it ends\n", (int)pid, comm);
    return r == 2 ? 2 : 0;
}

/* A process that runs the shim preloaded (and so has no socket to offer). */
static int live_preloaded(pid_t pid)
{
    struct rsym_map *map = malloc(sizeof *map);
    int r = map && rsym_read(pid, map) == 0 && rsym_find(map, "libheapsnap.so");
    free(map);
    return r;
}

/* The name the attached shim gives its exit snapshot: pattern (NULL:
 * attach's) with %p, %e (exe: the program's path) and %% expanded, as the
 * shim expands them; 0, or -1 when it holds %n (or is too long). */
static int live_exit_name(const char *pattern, pid_t pid, const char *exe, char *out, size_t n)
{
    const char *base = strrchr(exe, '/') ? strrchr(exe, '/') + 1 : exe;
    size_t k = 0;
    for (const char *c = pattern ? pattern : ATTACH_OUTPUT; *c; c++) {
        char num[24];
        const char *add = NULL;
        if (c[0] == '%' && c[1] == 'n')
            return -1;
        if (c[0] == '%' && c[1] == 'p')
            snprintf(num, sizeof num, "%d", (int)pid), add = num;
        else if (c[0] == '%' && c[1] == 'e')
            add = base;
        else if (c[0] == '%' && c[1] == '%')
            add = "%";
        if (add)
            c++;
        size_t len = add ? strlen(add) : 1;
        if (k + len + 1 > n)
            return -1;
        memcpy(out + k, add ? add : c, len);
        k += len;
    }
    out[k] = 0;
    return 0;
}

/* The process ended while attached: its exit snapshot, named. */
static void live_ended(pid_t pid, const char *output, const char *exe)
{
    char name[PATH_MAX], shown[2 * PATH_MAX];
    struct stat st;
    if (exe[0] && live_exit_name(output, pid, exe, name, sizeof name) == 0 &&
        stat(name, &st) == 0 && S_ISREG(st.st_mode)) {
        esc_text(name, shown, sizeof shown);
        fprintf(stderr, "heapsnap: process %d has ended; its exit snapshot is %s (heapsnap top "
                "%s)\n", (int)pid, shown, shown);
    } else
        fprintf(stderr, "heapsnap: process %d has ended\n", (int)pid);
}

/* live's options: the PID, -o, --batch.  -1 to go on, else the exit status. */
static int live_parse(int argc, char **argv, pid_t *pid, const char **output, double *batch,
                      char *err, size_t errlen)
{
    static const struct option longopts[] = {{"batch", required_argument, NULL, 'B'},
                                             {"help", no_argument, NULL, 'h'},
                                             {NULL, 0, NULL, 0}};
    int c;
    uint64_t v;
    char *end;
    optind = 1;
    opterr = 0;
    while ((c = getopt_long(argc, argv, ":o:h", longopts, NULL)) != -1) {
        switch (c) {
        case 'o': *output = optarg; break;
        case 'B':
            *batch = strtod(optarg, &end);
            if (end == optarg || *end || !(*batch > 0) || *batch > 1e7) {
                snprintf(err, errlen, "live: bad value for --batch: '%s' (seconds, e.g. 2.5)",
                         optarg);
                return 2;
            }
            break;
        case 'h': live_usage(); return 0;
        default: return cli_bad_option("live", c, argv, longopts, err, errlen);
        }
    }
    if (optind != argc - 1) {
        snprintf(err, errlen, "live: %s (heapsnap live PID [-o PATTERN] [--batch SECONDS])",
                 optind >= argc ? "no PID given" : "one PID only");
        return 2;
    }
    if (cli_parse_count(argv[optind], INT_MAX, &v) != 0 || v == 0) {
        snprintf(err, errlen, "live: bad PID '%s' (a process id)", argv[optind]);
        return 2;
    }
    *pid = (pid_t)v;
    return -1;
}

int cmd_live(int argc, char **argv, char *err, size_t errlen)
{
    const char *output = NULL;
    char sock[PATH_MAX], comm[LIVE_COMM];
    double batch = 0;
    pid_t pid = 0;
    int pr = live_parse(argc, argv, &pid, &output, &batch, err, errlen);
    if (pr >= 0)
        return pr;
    if (attach_socket(pid, sock, sizeof sock, comm, LIVE_COMM) != 0 || live_gone(pid)) {
        snprintf(err, errlen, "live: no process %d (is it still running? see ps)", (int)pid);
        return 2;
    }
    uint64_t ino = live_sock_ino(sock);
    int fd = live_state_fd(sock, pid, err, errlen), attached = 0;
    if (fd == -2)
        return 2;
    if (fd >= 0)
        live_name(pid, comm, LIVE_COMM);
    if (!batch && (!isatty(STDIN_FILENO) || !isatty(STDOUT_FILENO))) {
        snprintf(err, errlen, "live: needs a terminal (stdin and stdout); without one, use "
                 "heapsnap live --batch SECONDS, or heapsnap attach and heapsnap top");
        if (fd >= 0)
            close(fd);
        return 2;
    }
    if (fd < 0 && live_preloaded(pid)) {
        /* heapsnap run or LD_PRELOAD without --live: its socket now */
        if (attach_serve(pid, err, errlen) != 0)
            return 2;
        attach_socket(pid, sock, sizeof sock, comm, LIVE_COMM);
        ino = live_sock_ino(sock);
        if ((fd = live_state_fd(sock, pid, err, errlen)) < 0) {
            if (fd == -1)
                snprintf(err, errlen, "live: process %d's control socket went away", (int)pid);
            return 2;
        }
        live_name(pid, comm, LIVE_COMM);
    }
    char exe[PATH_MAX] = "", link[64];
    snprintf(link, sizeof link, "/proc/%d/exe", (int)pid);
    ssize_t xn = readlink(link, exe, sizeof exe - 1); /* the name %e takes, while it runs */
    exe[xn > 0 ? xn : 0] = 0;
    if (fd < 0) {
        if (attach_start(pid, output, comm, sizeof comm, err, errlen) != 0)
            return 2;
        attached = 1;
        /* Where the shim listens now: a first attach on the machine makes
         * /tmp/heapsnap-UID (none before: no path), an untrusted one a
         * private directory (cmd_attach asks after its attach too). */
        char c2[LIVE_COMM];
        attach_socket(pid, sock, sizeof sock, c2, sizeof c2);
        ino = live_sock_ino(sock);
        if ((fd = live_state_fd(sock, pid, err, errlen)) < 0) {
            if (fd == -1)
                snprintf(err, errlen, "live: process %d's control socket went away", (int)pid);
            char why[512];
            ctl_request(sock, "cancel\n", pid, why, sizeof why); /* no file left */
            return 2;
        }
    }
    int r = live_loop(pid, comm, sock, fd, ino, attached ? "quit and detach" : "quit", batch, -1,
                      NULL, NULL, err, errlen);
    close(fd);
    if (r == 1 && attached)
        live_ended(pid, output, exe);
    else if (r == 1)
        fprintf(stderr, "heapsnap: process %d has ended\n", (int)pid);
    if (!attached || r == 1)
        return r == 2 ? 2 : 0;
    char why[512] = "";
    /* a view that could not open leaves no snapshot behind */
    int rc = ctl_request(sock, r == 2 ? "cancel\n" : "detach\n", pid, r == 2 ? why : err,
                            r == 2 ? sizeof why : errlen);
    if (rc == 0)
        fprintf(stderr, "heapsnap: detached from process %d; it runs on as before\n", (int)pid);
    return r == 2 ? 2 : rc;
}
