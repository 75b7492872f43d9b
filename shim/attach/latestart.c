/*
 * latestart.c - the control socket, and the shim in a process it was loaded
 * into late (heapsnap attach): heapsnap__attach, which the CLI makes the
 * target call after its dlopen; heapsnap__load, the same start without
 * the socket, which a process calls itself (the pytest plugin).
 *
 * heapsnap__attach starts recording (options from the CLI's text, never the
 * environment), rewrites the GOT entries (got.c), and starts the control
 * thread.  A preloaded shim starts the same thread at start-up when
 * HEAPSNAP_LIVE is set (heapsnap run --live), or when `heapsnap live`
 * asks for it later (heapsnap__serve, called as heapsnap__attach is).  The thread
 * blocks every signal, is none of the leak check's threads to stop, serves
 * /tmp/heapsnap-UID/PID.sock (0700 directory, 0600 socket, other uids
 * refused) with one-line requests (snapshot, status, state, detach,
 * cancel: a detach without the last snapshot), and
 * polls for modules loaded since.  After a detach the library stays mapped
 * (-z nodelete) and an attach again starts it again.  The protocol:
 * docs/design.md, "Attaching to a running process".
 */
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/un.h>
#include <unistd.h>

#include "latestart.h"

#define ATT_STACK (256u * 1024u)
#define ATT_PATHS 256u   /* snapshot paths remembered for detach's answer */
#define ATT_POLL_MS 100

static struct {
    atomic_int on;         /* attached: the control thread runs */
    int fd;                /* the listening socket */
    char path[108];        /* its name */
    lock_t paths_lock;     /* paths, npaths, nfailed */
    char *paths[ATT_PATHS]; /* arena copies, "wrote PATH" or "failed PATH: ..." */
    unsigned npaths;
    unsigned dropped;      /* written after paths was full */
    int preloaded;         /* served from start-up (HEAPSNAP_LIVE): no detach */
    int private_dir;       /* the socket's directory is att_dir's mkdtemp */
    int exit_set;          /* att_live_exit registered (atexit) */
    pid_t owner;           /* the process that made the socket */
} att = {.fd = -1};

/* name_notify: every snapshot the session writes, for detach's answer. */
static void att_note(const char *path, int err)
{
    char line[NAME_MAX_PATH + 64];
    int n = err ? snprintf(line, sizeof line, "failed %s: %s", path, strerror(err))
                : snprintf(line, sizeof line, "wrote %s", path);
    if (n < 0 || (size_t)n >= sizeof line || memchr(line, '\n', (size_t)n))
        return;
    lock_take(&att.paths_lock);
    char *copy = att.npaths < ATT_PATHS ? arena_alloc((size_t)n + 1) : NULL;
    if (copy) {
        memcpy(copy, line, (size_t)n + 1);
        att.paths[att.npaths++] = copy;
    } else {
        att.dropped++;
    }
    lock_drop(&att.paths_lock);
}

/* A warning line ("heapsnap: ...\n") for detach's answer, once however
 * often it comes (a fork's children warn alike, each once). */
static int att_keep_warning(const char *line, size_t n)
{
    char w[NAME_MAX_PATH + 64];
    if (n >= 10 && !memcmp(line, "heapsnap: ", 10))
        line += 10, n -= 10;
    while (n && line[n - 1] == '\n')
        n--;
    int k = snprintf(w, sizeof w, "warn %.*s", (int)n, line);
    if (k < 0 || (size_t)k >= sizeof w || memchr(w, '\n', (size_t)k) || !lock_try(&att.paths_lock))
        return 0;
    int seen = 0;
    for (unsigned i = 0; i < att.npaths && !seen; i++)
        seen = !strcmp(att.paths[i], w);
    char *copy = seen || att.npaths >= ATT_PATHS ? NULL : arena_alloc((size_t)k + 1);
    if (copy) {
        memcpy(copy, w, (size_t)k + 1);
        att.paths[att.npaths++] = copy;
    }
    lock_drop(&att.paths_lock);
    return seen || copy;
}

/* opt_warn_sink during a session: the warning goes to the CLI with the
 * detach's answer, not to the program's stderr; a fork's child sends it
 * to its parent's socket ("warn" request).  1 when taken. */
