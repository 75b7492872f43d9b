/*
 * procs.c - the processes of the host that keep a state file (serve.h),
 * found as they start and followed until they end.
 *
 * A process that runs the shim with its state on maps its state file's
 * header page for its whole life (the shim's state_init_as): /proc/PID/maps names it,
 * a mapping at offset 0 of a file named *.state.  It is opened through
 * /proc/PID/root (a container's file is found too) and kept only when it
 * is the very file mapped (device, inode), a regular file owned by the
 * process's effective user, with the state's magic; the descriptor is
 * kept, so a read costs the process nothing and a rename changes nothing.
 * A pid is the same process while its start time is; an exec maps a new
 * file, which replaces the old.  Only the served user's processes are
 * looked at (procs_init); reading maps needs the ptrace access the kernel
 * grants a process's own user and root.  A process's maps, with or without
 * a state file, are read again only after PROCS_RECHECK scans while its
 * start time and executable stay (and its state file is linked): an exec
 * of another file is seen at once, an attach within the recheck.
 */
#include <ctype.h>
#include <dirent.h>
#include <errno.h>
#include <stddef.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/sysmacros.h>
#include <time.h>
#include <unistd.h>

#include "cli.h"
#include "hsnap_state.h"

#define PROCS_RECHECK 5 /* scans between two reads of an unprofiled process's maps */
#include "serve.h"

static uint64_t procs_now_ns(void)
{
    struct timespec t;
    clock_gettime(CLOCK_MONOTONIC, &t);
    return (uint64_t)t.tv_sec * 1000000000u + (uint64_t)t.tv_nsec;
}

void procs_init(struct procs *ps, uid_t uid)
{
    memset(ps, 0, sizeof *ps);
    ps->uid = uid;
}

void procs_fini(struct procs *ps)
{
    for (size_t i = 0; i < ps->n; i++) {
        if (ps->v[i].fd >= 0)
            close(ps->v[i].fd);
        metrics_forget(&ps->v[i]);
    }
    free(ps->v);
    free(ps->skip);
    free(ps->fresh);
    free(ps->rerr);
    memset(ps, 0, sizeof *ps);
}

struct proc *procs_find(struct procs *ps, pid_t pid)
{
    for (size_t i = 0; i < ps->n; i++)
        if (ps->v[i].pid == pid)
            return &ps->v[i];
    return NULL;
}

/* A small /proc file of pid whole into buf (NUL-ended): its length, or -1. */
static ssize_t procs_read(pid_t pid, const char *name, char *buf, size_t n)
{
    char path[64];
    snprintf(path, sizeof path, "/proc/%d/%s", (int)pid, name);
    int fd = open(path, O_RDONLY | O_CLOEXEC);
    if (fd < 0)
        return -1;
    ssize_t k = 0, r;
    while ((size_t)k + 1 < n && (r = read(fd, buf + k, n - 1 - (size_t)k)) > 0)
        k += r;
    close(fd);
    buf[k] = 0;
    return k;
}

/* The start time (clock ticks after boot) of pid: field 22 of its stat,
 * counted after the ')' that ends the name; 0 when unreadable. */
static uint64_t procs_start(pid_t pid)
{
    char buf[1024];
    if (procs_read(pid, "stat", buf, sizeof buf) <= 0)
        return 0;
    char *p = strrchr(buf, ')');
    for (int field = 2; p && field < 22; field++)
        p = strchr(p + 1, ' ');
    return p ? strtoull(p + 1, NULL, 10) : 0;
}

/* The effective uid of pid (status' second Uid); 0 and -1 when unknown. */
static int procs_uid(pid_t pid, uid_t *uid)
{
    char buf[4096];
    if (procs_read(pid, "status", buf, sizeof buf) <= 0)
        return -1;
    char *u = strstr(buf, "\nUid:");
    unsigned long r, e;
    if (!u || sscanf(u + 5, "%lu %lu", &r, &e) != 2)
        return -1;
    *uid = (uid_t)e;
    return 0;
}

