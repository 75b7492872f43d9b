/*
 * snapname.c - where a snapshot goes: its name (HEAPSNAP_OUTPUT's %p pid,
 * %n sequence, %e the program's name as started, %% a '%'; a sequence number inserted
 * before the extension when the pattern has none and more snapshots may
 * follow), the temporary file it is written to, its permissions
 * (HEAPSNAP_MODE), and the manifest line that tells `heapsnap run` it
 * exists.
 *
 * The temporary file is ".<base>.tmp.XXXXXX" beside the final name, created
 * with O_EXCL|O_NOFOLLOW: another user's symlink or file planted in a
 * shared directory is never followed or reused, and a stale one left by a
 * killed process is recognisable.  Nothing here allocates: names are built
 * in the caller's buffers (NAME_MAX_PATH bytes) with raw syscalls.
 */
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h> /* renameat2 only; no stdio streams */
#include <stdlib.h>
#include <string.h>
#include <sys/auxv.h>
#include <sys/random.h>
#include <sys/stat.h>
#include <unistd.h>

#include "snapshot.h"

/* All under the snapshot lock. */
static mode_t name_mode_bits; /* HEAPSNAP_MODE | S_IFREG once read */
static int name_shared;       /* the name chosen last came from a pattern without %p */
static int name_forked;       /* a fork child that has not exec'd: the bare name is its parent's */
static dev_t name_dev;        /* the file this process last put in place */
static ino_t name_ino;

size_t name_exe(char *buf, size_t cap)
{
    ssize_t n = readlink("/proc/self/exe", buf, cap);
    return n < 0 ? 0 : (size_t)n;
}

/* The path the program was started by (what execve was given: AT_EXECFN)
 * where it is the very file /proc/self/exe is: a symlink's name, Debian's
 * redis-server rather than the redis-check-rdb it points to, as the
 * process's comm and a user say it.  Else name_exe's real path (a script
 * run through its #! line keeps its interpreter's name; a relative path
 * whose directory was left fails the check).  No NUL. */
static size_t name_started(char *buf, size_t cap)
{
    const char *fn = (const char *)getauxval(AT_EXECFN);
    struct stat a, b;
    size_t n = fn ? strlen(fn) : 0;
    if (n && n <= cap && stat(fn, &a) == 0 && stat("/proc/self/exe", &b) == 0 &&
        a.st_dev == b.st_dev && a.st_ino == b.st_ino) {
        memcpy(buf, fn, n);
        return n;
    }
    return name_exe(buf, cap);
}

static size_t name_append(char *out, size_t len, const char *s, size_t n)
{
    size_t room = len < NAME_MAX_PATH - 1 ? NAME_MAX_PATH - 1 - len : 0;
    n = n < room ? n : room; /* never more than s holds */
    memcpy(out + len, s, n);
    return len + n;
}

/* Expands %p %n %e %% of pat into out (NUL-terminated); *has_n tells
 * whether %n occurred. */
static void name_expand(char *out, const char *pat, uint32_t seq, int *has_n, int *has_p)
{
    size_t len = 0;
    char num[24], exe[NAME_MAX_PATH];
    *has_n = *has_p = 0;
    for (const char *c = pat; *c; c++) {
        if (*c != '%' || !c[1]) {
            len = name_append(out, len, c, 1);
            continue;
        }
        c++;
        if (*c == 'p') {
            len = name_append(out, len, num, opt_fmt_u64(num, (uint64_t)getpid()));
            *has_p = 1;
        } else if (*c == 'n') {
            len = name_append(out, len, num, opt_fmt_u64(num, seq));
            *has_n = 1;
        } else if (*c == 'e') {
            size_t n = name_started(exe, sizeof exe);
            const char *base = exe;
            for (size_t i = 0; i < n; i++)
                if (exe[i] == '/')
                    base = exe + i + 1;
            len = name_append(out, len, base, (size_t)(exe + n - base));
        } else if (*c == '%') {
            len = name_append(out, len, "%", 1);
        } else {
            len = name_append(out, len, c - 1, 2); /* unknown: kept as is */
        }
    }
    out[len] = 0;
}

