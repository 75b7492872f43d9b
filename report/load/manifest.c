/*
 * manifest.c - what the shim told `heapsnap run`: on run's socket
 * (mf_recv: a message per snapshot written or failed, with its sender's
 * pid and uid from the kernel; only the processes run started hold it),
 * and in the manifest file, for a process that closed the socket: every
 * snapshot path, one record per snapshot, appended by each process in one
 * write.  A path may hold any byte but NUL, a newline included
 * (`%e` expands to the program's name), so a newline cannot be trusted to
 * end a record:
 *   - records ending in NUL ("PATH\0") are exact; when the manifest holds
 *     any NUL, it is read that way;
 *   - records ending in a newline ("PATH\n", what the shim writes today)
 *     are read line by line, and a line that names no file is joined with
 *     the lines after it (up to MF_MAX_JOIN) while that names a file, so
 *     "dir/a\nb.hsnap" is one path when that file exists, and the pieces of
 *     a forged name are never gated in place of the file that was written.
 * A path written twice (two processes, or snapshots, that share a name
 * without %p) is kept once, with its count, for run to warn about.
 */
#include <errno.h>
#include <signal.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "cli.h"
#include "hsnap_format.h"
#include "hsnap_state.h"
#include "input.h"
#include "manifest.h"

#define MF_MAX_JOIN 16 /* lines one path may span */
#define MF_MSG_MAX (8192 + 64) /* a message of the socket: head and a path */

static int mf_add_state(struct manifest *m, const char *p, size_t len,
                        const struct ucred *who);
static int mf_state_record(const char *p, size_t len, pid_t *pid);

static int mf_add(struct manifest *m, const char *p, size_t len, pid_t pid)
{
    for (size_t i = 0; i < m->n; i++)
        if (strlen(m->e[i].path) == len && !memcmp(m->e[i].path, p, len)) {
            m->e[i].times++;
            return 0;
        }
    if (grow_array((void **)&m->e, &m->cap, m->n + 1, sizeof(*m->e)) < 0 ||
        !(m->e[m->n].path = strndup(p, len)))
        return -1;
    m->e[m->n].pid = pid;
    m->e[m->n++].times = 1;
    return 0;
}

static int mf_is_file(const char *p, size_t len)
{
    struct stat st;
    char *s = strndup(p, len);
    int ok = s && stat(s, &st) == 0 && S_ISREG(st.st_mode);
    free(s);
    return ok;
}

/* The record starting at p (text ends at end) in newline mode: its length;
 * *next is where the following record starts. */
static size_t mf_line_record(const char *p, const char *end, const char **next)
{
    const char *nl = memchr(p, '\n', (size_t)(end - p));
    const char *stop = nl ? nl : end;
    if (!mf_is_file(p, (size_t)(stop - p))) {
        const char *q = stop;
        for (int k = 0; k < MF_MAX_JOIN && q < end; k++) {
            const char *nl2 = memchr(q + 1, '\n', (size_t)(end - q - 1));
            q = nl2 ? nl2 : end;
            if (mf_is_file(p, (size_t)(q - p))) {
                stop = q;
                break;
            }
        }
    }
    *next = stop < end ? stop + 1 : end;
    return (size_t)(stop - p);
}

int mf_read(const char *path, struct manifest *m, char *err, size_t errlen)
{
    size_t len;
    char *text = in_read_text(path, IN_MAX_MANIFEST, &len, err, errlen);
    if (!text)
        return -1;
    const char *end = text + len, *next;
    int nul = memchr(text, 0, len) != NULL, rc = 0;
    for (const char *p = text; p < end && rc == 0; p = next) {
        size_t n;
        if (nul) {
            n = strnlen(p, (size_t)(end - p));
            next = p + n + 1;
        } else {
            n = mf_line_record(p, end, &next);
        }
        pid_t pid;
        if (n && mf_state_record(p, n, &pid)) {
            struct ucred who = {.pid = pid, .uid = 0, .gid = 0};
            rc = mf_add_state(m, p, n, &who);
        } else if (n)
            rc = mf_add(m, p, n, 0);
    }
    free(text);
    if (rc < 0) {
        snprintf(err, errlen, "%s: out of memory", path);
        mf_free(m);
    }
    return rc;
}

/* A state file told again (a process tells its state once per image: a
 * fork child, then what it execs) is held once. */
static int mf_add_state(struct manifest *m, const char *p, size_t len,
                        const struct ucred *who)
{
    for (size_t i = 0; i < m->ns; i++)
        if (strlen(m->s[i].path) == len && !memcmp(m->s[i].path, p, len))
            return 0;
    if (grow_array((void **)&m->s, &m->scap, m->ns + 1, sizeof(*m->s)) < 0 ||
        !(m->s[m->ns].path = strndup(p, len)))
        return -1;
    m->s[m->ns++].pid = who ? who->pid : 0;
    return 0;
}

