/*
 * linger.c - the processes of a run that outlive its command
 * (multiprocessing's resource tracker, a worker a pool has just ended, a
 * background job): `heapsnap run` gives them time to end and write their
 * snapshot (linger_wait) rather than name them as killed.  A process lingers
 * while it is alive and its state file is there; it is busy while its
 * CPU time, or that of the children it reaped, grows.  One alive without
 * its file (a child whose parent ended before it could tell it, an exec's
 * new image not yet started) is given LINGER_UNTRACED_MS to tell one.
 */
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "runner.h"

/* Whether process pid is alive (not ended, not a zombie its parent has
 * yet to reap), its CPU ticks, with those of the children it has waited
 * for (utime + stime + cutime + cstime: a shell that waits while its
 * commands work is busy), added to *ticks. */
static int linger_alive(pid_t pid, unsigned long long *ticks)
{
    char path[64], buf[512];
    snprintf(path, sizeof(path), "/proc/%d/stat", (int)pid);
    int fd = open(path, O_RDONLY | O_CLOEXEC);
    if (fd < 0)
        return kill(pid, 0) == 0; /* no /proc: alive, with no ticks to tell */
    ssize_t n = read(fd, buf, sizeof(buf) - 1);
    close(fd);
    if (n <= 0)
        return 0;
    buf[n] = 0;
    char *p = strrchr(buf, ')'); /* the command's name may hold spaces */
    char state = 0;
    unsigned long long ut = 0, st = 0;
    long long cut = 0, cst = 0;
    if (!p || sscanf(p + 1, " %c %*d %*d %*d %*d %*d %*u %*u %*u %*u %*u %llu %llu %lld %lld",
                     &state, &ut, &st, &cut, &cst) != 5)
        return kill(pid, 0) == 0;
    if (state == 'Z' || state == 'X')
        return 0;
    *ticks += ut + st + (unsigned long long)(cut > 0 ? cut : 0) +
              (unsigned long long)(cst > 0 ? cst : 0);
    return 1;
}

/* The processes of m other than child that are alive: *traced counts
 * those whose state file is there, their ticks added to *ticks;
 * *untraced those whose file is not (between two images, not yet told,
 * or a program the shim is not in).  A process made by one of the run's
 * (m->kin) counts as untraced until its state file is told. */
static void linger_count(const struct manifest *m, pid_t child, unsigned long long *ticks,
                         int *traced, int *untraced)
{
    struct stat st;
    for (size_t i = 0; i < m->ns; i++) {
        unsigned long long t = 0;
        if (m->s[i].pid <= 0 || m->s[i].pid == child || !linger_alive(m->s[i].pid, &t))
            continue;
        if (lstat(m->s[i].path, &st) == 0) {
            (*traced)++;
            *ticks += t;
        } else {
            (*untraced)++;
        }
    }
    for (size_t k = 0; k < m->nkin; k++) {
        unsigned long long t = 0;
        size_t i = 0;
        while (i < m->ns && m->s[i].pid != m->kin[k])
            i++;
        if (i == m->ns && m->kin[k] != child && linger_alive(m->kin[k], &t))
            (*untraced)++;
    }
}

#define LINGER_IDLE_MS 1000
#define LINGER_MAX_MS 15000
/* Once some process lingered, none seen for this long ends the wait: a
 * process between two helpers shows none for an instant. */
#define LINGER_GAP_MS 100
/* A process of the run alive without its state file is waited for this
 * long after the wait began, or after the last moment one with its file
 * lingered: time for a child whose parent ended at once to tell its file
 * (a loaded machine delays it), or for an exec's new image to make its
 * own; one the shim is not in never does. */
#define LINGER_UNTRACED_MS 1000

void linger_wait(const char *manifest, struct manifest *mf, pid_t child, int sock)
{
    unsigned long long last = ~0ull;
    int idle_ms = 0, gap_ms = 0, lingered = 0, traced_ms = 0;
    for (int ms = 0; ms < LINGER_MAX_MS && idle_ms < LINGER_IDLE_MS; ms += 10) {
        struct manifest peek;
        char why[256];
        unsigned long long ticks = 0;
        int traced = 0, untraced = 0;
        if (sock >= 0 && mf_recv(sock, mf) != 0)
            sock = -1; /* every sender is gone, or out of memory */
        memset(&peek, 0, sizeof(peek));
        mf_read(manifest, &peek, why, sizeof(why));
        linger_count(mf, child, &ticks, &traced, &untraced);
        linger_count(&peek, child, &ticks, &traced, &untraced);
        mf_free(&peek);
        if (traced) {
            lingered = 1;
            gap_ms = 0;
            traced_ms = ms;
            if (ticks != last) {
                last = ticks;
                idle_ms = 0;
            } else {
                idle_ms += 10;
            }
        } else if (!untraced || ms - traced_ms >= LINGER_UNTRACED_MS) {
            if (!lingered || (gap_ms += 10) >= LINGER_GAP_MS)
                return;
        }
        usleep(10000);
    }
}