static int att_warn_sink(const char *line, size_t n)
{
    if (att.preloaded || !atomic_load(&att.on))
        return 0;
    if (getpid() == att.owner)
        return att_keep_warning(line, n);
    struct sockaddr_un a = {.sun_family = AF_UNIX};
    char req[NAME_MAX_PATH + 64];
    int k = snprintf(req, sizeof req, "warn %.*s", (int)n, line), ok = 0;
    int fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
    memcpy(a.sun_path, att.path, sizeof a.sun_path);
    if (fd >= 0 && k > 0 && (size_t)k < sizeof req && req[k - 1] == '\n' &&
        connect(fd, (struct sockaddr *)&a, sizeof a) == 0)
        ok = sbuf_write_all(fd, req, (size_t)k) == 0;
    if (fd >= 0)
        close(fd);
    return ok;
}

static void att_say(int c, const char *a, const char *b)
{
    char line[NAME_MAX_PATH + 128];
    int n = snprintf(line, sizeof line, "%s%s\n", a, b ? b : "");
    if (n > 0)
        sbuf_write_all(c, line, (size_t)n < sizeof line ? (size_t)n : sizeof line - 1);
}

/* The session's snapshots, from the first one not told yet (from). */
static unsigned att_tell_paths(int c, unsigned from)
{
    lock_take(&att.paths_lock);
    unsigned n = att.npaths;
    for (unsigned i = from; i < n; i++)
        att_say(c, att.paths[i], NULL);
    if (att.dropped && from == 0) {
        char num[32];
        num[opt_fmt_u64(num, att.dropped)] = 0;
        att_say(c, "more ", num); /* written, not listed */
    }
    lock_drop(&att.paths_lock);
    return n;
}

static void att_forget_paths(void)
{
    lock_take(&att.paths_lock);
    for (unsigned i = 0; i < att.npaths; i++)
        arena_free(att.paths[i], strlen(att.paths[i]) + 1);
    att.npaths = att.dropped = 0;
    lock_drop(&att.paths_lock);
}

/* dir is this user's alone: a directory (not a link) of euid, that no one
 * else may write to. */
static int att_dir_ours(const char *dir)
{
    struct stat st;
    return lstat(dir, &st) == 0 && S_ISDIR(st.st_mode) && st.st_uid == geteuid() &&
                   !(st.st_mode & 022)
               ? 0
               : -1;
}

/* /tmp/heapsnap-UID, this user's alone (0700): made, or checked.  One that
 * another user made first (or that others may write to) is not trusted:
 * a private /tmp/heapsnap-UID.XXXXXX instead, which the CLI looks for
 * (the CLI's ctl_path), said once on the shim's channel. */
static int att_dir(char *dir, size_t n)
{
    uid_t uid = geteuid();
    snprintf(dir, n, "/tmp/heapsnap-%u", (unsigned)uid);
    if ((mkdir(dir, 0700) == 0 || errno == EEXIST) && att_dir_ours(dir) == 0)
        return 0;
    snprintf(dir, n, "/tmp/heapsnap-%u.XXXXXX", (unsigned)uid);
    if (!mkdtemp(dir))
        return -1;
    att.private_dir = 1;
    char shown[32];
    snprintf(shown, sizeof shown, "/tmp/heapsnap-%u", (unsigned)uid);
    opt_warn(shown, " is not this user's alone (another owner, or writable by others): the "
             "control socket goes to ", dir);
    return 0;
}

/* The socket gone, and its private directory with it. */
static void att_unlisten(void)
{
    if (att.fd >= 0)
        close(att.fd);
    att.fd = -1;
    if (!att.path[0])
        return; /* none made (heapsnap__load), or gone already */
    unlink(att.path);
    if (att.private_dir) {
        char *slash = strrchr(att.path, '/');
        if (slash) {
            *slash = 0;
            rmdir(att.path);
        }
        att.private_dir = 0;
    }
    att.path[0] = 0;
}