/* The state file pid maps: its path (as the process sees it), device and
 * inode.  0, or -1 when it maps none. */
static int procs_mapped(pid_t pid, char *path, size_t n, dev_t *dev, ino_t *ino)
{
    char name[64], *line = NULL;
    size_t cap = 0;
    int found = -1;
    snprintf(name, sizeof name, "/proc/%d/maps", (int)pid);
    FILE *f = fopen(name, "re");
    if (!f)
        return -1;
    while (found < 0 && getline(&line, &cap, f) > 0) {
        unsigned long long off, inode;
        unsigned maj, mi;
        int at = 0;
        if (sscanf(line, "%*x-%*x %*4s %llx %x:%x %llu %n", &off, &maj, &mi, &inode, &at) != 4 ||
            !at || off != 0 || !inode)
            continue;
        char *p = line + at;
        size_t len = strcspn(p, "\n");
        p[len] = 0;
        if (p[0] != '/' || len < 7 || strcmp(p + len - 6, ".state") || len >= n)
            continue; /* " (deleted)", another file, or a name too long */
        memcpy(path, p, len + 1);
        *dev = makedev(maj, mi);
        *ino = (ino_t)inode;
        found = 0;
    }
    free(line);
    fclose(f);
    return found;
}

/* The state file at path in pid's view, if it is the one mapped (dev,
 * ino), a regular file of uid, and a state file: its descriptor, or -1
 * with *why saying which of these failed. */
static int procs_open(pid_t pid, const char *path, dev_t dev, ino_t ino, uid_t uid,
                      const char **why)
{
    char full[4200];
    struct stat sb;
    char magic[8];
    snprintf(full, sizeof full, "/proc/%d/root%s", (int)pid, path);
    int fd = open(full, O_RDONLY | O_CLOEXEC | O_NOFOLLOW | O_NONBLOCK | O_NOCTTY);
    if (fd < 0) {
        *why = strerror(errno);
        return -1;
    }
    *why = NULL;
    if (fstat(fd, &sb) != 0 || !S_ISREG(sb.st_mode))
        *why = "not a regular file";
    else if (sb.st_dev != dev || sb.st_ino != ino)
        *why = "not the file the process maps";
    else if (sb.st_uid != uid)
        *why = "owned by another user than the process's";
    else if (pread(fd, magic, sizeof magic, 0) != (ssize_t)sizeof magic ||
             !state_is(magic, sizeof magic))
        *why = "no state file's magic";
    if (*why) {
        close(fd);
        return -1;
    }
    return fd;
}

/* The program's path as it was started: argv[0] (whole, or up to a blank
 * where the program rewrote its title), or a bare argv[0] or comm beside
 * the executable, when it names the very file /proc/PID/exe is (dev, ino):
 * a symlink's name, Debian's /usr/bin/redis-server rather than the
 * redis-check-rdb it points to.  Else the executable's real path stays. */
static void procs_started(struct proc *p)
{
    char argv0[512], cand[1600], dir[512];
    struct stat sb;
    if (procs_read(p->pid, "cmdline", argv0, sizeof argv0) <= 0 || !p->exe[0])
        return;
    const char *slash = strrchr(p->exe, '/');
    snprintf(dir, sizeof dir, "%.*s", slash ? (int)(slash - p->exe) : 0, p->exe);
    const char *names[3] = {argv0, NULL, p->comm};
    char cut[512];
    size_t blank = strcspn(argv0, " ");
    if (argv0[blank]) {
        snprintf(cut, sizeof cut, "%.*s", (int)blank, argv0);
        names[1] = cut;
    }
    for (int i = 0; i < 3; i++) {
        const char *n = names[i];
        if (!n || !n[0])
            continue;
        if (n[0] == '/')
            snprintf(cand, sizeof cand, "%s", n);
        else if (!strchr(n, '/'))
            snprintf(cand, sizeof cand, "%s/%s", dir, n);
        else
            continue; /* relative to a cwd the agent does not share */
        if (strlen(cand) < sizeof p->exe && stat(cand, &sb) == 0 && sb.st_dev == p->exe_dev &&
            sb.st_ino == p->exe_ino) {
            memcpy(p->exe, cand, strlen(cand) + 1);
            return;
        }
    }
}