/* "a/b.hsnap" -> "a/b.<n>.hsnap"; no extension -> "a/b.<n>". */
static void name_insert_seq(char *name, uint64_t seq)
{
    char num[24], tail[NAME_MAX_PATH];
    size_t len = strlen(name), dot = len;
    for (size_t i = len; i-- > 0 && name[i] != '/';)
        if (name[i] == '.' && i > 0 && name[i - 1] != '/') {
            dot = i;
            break;
        }
    size_t tail_len = len - dot;
    memcpy(tail, name + dot, tail_len);
    num[0] = '.';
    size_t n = 1 + opt_fmt_u64(num + 1, seq);
    len = name_append(name, dot, num, n);
    len = name_append(name, len, tail, tail_len);
    name[len] = 0;
}

/* Tells `heapsnap run` that path was written (err 0) or failed (errno):
 * on its socket (rchan_tell) when this process still holds it, else, for a
 * snapshot written, "<absolute path>\0" appended to HEAPSNAP_MANIFEST in
 * one write (NUL ends a record).  last: the process's exit snapshot, said
 * on the socket (rchan_tell_last).  A path that holds a newline never goes
 * to that file: whatever file the variable names, no line of the
 * environment's choosing is added to it. */
void (*name_notify)(const char *path, int err);

void name_manifest(const char *path, int err, int last)
{
    static atomic_int warned;
    const char *m = opt_str(OPT_MANIFEST);
    char line[2 * NAME_MAX_PATH + 2];
    size_t len = 0;
    if (path[0] != '/' && getcwd(line, NAME_MAX_PATH)) {
        len = strlen(line);
        line[len++] = '/';
    }
    len = name_append(line, len, path, strlen(path));
    line[len] = '\0';
    if (name_notify)
        name_notify(line, err);
    if (rchan_tell(line, err) == 0) {
        if (last && !err)
            rchan_tell_last(line);
        return;
    }
    if (err || !m || !*m || cred_secure())
        return;
    if (memchr(line, '\n', len)) {
        if (!atomic_exchange(&warned, 1))
            opt_warn("a snapshot name holds a newline: not listed in HEAPSNAP_MANIFEST", "", "");
        return;
    }
    name_manifest_append(m, line, len + 1);
}

/* rec (n bytes, its NUL included) appended to the manifest file m in one
 * write; under heapsnap run (HEAPSNAP_MANIFEST_FD) only to the file run
 * made, never one made again after a killed run removed or left it.  The
 * open follows no symlink and blocks on nothing: a link planted in a
 * shared directory (to /etc/passwd, for a root process) is refused, ELOOP,
 * as is anything but a regular file (a FIFO without a reader: ENXIO), or
 * a file of another user with other names (a hard link), EPERM.  SIGXFSZ
 * is held (sighold_take): a manifest past the file size limit fails the
 * write, not the host.  A refusal or a failed write is said once; a file
 * that is not there (run ended) or not ours to open is not.  0, or -1
 * with errno. */
int name_manifest_append(const char *m, const char *rec, size_t n)
{
    static atomic_int warned;
    struct sighold fsz;
    struct stat sb;
    const char *chan = opt_str(OPT_MANIFEST_FD);
    int creat = chan && *chan ? 0 : O_CREAT; /* run's file is run's: none made after it ends */
    int fd = open(m, O_WRONLY | O_APPEND | creat | O_NOFOLLOW | O_NONBLOCK | O_NOCTTY |
                         O_CLOEXEC, 0600), r, e;
    if (fd >= 0 && (fstat(fd, &sb) != 0 || !S_ISREG(sb.st_mode) ||
                    (sb.st_nlink > 1 && sb.st_uid != geteuid()))) {
        close(fd);
        fd = -1;
        errno = EPERM;
    }
    if (fd < 0) {
        e = errno;
        if ((e == ELOOP || e == EPERM || e == ENXIO) && !atomic_exchange(&warned, 1))
            opt_warn("HEAPSNAP_MANIFEST ", m,
                     e == ELOOP ? " is a symbolic link: not followed, nothing appended"
                                : " is not a regular file of this user: nothing appended");
        errno = e;
        return -1;
    }
    sighold_take(&fsz, SIGXFSZ);
    r = sbuf_write_all(fd, rec, n);
    e = errno;
    sighold_drop(&fsz);
    close(fd);
    if (r != 0 && !atomic_exchange(&warned, 1))
        opt_warn("cannot append to ", m, e == EFBIG ? ": the file size limit is reached" : "");
    errno = e;
    return r;
}

