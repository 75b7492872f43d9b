/*
 * follow.c - which of the snapshots written under `heapsnap run` it keeps.
 *
 * A launcher (a wrapper script that ends in `exec`, `env`, pyenv's shim)
 * runs helpers - `$(...)` subshells, readlink, basename - and then execs the
 * program in its own pid.  Those helpers served the launcher, not the
 * program, so by default run leaves their snapshots out (and removes the
 * files): a helper is a process started before its parent's last image
 * began (its parent exec'd after starting it), or any process under a
 * helper.  Both facts come from each snapshot's META: a process's image
 * start (a fork child keeps its parent's) and its parent's pid.  A snapshot
 * that cannot be read, or whose parent wrote none, is kept.
 *   A wrapper that runs Python as its child instead of exec'ing it (`uv
 * run`, a script without `exec`) is the pid run started, so the name
 * without %p is its own: follow_hand_name gives it to the Python program
 * when the wrapper ran no Python itself, started exactly one process that
 * did, and ended within FOLLOW_HAND_NS of it.  Whether a process ran
 * Python is whether its snapshot holds Python code (PYCODE) or objects
 * (PYTYPES), read from the sections' headers alone.  A shell (`sh -c
 * CMD` where the shell forks CMD rather than exec it, a script without
 * `exec`) hands the name as well to the one process it started, whatever
 * that runs, when it started only one and that one peaked at least as high
 * (a script that did its work itself and ran `date` at its end keeps it);
 * the shell is known by its image (META's exe).
 */
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "hsnap_format.h"
#include "hsnap_shells.h"
#include "runner.h"

struct follow_proc {
    uint32_t pid, ppid;
    uint64_t start; /* this snapshot's image start */
    uint64_t time;  /* when it was written */
    uint64_t peak;  /* its traced peak */
    int known;      /* META read */
    int helper;
};

/* META's pid, ppid, start, time and peak from the file's first section;
 * 0, or -1. */
static int follow_meta(const char *path, struct follow_proc *p)
{
    struct {
        struct hsnap_header h;
        struct hsnap_section s;
        struct hsnap_meta m;
    } __attribute__((packed)) buf;
    int fd = open(path, O_RDONLY | O_CLOEXEC | O_NOFOLLOW);
    if (fd < 0)
        return -1;
    ssize_t n = pread(fd, &buf, sizeof buf, 0);
    close(fd);
    if (n != (ssize_t)sizeof buf || memcmp(buf.h.magic, HSNAP_MAGIC, HSNAP_MAGIC_LEN) ||
        buf.h.version > HSNAP_VERSION || buf.h.header_size != sizeof buf.h ||
        buf.s.type != HSNAP_SEC_META || buf.s.length < sizeof buf.m)
        return -1;
    p->pid = buf.m.pid;
    p->ppid = buf.m.ppid;
    p->start = buf.m.start_ns;
    p->time = buf.m.time_ns;
    p->peak = buf.m.peak_bytes;
    return 0;
}

/* META's exe (after its cmdline) into out, NUL-terminated; 0, or -1 (no
 * such string, or one that does not fit). */
static int follow_exe(const char *path, char *out, size_t cap)
{
    struct {
        struct hsnap_header h;
        struct hsnap_section s;
    } __attribute__((packed)) head;
    uint32_t len;
    int fd = open(path, O_RDONLY | O_CLOEXEC | O_NOFOLLOW), ok = -1;
    if (fd < 0)
        return -1;
    uint64_t at = sizeof head + sizeof(struct hsnap_meta), end = 0;
    if (pread(fd, &head, sizeof head, 0) == (ssize_t)sizeof head &&
        head.s.type == HSNAP_SEC_META && head.s.length >= sizeof(struct hsnap_meta)) {
        end = sizeof head + head.s.length;
        if (at + 4 <= end && pread(fd, &len, 4, (off_t)at) == 4 && len <= end - at - 4)
            at += 4 + (uint64_t)len; /* the cmdline, skipped */
        else
            end = 0;
    }
    if (end && at + 4 <= end && pread(fd, &len, 4, (off_t)at) == 4 && len < cap &&
        len <= end - at - 4 && pread(fd, out, len, (off_t)(at + 4)) == (ssize_t)len) {
        out[len] = 0;
        ok = 0;
    }
    close(fd);
    return ok;
}

/* Whether the image at exe is a command shell (hsnap_shells.h), by its
 * file name: a shell that runs its command as a child rather than exec it
 * is a wrapper. */
static int follow_is_shell(const char *exe)
{
    const char *base = strrchr(exe, '/');
    return hsnap_is_shell(base ? base + 1 : exe);
}

/* The latest image start among pid's snapshots, 0 when it wrote none. */
static uint64_t follow_last_start(const struct follow_proc *p, size_t n, uint32_t pid)
{
    uint64_t last = 0;
    for (size_t i = 0; i < n; i++)
        if (p[i].known && p[i].pid == pid && p[i].start > last)
            last = p[i].start;
    return last;
}

/* Whether pid has a snapshot marked as a helper's. */
static int follow_is_helper(const struct follow_proc *p, size_t n, uint32_t pid)
{
    for (size_t i = 0; i < n; i++)
        if (p[i].known && p[i].pid == pid && p[i].helper)
            return 1;
    return 0;
}