/* comm and exe (as started: procs_started) of p, whose pid, exe_dev and
 * exe_ino are set. */
static void procs_names_of(struct proc *p)
{
    char path[64];
    if (procs_read(p->pid, "comm", p->comm, sizeof p->comm) < 0)
        p->comm[0] = 0;
    p->comm[strcspn(p->comm, "\n")] = 0;
    snprintf(path, sizeof path, "/proc/%d/exe", (int)p->pid);
    ssize_t k = readlink(path, p->exe, sizeof p->exe - 1);
    p->exe[k > 0 ? k : 0] = 0;
    procs_started(p);
}

/* comm, exe and the service of p, read once when it is found (an exec
 * finds it anew). */
static void procs_names(struct proc *p)
{
    char svc[HSTATE_SERVICE];
    procs_names_of(p);
    /* printable ASCII only: the process wrote it (as state_load keeps it) */
    size_t i = 0;
    if (pread(p->fd, svc, sizeof svc, offsetof(struct hsnap_state_head, service)) == sizeof svc)
        for (; i + 1 < sizeof svc && svc[i] >= 0x20 && svc[i] < 0x7f; i++)
            p->service[i] = svc[i];
    p->service[i] = 0;
}

/* A state file of p that could not be opened or read (why): counted
 * against p in ps->rerr while p runs (heapsnap_serve_read_errors_total,
 * labelled with the process), and logged on stderr the first time only,
 * since a file that cannot be read is met again at every scan. */
static void procs_error(struct procs *ps, const struct proc *p, const char *why)
{
    struct perr *e = NULL;
    for (size_t i = 0; i < ps->nrerr && !e; i++)
        if (ps->rerr[i].pid == p->pid && ps->rerr[i].start_ticks == p->start_ticks)
            e = &ps->rerr[i];
    if (!e) {
        if (grow_array((void **)&ps->rerr, &ps->caprerr, ps->nrerr + 1, sizeof *ps->rerr) < 0)
            return;
        e = &ps->rerr[ps->nrerr++];
        *e = (struct perr){.pid = p->pid, .start_ticks = p->start_ticks};
        snprintf(e->comm, sizeof e->comm, "%s", p->comm);
        snprintf(e->exe, sizeof e->exe, "%s", p->exe);
        fprintf(stderr,
                "heapsnap serve: cannot read the state file of pid %d (%s, %s): %s; counted in "
                "heapsnap_serve_read_errors_total, not logged again\n",
                (int)p->pid, p->comm, p->exe[0] ? p->exe : "?", why && why[0] ? why : "unknown");
    }
    e->count++;
}

/* ps->rerr without the processes that ended (or exec'd another pid's
 * start time away). */
static void procs_error_prune(struct procs *ps)
{
    size_t k = 0;
    for (size_t i = 0; i < ps->nrerr; i++)
        if (procs_start(ps->rerr[i].pid) == ps->rerr[i].start_ticks)
            ps->rerr[k++] = ps->rerr[i];
    ps->nrerr = k;
}

static int procs_skip_cmp(const void *a, const void *b)
{
    const struct pskip *x = a, *y = b;
    return (x->pid > y->pid) - (x->pid < y->pid);
}

/* k kept for the next scan. */
static void procs_skip(struct procs *ps, const struct pskip *k)
{
    if (grow_array((void **)&ps->fresh, &ps->capfresh, ps->nfresh + 1, sizeof *ps->fresh) == 0)
        ps->fresh[ps->nfresh++] = *k;
}