static int att_listen(void)
{
    char dir[64];
    struct sockaddr_un a = {.sun_family = AF_UNIX};
    att.owner = getpid();
    if (att_dir(dir, sizeof dir) != 0)
        return -1;
    int n = snprintf(a.sun_path, sizeof a.sun_path, "%s/%d.sock", dir, (int)getpid());
    if (n < 0 || (size_t)n >= sizeof a.sun_path)
        return -1;
    int fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
    if (fd < 0)
        return -1;
    unlink(a.sun_path); /* a dead process's, with our pid */
    memcpy(att.path, a.sun_path, sizeof att.path);
    att.fd = fd;
    if (bind(fd, (struct sockaddr *)&a, sizeof a) != 0 || chmod(a.sun_path, 0600) != 0 ||
        listen(fd, 4) != 0) {
        att_unlisten();
        return -1;
    }
    return 0;
}

/* One request line of a peer of ours (or root), read within a second. */
static int att_read_line(int c, char *buf, size_t n)
{
    struct ucred cr;
    socklen_t len = sizeof cr;
    size_t k = 0;
    if (getsockopt(c, SOL_SOCKET, SO_PEERCRED, &cr, &len) != 0 ||
        (cr.uid != geteuid() && cr.uid != 0))
        return -1;
    while (k + 1 < n) {
        struct pollfd p = {c, POLLIN, 0};
        if (poll(&p, 1, 1000) <= 0)
            return -1;
        ssize_t r = read(c, buf + k, 1);
        if (r <= 0)
            return -1;
        if (buf[k] == '\n')
            break;
        k++;
    }
    buf[k] = 0;
    return 0;
}

/* The end of a session: its last snapshot (none for "cancel": a live
 * view that could not open leaves no file), the entries back, recording
 * off.  The answer lists the session's snapshots. */
static void att_detach(int c, int last)
{
    int r = last ? snap_take(HSNAP_REASON_DETACH, NULL, 0) : 0;
    opt_warn_sink = NULL; /* warnings to fd 2 again (a fork's child keeps its copy) */
    state_done(); /* the session's state file goes; the mapping stays */
    got_unhook();
    life_detach();
    att_unlisten();
    att_tell_paths(c, 0);
    att_forget_paths();
    stop_aux_thread(0);
    atomic_store(&att.on, 0); /* an attach may come as soon as the answer is read */
    att_say(c, r == 0 ? "ok detached" : "ok detached (the last snapshot failed)", NULL);
}

/* state: the state file, read-only, passed with the answer (SCM_RIGHTS):
 * the live view reads it at no cost to this process. */
static void att_send_state(int c)
{
    /* a session without one (a plain attach) makes it now */
    const char *path = state_late(!att.preloaded) == 0 ? state_path() : NULL;
    int fd = path ? open(path, O_RDONLY | O_CLOEXEC | O_NOFOLLOW | O_NOCTTY) : -1;
    if (fd < 0) {
        att_say(c, "error the state file is off in this process, and cannot be made (its "
                   "output is not a file's name, or HEAPSNAP_PEAK=off)", NULL);
        return;
    }
    char line[] = "ok state\n";
    char cbuf[CMSG_SPACE(sizeof(int))];
    struct iovec iov = {line, sizeof line - 1};
    struct msghdr m = {.msg_iov = &iov, .msg_iovlen = 1, .msg_control = cbuf,
                       .msg_controllen = sizeof cbuf};
    struct cmsghdr *cm = CMSG_FIRSTHDR(&m);
    memset(cbuf, 0, sizeof cbuf);
    cm->cmsg_level = SOL_SOCKET;
    cm->cmsg_type = SCM_RIGHTS;
    cm->cmsg_len = CMSG_LEN(sizeof(int));
    memcpy(CMSG_DATA(cm), &fd, sizeof(int));
    while (sendmsg(c, &m, MSG_NOSIGNAL) < 0 && errno == EINTR)
        ;
    close(fd);
}