size_t follow_drop_helpers(struct manifest *mf)
{
    struct follow_proc *p = calloc(mf->n ? mf->n : 1, sizeof(*p));
    size_t kept = 0, dropped = 0;
    if (!p)
        return 0; /* keep everything */
    for (size_t i = 0; i < mf->n; i++)
        p[i].known = follow_meta(mf->e[i].path, &p[i]) == 0;
    for (size_t i = 0; i < mf->n; i++) {
        uint64_t last = p[i].known ? follow_last_start(p, mf->n, p[i].ppid) : 0;
        p[i].helper = last && p[i].start < last;
    }
    for (int changed = 1; changed;) { /* and everything under a helper */
        changed = 0;
        for (size_t i = 0; i < mf->n; i++)
            if (p[i].known && !p[i].helper && follow_is_helper(p, mf->n, p[i].ppid))
                p[i].helper = changed = 1;
    }
    for (size_t i = 0; i < mf->n; i++) {
        if (p[i].helper) {
            unlink(mf->e[i].path);
            free(mf->e[i].path);
            dropped++;
        } else {
            mf->e[kept++] = mf->e[i];
        }
    }
    mf->n = kept;
    free(p);
    return dropped;
}

/* Whether the snapshot at path holds Python code or objects: its
 * sections' headers walked with pread, payloads skipped; 0 on any doubt. */
static int follow_ran_python(const char *path)
{
    struct hsnap_header h;
    struct hsnap_section s;
    int fd = open(path, O_RDONLY | O_CLOEXEC | O_NOFOLLOW), found = 0;
    if (fd < 0)
        return 0;
    if (pread(fd, &h, sizeof h, 0) != (ssize_t)sizeof h ||
        memcmp(h.magic, HSNAP_MAGIC, HSNAP_MAGIC_LEN) || h.header_size != sizeof h) {
        close(fd);
        return 0;
    }
    uint64_t off = sizeof h;
    for (unsigned n = 0; !found && n < 4096 && off + sizeof s <= h.file_size; n++) {
        if (pread(fd, &s, sizeof s, (off_t)off) != (ssize_t)sizeof s)
            break;
        uint32_t type = s.type & ~HSNAP_SEC_ZSTD;
        if (type == HSNAP_SEC_END || s.length > h.file_size - off - sizeof s)
            break;
        found = (type == HSNAP_SEC_PYCODE || type == HSNAP_SEC_PYTYPES) && s.length > 0;
        off += sizeof s + s.length;
    }
    close(fd);
    return found;
}

/* name with ".<pid>" before its extension, as the shim's name_commit
 * names a process that is not the program's; 0, or -1 when too long. */
static int follow_pid_name(const char *name, uint32_t pid, char *out, size_t cap)
{
    size_t len = strlen(name), dot = len;
    for (size_t i = len; i-- > 0 && name[i] != '/';)
        if (name[i] == '.' && i > 0 && name[i - 1] != '/') {
            dot = i;
            break;
        }
    int n = snprintf(out, cap, "%.*s.%u%s", (int)dot, name, pid, name + dot);
    return n < 0 || (size_t)n >= cap ? -1 : 0;
}

/* The one child of root (at mf index r) that ran Python, or with
 * python 0 the one child at all: its index in mf, with theirs its name;
 * mf->n when there are none or two. */
static size_t follow_only_child(const struct manifest *mf, size_t r, const char *named,
                                const struct follow_proc *root, int python, char *theirs,
                                size_t cap)
{
    struct follow_proc p;
    uint32_t child = 0;
    size_t c = mf->n;
    for (size_t i = 0; i < mf->n; i++) {
        if (i == r || follow_meta(mf->e[i].path, &p) < 0 || p.ppid != root->pid ||
            p.pid == root->pid || (python && !follow_ran_python(mf->e[i].path)))
            continue;
        if (child && child != p.pid)
            return mf->n; /* two of them: neither is the program */
        child = p.pid;
        if (follow_pid_name(named, p.pid, theirs, cap) == 0 && !strcmp(mf->e[i].path, theirs))
            c = i; /* its exit snapshot, at the name run would give it */
    }
    return c;
}

pid_t follow_hand_name(struct manifest *mf, const char *named, pid_t program, int *python)
{
    struct follow_proc root, p;
    size_t r = mf->n, c;
    char mine[PATH_MAX], theirs[PATH_MAX], exe[PATH_MAX];
    for (size_t i = 0; named && i < mf->n; i++)
        if (!strcmp(mf->e[i].path, named))
            r = i;
    if (r == mf->n || follow_meta(named, &root) < 0 || root.pid != (uint32_t)program ||
        follow_ran_python(named))
        return 0;
    *python = 1;
    c = follow_only_child(mf, r, named, &root, 1, theirs, sizeof theirs);
    if (c == mf->n && follow_exe(named, exe, sizeof exe) == 0 && follow_is_shell(exe)) {
        *python = 0;
        c = follow_only_child(mf, r, named, &root, 0, theirs, sizeof theirs);
    }
    if (c == mf->n || follow_meta(mf->e[c].path, &p) < 0 || p.time > root.time ||
        root.time - p.time > FOLLOW_HAND_NS || (!*python && p.peak < root.peak) ||
        follow_pid_name(named, root.pid, mine, sizeof mine) < 0)
        return 0;
    if (renameat2(AT_FDCWD, named, AT_FDCWD, mine, RENAME_NOREPLACE) != 0)
        return 0;
    if (rename(theirs, named) != 0) {
        rename(mine, named);
        return 0;
    }
    char *m = strdup(mine);
    if (!m) { /* keep the list true to the disk */
        rename(named, theirs);
        rename(mine, named);
        return 0;
    }
    free(mf->e[c].path);
    mf->e[c].path = mf->e[r].path; /* the name */
    mf->e[r].path = m;
    return (pid_t)p.pid;
}
