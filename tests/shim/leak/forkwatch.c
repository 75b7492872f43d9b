/*
 * forkwatch.c - what a program sees while heapsnap_collect runs the leak
 * check on a fork of it: a watcher thread runs during the check and looks
 * for a child of the process (waitid with __WALL and WNOWAIT: it reaps
 * nothing), then for its exit signal (/proc/PID/stat, field 38); a SIGCHLD
 * handler counts signals; after the check waitpid(-1) must find no child.
 * The heap: LIVE reachable blocks and one leaked block.
 *
 * Prints "seen=S exit_signal=E sigchld=C waitpid=W errno=X leaked=L":
 * S 1 when the watcher ran while the check ran and saw its child, E that
 * child's exit signal (0: none, so no SIGCHLD and invisible to wait()),
 * C the SIGCHLD signals, W and X waitpid(-1, WNOHANG)'s result and errno
 * (-1, ECHILD = 10: no child left), L heapsnap_collect's leaked blocks.
 * Usage: forkwatch LIVE [reap|kill]: with reap, SIGCHLD is ignored and a
 * thread calls waitpid(-1) in a loop during the check, as a service that
 * reaps every child does; with kill, the watcher sends the check's child
 * SIGKILL (the shim must say so, and the check returns -1).
 */
#include <dirent.h>
#include <errno.h>
#include <pthread.h>
#include <signal.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include "heapsnap.h"

static void **live;
static void *volatile leak;
static atomic_int phase, sigchld; /* phase: 0 before the check, 1 during, 2 after */
static int seen, exit_signal = -1;

static void on_chld(int s)
{
    (void)s;
    atomic_fetch_add(&sigchld, 1);
}

static int killer; /* the kill mode: the watcher sends the child SIGKILL */

/* The exit signal of our child, from /proc (-1: none found); in the kill
 * mode it sends the child SIGKILL, as the OOM killer would (it blocks the
 * other signals). */
static int child_exit_signal(void)
{
    char path[64], buf[512];
    int found = -1;
    DIR *d = opendir("/proc");
    struct dirent *e;
    while (d && found < 0 && (e = readdir(d))) {
        snprintf(path, sizeof path, "/proc/%s/stat", e->d_name);
        FILE *f = fopen(path, "r");
        if (!f)
            continue;
        size_t n = fread(buf, 1, sizeof buf - 1, f);
        fclose(f);
        buf[n] = 0;
        char *p = strrchr(buf, ')'); /* fields after the command name */
        int ppid = 0, field = 2;
        for (char *t = p ? strtok(p + 1, " ") : NULL; t; t = strtok(NULL, " ")) {
            field++;
            if (field == 4)
                ppid = atoi(t);
            if (field == 38 && ppid == getpid()) {
                found = atoi(t);
                if (killer)
                    kill(atoi(e->d_name), SIGKILL);
            }
        }
    }
    if (d)
        closedir(d);
    return found;
}

static void *watch(void *arg)
{
    (void)arg;
    while (atomic_load(&phase) == 0)
        ;
    while (atomic_load(&phase) == 1 && !seen) {
        siginfo_t si;
        if (waitid(P_ALL, 0, &si, WEXITED | WNOHANG | WNOWAIT | __WALL) == 0) {
            seen = 1;
            exit_signal = child_exit_signal();
        }
    }
    return NULL;
}

static void *reap(void *arg)
{
    (void)arg;
    while (atomic_load(&phase) == 0)
        ;
    while (atomic_load(&phase) == 1)
        waitpid(-1, NULL, WNOHANG);
    return NULL;
}

__attribute__((noinline)) static void make_leak(void)
{
    leak = malloc(4321);
    memset(leak, 0x5a, 4321);
    leak = NULL;
}

__attribute__((noinline)) static void scrub(void)
{
    volatile char pad[8192];
    memset((char *)pad, 0, sizeof pad);
}

int main(int argc, char **argv)
{
    long n = argc > 1 ? atol(argv[1]) : 0;
    int reaper = argc > 2 && !strcmp(argv[2], "reap");
    killer = argc > 2 && !strcmp(argv[2], "kill");
    if (n < 1)
        return 2;
    signal(SIGCHLD, reaper ? SIG_IGN : on_chld);
    live = calloc((size_t)n, sizeof *live);
    for (long i = 0; i < n; i++)
        live[i] = calloc(1, 24 + (size_t)(i % 7) * 8);
    make_leak();
    scrub();
    pthread_t w, r;
    pthread_create(&w, NULL, watch, NULL);
    if (reaper)
        pthread_create(&r, NULL, reap, NULL);
    atomic_store(&phase, 1);
    long leaked = heapsnap_collect(NULL);
    atomic_store(&phase, 2);
    pthread_join(w, NULL);
    if (reaper)
        pthread_join(r, NULL);
    errno = 0;
    int wr = waitpid(-1, NULL, WNOHANG);
    printf("seen=%d exit_signal=%d sigchld=%d waitpid=%d errno=%d leaked=%ld\n", seen,
           exit_signal, atomic_load(&sigchld), wr, errno, leaked);
    return 0;
}