/* Whether served p, seen now as k, is the process whose maps were read
 * less than PROCS_RECHECK scans ago, with the same start time and
 * executable, and its state file still linked (the shim unlinks it at a
 * clean end): then its maps need no reading, which on a host of profiled
 * processes was most of a scan's cost.  An exec of the same executable is
 * seen at the recheck, as an attach is. */
static int procs_same(const struct procs *ps, const struct proc *p, const struct pskip *k)
{
    struct stat sb;
    return p->start_ticks == k->start_ticks && p->exe_dev == k->exe_dev &&
           p->exe_ino == k->exe_ino && ps->scan - p->checked < PROCS_RECHECK && p->fd >= 0 &&
           fstat(p->fd, &sb) == 0 && sb.st_nlink > 0;
}

/* pid looked at: kept, added, replaced (an exec's file) or not ours. */
static void procs_visit(struct procs *ps, pid_t pid)
{
    uid_t uid;
    char path[4096];
    dev_t dev;
    ino_t ino;
    struct stat sb;
    snprintf(path, sizeof path, "/proc/%d", (int)pid);
    /* the directory's owner is the process's euid: a first sieve */
    if (stat(path, &sb) != 0 || (ps->uid != (uid_t)-1 && sb.st_uid != ps->uid && sb.st_uid != 0))
        return;
    struct proc *p = procs_find(ps, pid);
    struct pskip k = {.pid = pid, .start_ticks = procs_start(pid), .checked = ps->scan};
    snprintf(path, sizeof path, "/proc/%d/exe", (int)pid);
    if (stat(path, &sb) == 0)
        k.exe_dev = sb.st_dev, k.exe_ino = sb.st_ino;
    if (p && procs_same(ps, p, &k)) {
        p->seen = ps->scan;
        return;
    }
    const struct pskip *old = p ? NULL : bsearch(&k, ps->skip, ps->nskip, sizeof k, procs_skip_cmp);
    if (old && old->start_ticks == k.start_ticks && old->exe_dev == k.exe_dev &&
        old->exe_ino == k.exe_ino && ps->scan - old->checked < PROCS_RECHECK) {
        procs_skip(ps, old);
        return;
    }
    if (procs_uid(pid, &uid) != 0 || (ps->uid != (uid_t)-1 && uid != ps->uid) ||
        procs_mapped(pid, path, sizeof path, &dev, &ino) != 0) {
        procs_skip(ps, &k);
        return;
    }
    if (p && p->start_ticks == k.start_ticks && p->dev == dev && p->ino == ino && p->uid == uid) {
        p->seen = p->checked = ps->scan;
        p->exe_dev = k.exe_dev, p->exe_ino = k.exe_ino;
        return;
    }
    const char *why;
    int fd = procs_open(pid, path, dev, ino, uid, &why);
    if (fd < 0) {
        struct proc who = {.pid = pid, .start_ticks = k.start_ticks, .exe_dev = k.exe_dev,
                           .exe_ino = k.exe_ino};
        procs_names_of(&who);
        procs_error(ps, &who, why);
        procs_skip(ps, &k);
        return;
    }
    if (!p) {
        if (grow_array((void **)&ps->v, &ps->cap, ps->n + 1, sizeof *ps->v) < 0) {
            close(fd);
            return;
        }
        p = &ps->v[ps->n++];
    } else {
        if (p->fd >= 0)
            close(p->fd);
        metrics_forget(p);
    }
    *p = (struct proc){.pid = pid, .start_ticks = k.start_ticks, .uid = uid, .fd = fd,
                       .dev = dev, .ino = ino, .seen = ps->scan, .checked = ps->scan,
                       .exe_dev = k.exe_dev, .exe_ino = k.exe_ino};
    procs_names(p);
}

static int procs_cmp(const void *a, const void *b)
{
    const struct proc *x = a, *y = b;
    return (x->pid > y->pid) - (x->pid < y->pid);
}

