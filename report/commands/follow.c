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
 */
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "follow.h"
#include "hsnap_format.h"

struct follow_proc {
    uint32_t pid, ppid;
    uint64_t start; /* this snapshot's image start */
    int known;      /* META read */
    int helper;
};

/* META's pid, ppid and start from the file's first section; 0, or -1. */
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
    return 0;
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
