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
#include <time.h>
#include <unistd.h>

#include "runner.h"

/* Whether process pid is alive (not ended, not a zombie its parent has
 * yet to reap) and started no later than `before` (clock ticks since boot,
 * as its start time is; ~0: any), its CPU ticks, with those of the
 * children it has waited for (utime + stime + cutime + cstime: a shell
 * that waits while its commands work is busy), added to *ticks.  A pid
 * the kernel gave again to a process started later is not the one run
 * heard of (pid_max is 32768 on many hosts). */
static int linger_alive(pid_t pid, unsigned long long before, unsigned long long *ticks)
{
    char path[64], buf[512];
    snprintf(path, sizeof(path), "/proc/%d/stat", (int)pid);
    int fd = open(path, O_RDONLY | O_CLOEXEC);
    if (fd < 0)
        return before == ~0ull && kill(pid, 0) == 0; /* no /proc: alive, no ticks to tell */
    ssize_t n = read(fd, buf, sizeof(buf) - 1);
    close(fd);
    if (n <= 0)
        return 0;
    buf[n] = 0;
    char *p = strrchr(buf, ')'); /* the command's name may hold spaces */
    char state = 0;
    unsigned long long ut = 0, st = 0, start = 0;
    long long cut = 0, cst = 0;
    if (!p || sscanf(p + 1, " %c %*d %*d %*d %*d %*d %*u %*u %*u %*u %*u %llu %llu %lld %lld"
                            " %*d %*d %*d %*d %llu",
                     &state, &ut, &st, &cut, &cst, &start) != 6)
        return before == ~0ull && kill(pid, 0) == 0;
    if (state == 'Z' || state == 'X' || (before != ~0ull && start > before + 1))
        return 0;
    *ticks += ut + st + (unsigned long long)(cut > 0 ? cut : 0) +
              (unsigned long long)(cst > 0 ? cst : 0);
    return 1;
}

/* Whether pid, which keeps its state file at path, is alive with the file
 * there, its ticks added to *ticks.  The file was made after its process
 * started and changes while it runs (its change time only grows), so a
 * process of that pid started after the file's last change is another,
 * which the kernel gave the pid after the file's own ended (killed: the
 * file stays). */
static int linger_file_alive(pid_t pid, const char *path, unsigned long long *ticks)
{
    struct stat st;
    if (lstat(path, &st) != 0)
        return 0;
    /* half a second of slack: the file's time is the realtime clock's,
     * which NTP may have stepped since the process started */
    st.st_ctim.tv_sec += st.st_ctim.tv_nsec >= 500000000;
    st.st_ctim.tv_nsec = (st.st_ctim.tv_nsec + 500000000) % 1000000000;
    return linger_alive(pid, mf_boot_ticks(&st.st_ctim), ticks);
}

int linger_is_alive(pid_t pid, const char *path)
{
    unsigned long long t = 0;
    return linger_file_alive(pid, path, &t);
}

/* Whether m lists a state file for pid whose file is there. */
static int linger_has_file(const struct manifest *m, pid_t pid)
{
    struct stat st;
    for (size_t i = 0; i < m->ns; i++)
        if (m->s[i].pid == pid && lstat(m->s[i].path, &st) == 0)
            return 1;
    return 0;
}

/* The processes of m other than child that are alive: *traced counts
 * those with their state file there, their ticks added to *ticks;
 * *untraced those made by one of the run's (m->kin) without one (not yet
 * told, between two images, or a program the shim is not in). */
static void linger_count(const struct manifest *m, const struct manifest *also, pid_t child,
                         unsigned long long *ticks, int *traced, int *untraced)
{
    for (size_t i = 0; i < m->ns; i++) {
        unsigned long long t = 0;
        if (m->s[i].pid > 0 && m->s[i].pid != child &&
            linger_file_alive(m->s[i].pid, m->s[i].path, &t)) {
            (*traced)++;
            *ticks += t;
        }
    }
    for (size_t k = 0; k < m->nkin; k++) {
        unsigned long long t = 0;
        pid_t pid = m->kin[k].pid;
        if (pid != child && !linger_has_file(m, pid) && !linger_has_file(also, pid) &&
            linger_alive(pid, m->kin[k].told, &t))
            (*untraced)++;
    }
}

#define LINGER_IDLE_MS 1000
#define LINGER_MAX_MS 15000
/* Once some process lingered, none seen for this long ends the wait: a
 * process between two helpers shows none for an instant. */
#define LINGER_GAP_MS 100
/* A process the run made, alive without its state file, is waited for
 * this long after the wait began, or after the last moment one with its
 * file lingered: time for a child whose parent ended at once to tell its
 * file (a loaded machine delays it), or for an exec's new image to make
 * its own; one the shim is not in never does. */
#define LINGER_UNTRACED_MS 1000

/* Milliseconds on the monotonic clock: the bounds are the clock's, not a
 * count of rounds (a round on a loaded machine lasts more than its sleep). */
static long long linger_ms(void)
{
    struct timespec t;
    clock_gettime(CLOCK_MONOTONIC, &t);
    return (long long)t.tv_sec * 1000 + t.tv_nsec / 1000000;
}

void linger_wait(const char *manifest, struct manifest *mf, pid_t child, int sock)
{
    unsigned long long last = ~0ull;
    long long t0 = linger_ms(), idle_from = t0, traced_at = t0, gap_from = -1;
    int lingered = 0;
    for (long long now = t0; now - t0 < LINGER_MAX_MS && now - idle_from < LINGER_IDLE_MS;
         now = linger_ms()) {
        struct manifest peek;
        char why[256];
        unsigned long long ticks = 0;
        int traced = 0, untraced = 0;
        if (sock >= 0 && mf_recv(sock, mf) != 0)
            sock = -1; /* every sender is gone, or out of memory */
        memset(&peek, 0, sizeof(peek));
        mf_read(manifest, &peek, why, sizeof(why));
        linger_count(mf, &peek, child, &ticks, &traced, &untraced);
        linger_count(&peek, mf, child, &ticks, &traced, &untraced);
        mf_free(&peek);
        if (traced) {
            lingered = 1;
            gap_from = -1;
            traced_at = now;
            if (ticks != last) { /* busy: the idle second starts again */
                last = ticks;
                idle_from = now;
            }
        } else if (!untraced || now - traced_at >= LINGER_UNTRACED_MS) {
            if (!lingered)
                return;
            if (gap_from < 0)
                gap_from = now;
            else if (now - gap_from >= LINGER_GAP_MS)
                return;
            idle_from = now; /* no process: nothing idles */
        } else {
            idle_from = now;
        }
        usleep(10000);
    }
}
