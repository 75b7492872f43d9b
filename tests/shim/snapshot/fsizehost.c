/*
 * fsizehost.c - a host under a file size limit (RLIMIT_FSIZE), for
 * test_fsizelimit.sh.  It keeps 20,000 blocks from 50 sites (a snapshot
 * of tens of KiB), then:
 *   (none)          prints "done 20000" and exits 0;
 *   wait MS         the same after MS milliseconds (interval snapshots);
 *   lower KIB       lowers its own soft limit to KIB KiB, then forks a
 *                   child that allocates and exits (its own state file and
 *                   exit snapshot, past the limit) and reaps it: "child
 *                   STATUS" (its wait status), then "done 20000";
 *   write FILE N    writes N bytes to FILE itself: past the limit the
 *                   kernel kills it with SIGXFSZ, under the shim or not;
 *   pending FILE N SNAP
 *                   with SIGXFSZ blocked, writes N bytes to FILE (past the
 *                   limit the signal is pending), takes a snapshot to SNAP
 *                   through the API (past the limit too), and prints
 *                   "pending P blocked B": the host's own signal is still
 *                   pending after the shim's write, and its mask is as it was.
 */
#include <fcntl.h>
#include <heapsnap.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#define NKEEP 20000
static void *keep[NKEEP];

#define SITE(n) \
    __attribute__((noinline)) static void site##n(int i) { keep[i] = malloc(16 + n); }
SITE(0) SITE(1) SITE(2) SITE(3) SITE(4) SITE(5) SITE(6) SITE(7) SITE(8) SITE(9)

static void (*const sites[])(int) = {site0, site1, site2, site3, site4,
                                     site5, site6, site7, site8, site9};

/* 50 distinct stacks: 10 sites under 5 callers */
__attribute__((noinline)) static void fill(int from, int to, int k)
{
    for (int i = from; i < to; i++)
        sites[i % 10](i);
    (void)k;
}
__attribute__((noinline)) static void caller0(int a, int b) { fill(a, b, 0); }
__attribute__((noinline)) static void caller1(int a, int b) { fill(a, b, 1); }
__attribute__((noinline)) static void caller2(int a, int b) { fill(a, b, 2); }
__attribute__((noinline)) static void caller3(int a, int b) { fill(a, b, 3); }
__attribute__((noinline)) static void caller4(int a, int b) { fill(a, b, 4); }

static void keep_all(void)
{
    caller0(0, 4000);
    caller1(4000, 8000);
    caller2(8000, 12000);
    caller3(12000, 16000);
    caller4(16000, NKEEP);
}

static int write_bytes(const char *path, long n)
{
    static char buf[4096];
    int fd = open(path, O_WRONLY | O_CREAT | O_TRUNC, 0600);
    if (fd < 0)
        return -1;
    memset(buf, 'x', sizeof buf);
    for (long put = 0; put < n;) {
        ssize_t w = write(fd, buf, n - put < (long)sizeof buf ? (size_t)(n - put) : sizeof buf);
        if (w <= 0)
            break;
        put += w;
    }
    return close(fd);
}

int main(int argc, char **argv)
{
    const char *mode = argc > 1 ? argv[1] : "";
    keep_all();
    if (!strcmp(mode, "wait") && argc > 2) {
        long ms = atol(argv[2]);
        struct timespec ts = {ms / 1000, (ms % 1000) * 1000000L};
        nanosleep(&ts, NULL);
    } else if (!strcmp(mode, "lower") && argc > 2) {
        struct rlimit rl;
        getrlimit(RLIMIT_FSIZE, &rl);
        rl.rlim_cur = (rlim_t)atol(argv[2]) * 1024;
        if (setrlimit(RLIMIT_FSIZE, &rl) != 0)
            return perror("setrlimit"), 2;
        pid_t pid = fork();
        if (pid == 0) {
            for (int i = 0; i < 1000; i++)
                free(malloc(64));
            keep_all(); /* the child's own blocks */
            exit(0);
        }
        int st = -1;
        waitpid(pid, &st, 0);
        printf("child %d\n", st);
    } else if (!strcmp(mode, "write") && argc > 3) {
        write_bytes(argv[2], atol(argv[3]));
    } else if (!strcmp(mode, "pending") && argc > 4) {
        sigset_t one, now;
        sigemptyset(&one);
        sigaddset(&one, SIGXFSZ);
        sigprocmask(SIG_BLOCK, &one, NULL);
        write_bytes(argv[2], atol(argv[3]));
        if (heapsnap_take_snapshot)
            heapsnap_take_snapshot(argv[4]);
        sigpending(&now);
        int pending = sigismember(&now, SIGXFSZ);
        sigprocmask(SIG_BLOCK, NULL, &now);
        printf("pending %d blocked %d\n", pending, sigismember(&now, SIGXFSZ));
    }
    printf("done %d\n", NKEEP);
    return 0;
}