size_t procs_scan(struct procs *ps, unsigned min_ms)
{
    uint64_t now = procs_now_ns();
    if (ps->scan && now - ps->scanned_ns < (uint64_t)min_ms * 1000000u)
        return ps->n;
    DIR *d = opendir("/proc");
    if (!d)
        return ps->n;
    ps->scan++;
    for (struct dirent *e; (e = readdir(d));) {
        uint64_t pid;
        if (isdigit((unsigned char)e->d_name[0]) && cli_parse_count(e->d_name, 1u << 30, &pid) == 0 &&
            (pid_t)pid != getpid())
            procs_visit(ps, (pid_t)pid);
    }
    closedir(d);
    size_t k = 0;
    for (size_t i = 0; i < ps->n; i++) {
        if (ps->v[i].seen == ps->scan) {
            ps->v[k++] = ps->v[i];
        } else {
            if (ps->v[i].fd >= 0)
                close(ps->v[i].fd);
            metrics_forget(&ps->v[i]);
        }
    }
    ps->n = k;
    procs_error_prune(ps);
    qsort(ps->v, ps->n, sizeof *ps->v, procs_cmp);
    struct pskip *t = ps->skip; /* this scan's skipped ones are the next scan's */
    size_t tcap = ps->capskip;
    ps->skip = ps->fresh, ps->nskip = ps->nfresh, ps->capskip = ps->capfresh;
    ps->fresh = t, ps->nfresh = 0, ps->capfresh = tcap;
    qsort(ps->skip, ps->nskip, sizeof *ps->skip, procs_skip_cmp);
    ps->scanned_ns = procs_now_ns();
    return ps->n;
}

int procs_load(struct procs *ps, const struct proc *p, struct snap *s, struct state_info *info,
               char *err, size_t errlen)
{
    char path[64];
    snprintf(path, sizeof path, "/proc/self/fd/%d", p->fd);
    ps->loads++;
    int rc = state_load_within(path, ps->read_bytes ? ps->read_bytes : UINT64_MAX, s, info, err,
                               errlen);
    if (rc != 0)
        procs_error(ps, p, err);
    return rc;
}

int procs_sums(struct procs *ps, const struct proc *p, uint64_t doc_seen, struct state_sums *sums,
               char *err, size_t errlen)
{
    ps->sums++;
    return state_sums_read(p->fd, doc_seen, sums, err, errlen);
}

uint64_t procs_limit_of(const struct procs *ps, struct proc *p)
{
    if (!p->limit_scan || ps->scan - p->limit_scan >= PROCS_RECHECK) {
        p->limit = procs_limit(p->pid);
        p->limit_scan = ps->scan ? ps->scan : 1;
    }
    return p->limit;
}

uint64_t procs_rss(pid_t pid)
{
    char buf[256];
    unsigned long long size, res;
    if (procs_read(pid, "statm", buf, sizeof buf) <= 0 || sscanf(buf, "%llu %llu", &size, &res) != 2)
        return 0;
    return res * (uint64_t)sysconf(_SC_PAGESIZE);
}

uint64_t procs_limit(pid_t pid)
{
    char buf[4096], path[4200], val[64];
    if (procs_read(pid, "cgroup", buf, sizeof buf) <= 0)
        return 0;
    char *v2 = strncmp(buf, "0::", 3) ? strstr(buf, "\n0::") : buf - 1;
    if (!v2)
        return 0;
    v2 += 4;
    v2[strcspn(v2, "\n")] = 0;
    if (strstr(v2, ".."))
        return 0;
    snprintf(path, sizeof path, "/sys/fs/cgroup%s/memory.max", v2);
    FILE *f = fopen(path, "re");
    if (!f)
        return 0;
    unsigned long long lim = 0;
    if (!fgets(val, sizeof val, f) || sscanf(val, "%llu", &lim) != 1)
        lim = 0; /* "max": no limit */
    fclose(f);
    return lim;
}
