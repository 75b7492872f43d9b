/*
 * linger.c - the processes of a run that outlive its command
 * (multiprocessing's resource tracker, a worker a pool has just ended, a
 * background job): `heapsnap run` gives them time to end and write their
 * snapshot (linger_wait) rather than name them as killed.  A process lingers
 * while it is alive and its state file is there; it is busy while its
 * CPU time, or that of the children it reaped, grows.
 */
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "runner.h"

/* The CPU ticks process pid has used, with those of its children it has
 * waited for (utime + stime + cutime + cstime: a shell that waits while its
 * commands work is busy), or 0 when /proc cannot say. */
static unsigned long long linger_ticks(pid_t pid)
{
    char path[64], buf[512];
    snprintf(path, sizeof(path), "/proc/%d/stat", (int)pid);
    int fd = open(path, O_RDONLY | O_CLOEXEC);
    if (fd < 0)
        return 0;
    ssize_t n = read(fd, buf, sizeof(buf) - 1);
    close(fd);
    if (n <= 0)
        return 0;
    buf[n] = 0;
    char *p = strrchr(buf, ')'); /* the command's name may hold spaces */
    unsigned long long ut = 0, st = 0;
    long long cut = 0, cst = 0;
    if (!p || sscanf(p + 1, " %*c %*d %*d %*d %*d %*d %*u %*u %*u %*u %*u %llu %llu %lld %lld", &ut,
                     &st, &cut, &cst) != 4)
        return 0;
    unsigned long long waited = (unsigned long long)(cut > 0 ? cut : 0) +
                                (unsigned long long)(cst > 0 ? cst : 0);
    return ut + st + waited;
}

/* Whether a process of m other than child lingers, their CPU ticks added
 * to *ticks. */
static int linger_any(const struct manifest *m, pid_t child, unsigned long long *ticks)
{
    struct stat st;
    int any = 0;
    for (size_t i = 0; i < m->ns; i++)
        if (m->s[i].pid > 0 && m->s[i].pid != child && kill(m->s[i].pid, 0) == 0 &&
            lstat(m->s[i].path, &st) == 0) {
            any = 1;
            *ticks += linger_ticks(m->s[i].pid);
        }
    return any;
}

#define LINGER_IDLE_MS 1000
#define LINGER_MAX_MS 15000
/* Once some process lingered, none seen for this long ends the wait: a
 * process between two images (an exec removes the state file, the new
 * image makes its own) and between two helpers shows none for an instant. */
#define LINGER_GAP_MS 100

void linger_wait(const char *manifest, const struct manifest *mf, pid_t child)
{
    unsigned long long last = ~0ull;
    int idle_ms = 0, gap_ms = 0, lingered = 0;
    for (int ms = 0; ms < LINGER_MAX_MS && idle_ms < LINGER_IDLE_MS; ms += 10) {
        struct manifest peek;
        char why[256];
        unsigned long long ticks = 0;
        memset(&peek, 0, sizeof(peek));
        mf_read(manifest, &peek, why, sizeof(why));
        int wait = linger_any(mf, child, &ticks);
        wait |= linger_any(&peek, child, &ticks);
        mf_free(&peek);
        if (!wait) {
            if (!lingered || (gap_ms += 10) >= LINGER_GAP_MS)
                return;
            usleep(10000);
            continue;
        }
        lingered = 1;
        gap_ms = 0;
        if (ticks != last) {
            last = ticks;
            idle_ms = 0;
        } else {
            idle_ms += 10;
        }
        usleep(10000);
    }
}