/* The name of snapshot seq into out (NAME_MAX_PATH): path taken literally,
 * or HEAPSNAP_OUTPUT expanded, with .<seq> before the extension when the
 * pattern has no %n and more than one snapshot may come (not at exit), and
 * the name is not a device or FIFO's (dest_kind). */
void name_choose(char *out, const char *path, unsigned reason, uint32_t seq)
{
    name_shared = 0;
    if (path) {
        size_t len = name_append(out, 0, path, strlen(path));
        out[len] = 0;
        return;
    }
    int has_n, has_p;
    name_expand(out, opt_str(OPT_OUTPUT), seq, &has_n, &has_p);
    name_shared = !has_p;
    if (!has_n && reason != HSNAP_REASON_EXIT && reason != HSNAP_REASON_FATAL &&
        reason != HSNAP_REASON_DETACH &&
        dest_kind(out, NULL) == DEST_RENAME) /* a device or FIFO takes every one */
        name_insert_seq(out, seq);
}

/* HEAPSNAP_MODE, octal, read once: a bad value, or one with bits past 0777
 * (setuid, setgid, sticky: no snapshot is a program or a directory), warns
 * and gives 0600. */
unsigned name_mode(void)
{
    if (!name_mode_bits) {
        const char *s = opt_str(OPT_MODE);
        char *end = NULL;
        long m = s && *s ? strtol(s, &end, 8) : 0600;
        if (m < 0 || m > 0777 || (end && *end)) {
            opt_warn("bad HEAPSNAP_MODE (want octal permissions up to 0777, e.g. 0644), "
                     "using 0600", "", "");
            m = 0600;
        }
        name_mode_bits = (mode_t)m | S_IFREG; /* nonzero: read */
    }
    return name_mode_bits & 07777;
}

/* ".<base>.tmp.XXXXXX" beside path, into t: six alphanumerics from
 * getrandom, or from the clock and pid where it fails; try moves them on
 * (a name that exists is never reused). */
static void name_tmp(char *t, const char *path, unsigned try)
{
    static const char an[] = "0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz";
    uint8_t r[6];
    size_t len = strlen(path), base = len;
    while (base > 0 && path[base - 1] != '/')
        base--;
    if (getrandom(r, sizeof r, GRND_NONBLOCK) != (ssize_t)sizeof r) {
        uint64_t x = (clock_now_ns() ^ (uint64_t)getpid() << 40) * 0x9e3779b97f4a7c15ULL;
        for (unsigned i = 0; i < sizeof r; i++)
            r[i] = (uint8_t)(x >> (8 * i + 16));
    }
    memcpy(t, path, base);
    t[base] = '.';
    memcpy(t + base + 1, path + base, len - base);
    char *x = t + len + 1;
    memcpy(x, ".tmp.", 5);
    for (unsigned i = 0; i < sizeof r; i++)
        x[5 + i] = an[(r[i] + try * 11u) % (sizeof an - 1)];
    x[5 + sizeof r] = 0;
}

/* Whether the file at path was put there by another process of this run:
 * not the one this process put there last, and written since the run
 * began (an older file is an earlier run's, replaced as before).
 *   Under heapsnap run, the run began at HEAPSNAP_RUN_START, before any
 * process of it: an earlier run's file was written before that instant,
 * so its time (coarse or fine) is older, with no slack, and back-to-back
 * runs never rename around each other's file.  A process of this run
 * writes after it, and only one that wrote within a clock tick of run's
 * own start (faster than a profiled process starts) could read as older.
 *   Without run, this process's start stands for the run's, give or take
 * NAME_MTIME_SLACK: file times come from the kernel's coarse clock, a tick
 * or more behind the real time this process started by, so a sibling's
 * file written just after our start can carry an earlier time; a slack of
 * a second keeps it (and an earlier run's file under a second old is kept
 * too, beside this one). */