/* One request; 1 when it was detach. */
static int att_serve(int c)
{
    char req[NAME_MAX_PATH + 64];
    if (att_read_line(c, req, sizeof req) != 0)
        return 0;
    int end = !strcmp(req, "detach") || !strcmp(req, "cancel");
    if (end && att.preloaded) {
        att_say(c, "error the process was started under heapsnap (run or LD_PRELOAD): there "
                   "is nothing to detach", NULL);
    } else if (end) {
        att_detach(c, req[0] == 'd');
        return 1;
    } else if (!strncmp(req, "warn ", 5)) { /* a fork's child's warning: no answer */
        if (!att.preloaded)
            att_keep_warning(req + 5, strlen(req + 5));
    } else if (!strcmp(req, "state")) {
        att_send_state(c);
    } else if (!strcmp(req, "snapshot")) {
        if (att.preloaded) /* no detach lists them: only this request's */
            att_forget_paths();
        lock_take(&att.paths_lock);
        unsigned from = att.npaths;
        lock_drop(&att.paths_lock);
        int r = snap_take(HSNAP_REASON_API, NULL, 0);
        att_tell_paths(c, from);
        att_say(c, r == 0 ? "ok" : "error the snapshot could not be written", NULL);
    } else if (!strcmp(req, "status") && att.preloaded) {
        char line[128];
        snprintf(line, sizeof line, "ok preloaded %llu", (unsigned long long)clock_start_ns());
        att_say(c, line, NULL);
    } else if (!strcmp(req, "status")) {
        char line[128];
        unsigned m, e;
        got_counts(&m, &e);
        snprintf(line, sizeof line, "ok attached %llu modules %u entries %u",
                 (unsigned long long)clock_start_ns(), m, e);
        att_say(c, line, NULL);
    } else {
        att_say(c, "error unknown request: ", req);
    }
    return 0;
}

static void *att_thread(void *arg)
{
    (void)arg;
    guard_enter(); /* for good: the thread's allocations are the shim's */
    stop_aux_thread((pid_t)syscall(SYS_gettid));
    if (!att.preloaded)
        dom_kick(); /* CPython's domains wrapped before pymalloc's next object */
    for (;;) {
        struct pollfd p = {att.fd, POLLIN, 0};
        int n = poll(&p, 1, att.preloaded ? -1 : ATT_POLL_MS); /* preloaded: no GOT to poll */
        if (!att.preloaded)
            got_poll();
        if (n <= 0)
            continue;
        int c = accept4(att.fd, NULL, NULL, SOCK_CLOEXEC);
        if (c < 0)
            continue;
        int done = att_serve(c);
        close(c);
        if (done)
            return NULL; /* att is the next session's already */
    }
}

static int att_start_thread(void)
{
    pthread_t t;
    pthread_attr_t attr;
    sigset_t all, old;
    sigfillset(&all);
    pthread_sigmask(SIG_BLOCK, &all, &old);
    pthread_attr_init(&attr);
    pthread_attr_setstacksize(&attr, ATT_STACK);
    pthread_attr_setdetachstate(&attr, PTHREAD_CREATE_DETACHED);
    int r = pthread_create(&t, &attr, att_thread, NULL);
    pthread_attr_destroy(&attr);
    pthread_sigmask(SIG_SETMASK, &old, NULL);
    return r == 0 ? 0 : -1;
}

static void att_live_exit(void);

/* The start of a session, served (the control socket: heapsnap__attach)
 * or not (heapsnap__load).  0, or an ATT_E_* code. */
static int att_begin(const char *conf, int served)
{
    if (!clock_is_late())
        return ATT_E_NOT_LATE;
    if (atomic_exchange(&att.on, 1))
        return ATT_E_BUSY;
    int saved = guard_enter(), r = 0;
    static int found;
    if (!found && got_init() != 0)
        r = ATT_E_SELF;
    else if ((found = 1) && served && att_listen() != 0)
        r = ATT_E_SOCKET;
    else if (life_attach(conf) != 0)
        r = ATT_E_SECURE;
    else {
        if (served) {
            name_notify = att_note;
            opt_warn_sink = att_warn_sink;
        } else if (opt_int(OPT_PAUSED)) {
            pause_stop(); /* before any entry leads here: nothing recorded until started */
        }
        if (got_hook() == 0)
            r = ATT_E_NO_GOT;
        else if (att_start_thread() != 0) /* unserved: it polls for new modules alone */
            r = ATT_E_THREAD;
        if (r) { /* recording started: stop it again */
            got_unhook();
            life_detach();
        }
    }
    if (r) {
        att_unlisten();
        atomic_store(&att.on, 0);
    } else if (served && !att.exit_set) { /* the socket goes with the process */
        att.exit_set = atexit(att_live_exit) == 0;
    }
    guard_leave(saved);
    return r;
}