static int mf_add_fail(struct manifest *m, const char *p, size_t len, int e,
                       const struct ucred *who)
{
    if (grow_array((void **)&m->f, &m->fcap, m->nf + 1, sizeof(*m->f)) < 0 ||
        !(m->f[m->nf].path = strndup(p, len)))
        return -1;
    m->f[m->nf].err = e;
    m->f[m->nf].pid = who ? who->pid : 0;
    m->f[m->nf++].uid = who ? who->uid : (uid_t)-1;
    return 0;
}

unsigned long long mf_boot_ticks(const struct timespec *at)
{
    struct timespec bt, rt;
    long hz = sysconf(_SC_CLK_TCK);
    if (hz <= 0 || clock_gettime(CLOCK_BOOTTIME, &bt) != 0 ||
        (at && clock_gettime(CLOCK_REALTIME, &rt) != 0))
        return ~0ull; /* any start time is before it */
    long long ns = (long long)bt.tv_sec * 1000000000ll + bt.tv_nsec;
    if (at) /* at's distance from now, on the boot clock */
        ns += ((long long)at->tv_sec - rt.tv_sec) * 1000000000ll + at->tv_nsec - rt.tv_nsec;
    return ns <= 0 ? 0 : (unsigned long long)ns / (1000000000ull / (unsigned long long)hz);
}

/* pid, told made by a process of the run, added to m->kin with the time
 * it was heard of.  A shell loop forks thousands: before the list grows,
 * the pids of processes that ended are taken out, so it stays near the
 * number still alive. */
static int mf_add_kin(struct manifest *m, const char *p, size_t len)
{
    char dec[24];
    uint64_t pid;
    if (len >= sizeof dec)
        return 0;
    memcpy(dec, p, len);
    dec[len] = 0;
    if (cli_parse_count(dec, 1u << 30, &pid) != 0 || pid == 0)
        return 0;
    if (m->nkin == m->kcap) {
        size_t kept = 0;
        for (size_t i = 0; i < m->nkin; i++)
            if (kill(m->kin[i].pid, 0) == 0 || errno == EPERM)
                m->kin[kept++] = m->kin[i];
        m->nkin = kept;
    }
    if (grow_array((void **)&m->kin, &m->kcap, m->nkin + 1, sizeof(*m->kin)) < 0)
        return -1;
    m->kin[m->nkin].pid = (pid_t)pid;
    m->kin[m->nkin++].told = mf_boot_ticks(NULL);
    return 0;
}

/* A launcher's image told (pid: the kernel's name of the sender): the pid's
 * last told, the first MF_LAUNCHERS pids kept. */
static void mf_add_launcher(struct manifest *m, const char *p, size_t len, pid_t pid)
{
    size_t i = 0;
    while (i < m->nlauncher && m->launcher[i].pid != pid)
        i++;
    if (!pid || i == MF_LAUNCHERS)
        return;
    if (i == m->nlauncher)
        m->nlauncher++;
    struct mf_launcher *l = &m->launcher[i];
    l->pid = pid;
    len = len < sizeof l->what - 1 ? len : sizeof l->what - 1;
    memcpy(l->what, p, len);
    l->what[len] = 0;
}

/* A record of the manifest file that names a state file (its name ends in
 * ".state" and it is one, or is gone: its process ended cleanly): 1, its
 * pid in *pid (0 when gone); 0 when a snapshot. */
static int mf_state_record(const char *p, size_t len, pid_t *pid)
{
    static const char ext[] = ".state";
    struct hsnap_state_head h;
    if (len < sizeof ext || memcmp(p + len - (sizeof ext - 1), ext, sizeof ext - 1))
        return 0;
    char *s = strndup(p, len);
    if (!s)
        return 0;
    int fd = open(s, O_RDONLY | O_NOFOLLOW | O_CLOEXEC);
    free(s);
    *pid = 0;
    if (fd < 0)
        return errno == ENOENT;
    ssize_t n = pread(fd, &h, sizeof h, 0);
    close(fd);
    if (n != (ssize_t)sizeof h || memcmp(h.magic, HSTATE_MAGIC, sizeof h.magic))
        return 0;
    *pid = (pid_t)h.pid;
    return 1;
}

/* One message: its sender's credentials from the kernel (SCM_CREDENTIALS),
 * then struct hsnap_runmsg and the path.  Only the processes run started
 * hold the socket, so what comes is theirs. */