#define NAME_MTIME_SLACK 1000000000ull
static int name_taken(const char *path)
{
    struct stat st;
    if (stat(path, &st) != 0)
        return 0;
    if (st.st_dev == name_dev && st.st_ino == name_ino)
        return 0;
    uint64_t mtime = (uint64_t)st.st_mtim.tv_sec * 1000000000ull + (uint64_t)st.st_mtim.tv_nsec;
    uint64_t run = (uint64_t)opt_int(OPT_RUN_START);
    if (run)
        return mtime >= run;
    return mtime + NAME_MTIME_SLACK >= clock_start_ns();
}

/* Not the program's: under heapsnap run, a process of another pid than
 * the one run started (HEAPSNAP_RUN_PID): a spawned or forkserver worker,
 * the resource tracker, any child the program started. */
static int name_not_runs(void)
{
    long run = opt_int(OPT_RUN_PID);
    return run > 0 && run != (long)getpid();
}

/* Moves the written temporary t to path.  Where the name came from a
 * pattern without %p, a fork child that has not exec'd (a Pool's worker,
 * a server's child), and under heapsnap run any process of another pid
 * than the one run started (a spawned worker: a new program), never takes
 * it: the name belongs to the program, which writes at its exit, after
 * its workers, so such a snapshot goes to the name with .<pid> before its
 * extension, silently (path is rewritten).  Any other process that finds
 * the name already written by another process (without run, a shell and
 * the commands it execs under HEAPSNAP_OUTPUT=same.hsnap) does not replace
 * it either: it adds its pid, with one warning.  0, or -1 with errno. */
int name_commit(const char *t, char *path)
{
    static atomic_int warned;
    struct stat st;
    if (name_shared && (name_forked || name_not_runs())) {
        name_insert_seq(path, (uint64_t)getpid());
    } else if (name_shared) {
        int r = renameat2(AT_FDCWD, t, AT_FDCWD, path, RENAME_NOREPLACE);
        if (r == 0 || (errno != EEXIST && errno != EINVAL))
            goto done;
        if (name_taken(path)) {
            if (!atomic_exchange(&warned, 1))
                opt_warn(path, " was written by another process (the name has no %p): ",
                         "adding this one's pid to its name");
            name_insert_seq(path, (uint64_t)getpid());
        }
    }
    if (rename(t, path) != 0)
        return -1;
done:
    if (stat(path, &st) == 0) {
        name_dev = st.st_dev;
        name_ino = st.st_ino;
    }
    return 0;
}

int name_has_pid(void)
{
    return !name_shared;
}

void name_after_fork_child(void)
{
    name_forked = 1;
    name_dev = 0;
    name_ino = 0;
}

/* The temporary file for path, created exclusively (never through a
 * symlink or over a file someone planted), 0600 until written; t gets
 * its name.  The fd, or -1 with errno. */
int name_open_tmp(char *t, const char *path)
{
    if (cred_secure()) {
        errno = EPERM;
        return -1;
    }
    for (unsigned try = 0; try < 16; try++) {
        name_tmp(t, path, try);
        int fd = open(t, O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, 0600);
        if (fd >= 0 || errno != EEXIST)
            return fd;
    }
    return -1;
}

/* An unnamed scratch file beside path, for reading and writing: O_TMPFILE
 * in path's directory, or where its file system has none, a temporary name
 * created exclusively and removed at once.  The fd, or -1 with errno. */
int name_open_side(const char *path)
{
    char t[NAME_MAX_PATH + 32];
    if (cred_secure()) {
        errno = EPERM;
        return -1;
    }
    if (dest_kind(path, NULL) != DEST_RENAME) /* no file goes beside a device */
        return dest_scratch();
    size_t base = strlen(path);
    while (base > 0 && path[base - 1] != '/')
        base--;
    if (base) {
        memcpy(t, path, base);
        t[base] = 0;
    } else {
        strcpy(t, ".");
    }
    int fd = open(t, O_TMPFILE | O_RDWR | O_CLOEXEC, 0600);
    if (fd >= 0 || (errno != EOPNOTSUPP && errno != EISDIR && errno != EINVAL))
        return fd;
    for (unsigned try = 0; try < 16; try++) {
        name_tmp(t, path, try);
        fd = open(t, O_RDWR | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, 0600);
        if (fd >= 0) {
            unlink(t);
            return fd;
        }
        if (errno != EEXIST)
            return -1;
    }
    return -1;
}