/* attach.h.  Runs on the thread the CLI borrowed, between its dlopen and
 * its return to what it was doing: bounded work, no wait on the process. */
HS_EXPORT int heapsnap__attach(const char *conf)
{
    return att_begin(conf, 1);
}

/* attach.h.  The process loaded this library itself (the pytest plugin,
 * through ctypes): the same start, no socket, HEAPSNAP_PAUSED honoured. */
HS_EXPORT int heapsnap__load(const char *conf)
{
    return att_begin(conf, 0);
}

/* ---------------- a preloaded process (HEAPSNAP_LIVE) ---------------- */

/* At exit: the socket goes; a session's warnings no detach will list go
 * to the program's stderr after all. */
static void att_live_exit(void)
{
    if (att.fd < 0 || getpid() != att.owner)
        return;
    att_unlisten();
    opt_warn_sink = NULL;
    lock_take(&att.paths_lock);
    for (unsigned i = 0; i < att.npaths; i++)
        if (!strncmp(att.paths[i], "warn ", 5)) {
            char line[NAME_MAX_PATH + 80];
            int k = snprintf(line, sizeof line, "heapsnap: %s\n", att.paths[i] + 5);
            if (k > 0 && (size_t)k < sizeof line)
                sbuf_write_all(2, line, (size_t)k);
        }
    lock_drop(&att.paths_lock);
}

/* A fork's child has no control thread: it serves nothing, and its end
 * leaves the parent's socket alone (att_live_exit). */
static void att_live_child(void)
{
    if (att.fd >= 0)
        close(att.fd);
    att.fd = -1;
}

/* The socket and its thread in a preloaded process: 0, or ATT_E_SOCKET
 * or ATT_E_THREAD (nothing served, att.on left for the caller). */
static int att_serve_preloaded(void)
{
    static int forks_set; /* att_live_child registered */
    att.preloaded = 1;
    att.owner = getpid();
    if (att_listen() != 0)
        return ATT_E_SOCKET;
    if (att_start_thread() != 0) {
        att_unlisten();
        return ATT_E_THREAD;
    }
    name_notify = att_note;
    if (!att.exit_set)
        att.exit_set = atexit(att_live_exit) == 0;
    if (!forks_set)
        forks_set = pthread_atfork(NULL, NULL, att_live_child) == 0;
    return 0;
}

/* After life_init: the socket and its thread, when asked. */
__attribute__((constructor(102))) static void att_live_init(void)
{
    if (clock_is_late() || cred_secure() || !hook_is_active() || !opt_int(OPT_LIVE))
        return;
    int saved = guard_enter();
    atomic_store(&att.on, 1);
    int r = att_serve_preloaded();
    if (r == ATT_E_SOCKET)
        opt_warn("HEAPSNAP_LIVE: cannot make /tmp/heapsnap-UID/PID.sock; nothing is served", "",
                 "");
    else if (r == ATT_E_THREAD)
        opt_warn("HEAPSNAP_LIVE: cannot start the control thread; nothing is served", "", "");
    guard_leave(saved);
}

/* attach.h.  `heapsnap live` on a process preloaded without
 * HEAPSNAP_LIVE: the socket and its thread now, as HEAPSNAP_LIVE would
 * have made them at start-up.  Bounded work on the borrowed thread. */
HS_EXPORT int heapsnap__serve(const char *conf)
{
    (void)conf;
    if (clock_is_late())
        return ATT_E_LATE;
    if (cred_secure())
        return ATT_E_SECURE;
    if (!hook_is_active())
        return ATT_E_IDLE;
    if (atomic_exchange(&att.on, 1))
        return att.preloaded && att.fd >= 0 ? 0 : ATT_E_BUSY; /* another view's, just now */
    int saved = guard_enter(), r = att_serve_preloaded();
    if (r)
        atomic_store(&att.on, 0);
    guard_leave(saved);
    return r;
}