static int mf_recv_one(int fd, struct manifest *m, char *buf, size_t cap)
{
    union {
        struct cmsghdr h;
        char space[CMSG_SPACE(sizeof(struct ucred))];
    } ctl;
    struct iovec iov = {buf, cap};
    struct msghdr mh = {.msg_iov = &iov, .msg_iovlen = 1, .msg_control = &ctl,
                        .msg_controllen = sizeof(ctl)};
    struct ucred who, *pwho = NULL;
    struct hsnap_runmsg head;
    ssize_t n = recvmsg(fd, &mh, MSG_DONTWAIT | MSG_CMSG_CLOEXEC);
    if (n <= 0)
        return n == 0 ? 1 : (errno == EINTR ? 0 : 2);
    for (struct cmsghdr *c = CMSG_FIRSTHDR(&mh); c; c = CMSG_NXTHDR(&mh, c))
        if (c->cmsg_level == SOL_SOCKET && c->cmsg_type == SCM_CREDENTIALS) {
            memcpy(&who, CMSG_DATA(c), sizeof(who));
            pwho = &who;
        } else if (c->cmsg_level == SOL_SOCKET && c->cmsg_type == SCM_RIGHTS) {
            for (int *f = (int *)CMSG_DATA(c); (char *)(f + 1) <= (char *)c + c->cmsg_len; f++)
                close(*f); /* nothing is passed on this socket */
        }
    if ((size_t)n <= sizeof(head) || (mh.msg_flags & MSG_TRUNC))
        return 0;
    memcpy(&head, buf, sizeof(head));
    if (head.magic == HSNAP_RUNMSG_STOPPED_MAGIC) {
        if (!m->nstopped++)
            m->stopped = pwho ? pwho->pid : 0;
        return 0;
    }
    if (head.magic != HSNAP_RUNMSG_MAGIC && head.magic != HSNAP_RUNMSG_STATE_MAGIC &&
        head.magic != HSNAP_RUNMSG_LAST_MAGIC && head.magic != HSNAP_RUNMSG_KIN_MAGIC &&
        head.magic != HSNAP_RUNMSG_LAUNCHER_MAGIC)
        return 0;
    const char *p = buf + sizeof(head);
    size_t len = (size_t)n - sizeof(head);
    if (memchr(p, 0, len))
        return 0;
    if (head.magic == HSNAP_RUNMSG_KIN_MAGIC)
        return mf_add_kin(m, p, len);
    if (head.magic == HSNAP_RUNMSG_LAUNCHER_MAGIC) {
        mf_add_launcher(m, p, len, pwho ? pwho->pid : 0);
        return 0;
    }
    if (head.magic == HSNAP_RUNMSG_LAST_MAGIC) {
        char *last = strndup(p, len);
        if (!last)
            return -1;
        free(m->last);
        m->last = last;
        m->last_pid = pwho ? pwho->pid : 0;
        m->nlast++;
        return 0;
    }
    if (head.magic == HSNAP_RUNMSG_STATE_MAGIC)
        return mf_add_state(m, p, len, pwho) < 0 ? -1 : 0;
    if (head.err)
        return mf_add_fail(m, p, len, (int)head.err, pwho) < 0 ? -1 : 0;
    return mf_add(m, p, len, pwho ? pwho->pid : 0) < 0 ? -1 : 0;
}

int mf_recv(int fd, struct manifest *m)
{
    char *buf = malloc(MF_MSG_MAX);
    int r = 0;
    if (!buf)
        return -1;
    while ((r = mf_recv_one(fd, m, buf, MF_MSG_MAX)) == 0)
        ;
    free(buf);
    return r < 0 ? -1 : r == 1 ? 1 : 0;
}

void mf_free(struct manifest *m)
{
    free(m->last);
    free(m->kin);
    for (size_t i = 0; i < m->ns; i++)
        free(m->s[i].path);
    free(m->s);
    for (size_t i = 0; i < m->n; i++)
        free(m->e[i].path);
    free(m->e);
    for (size_t i = 0; i < m->nf; i++)
        free(m->f[i].path);
    free(m->f);
    memset(m, 0, sizeof(*m));
}

#define MF_NAME_HEAD "heapsnap-manifest."

int mf_name(char *out, size_t cap, const char *dir, pid_t run)
{
    int n = snprintf(out, cap, "%s/" MF_NAME_HEAD "%ld.XXXXXX", dir, (long)run);
    return n < 0 || (size_t)n >= cap ? -1 : 0;
}

pid_t mf_name_pid(const char *name)
{
    static const char an[] = "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789";
    size_t head = strlen(MF_NAME_HEAD), digits;
    long pid = 0;
    if (strncmp(name, MF_NAME_HEAD, head) != 0)
        return 0;
    name += head;
    digits = strspn(name, "0123456789");
    if (!digits || digits > 9 || name[0] == '0' || name[digits] != '.' ||
        strlen(name + digits + 1) != 6 || strspn(name + digits + 1, an) != 6)
        return 0;
    for (size_t i = 0; i < digits; i++)
        pid = pid * 10 + (name[i] - '0');
    return (pid_t)pid;
}
