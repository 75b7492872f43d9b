/*
 * target.c - a program for tests/shim/attach: it runs on while heapsnap attaches
 * and detaches, and says what it did.  Commands, one a line on stdin (a FIFO
 * the test holds open), each answered by one line on stdout:
 *   a N   allocates 100 blocks of N bytes at grow_site (kept)   "allocated K"
 *   f     frees every kept block and the one made at start      "freed"
 *   r     reallocs the block made at start (before any attach)  "realloced"
 *   t N   N threads, each allocating 50 blocks at thread_site   "threads N"
 *   c     4 threads that allocate and free until "C"            "churning"
 *   C     stops and joins them                                  "stopped"
 *   n MS  sleeps MS ms in nanosleep (restarted on EINTR)        "slept ok|short"
 *   l     listens on 127.0.0.1, says the port, blocks in accept,
 *         then reads a line from the connection          "port P" "accepted LINE"
 *   F     forks a child that allocates at fork_site and exits   "child 0"
 *   L     allocates 10 blocks of 40 bytes at leak_site, drops them  "leaked"
 *   R N   reserves N MiB PROT_NONE, kept "reserved N"; q leaves  "bye"
 * It starts by printing "ready PID", having leaked one block of 77 bytes.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

static void *keep[100000];
static int nk;
static void *before;
static volatile int churn_stop;
__attribute__((noinline)) void *grow_site(size_t n) { return malloc(n); }
__attribute__((noinline)) void *thread_site(size_t n) { return malloc(n); }
__attribute__((noinline)) void *fork_site(size_t n) { return malloc(n); }
__attribute__((noinline)) void *churn_site(size_t n) { return malloc(n); }
__attribute__((noinline)) void leak_site(void)
{
    for (int i = 0; i < 10; i++) {
        void *volatile p = malloc(40);
        p = NULL;
    }
}

static void *thread_main(void *arg)
{
    void **mine = arg;
    for (int i = 0; i < 50; i++)
        mine[i] = thread_site(48);
    return NULL;
}

static void *churn_main(void *arg)
{
    void *ring[64] = {0};
    unsigned k = 0;
    (void)arg;
    while (!churn_stop) {
        free(ring[k % 64]);
        ring[k % 64] = churn_site(16 + k % 200);
        k++;
    }
    for (int i = 0; i < 64; i++)
        free(ring[i]);
    return NULL;
}

static long ms_since(const struct timespec *t0)
{
    struct timespec t;
    clock_gettime(CLOCK_MONOTONIC, &t);
    return (t.tv_sec - t0->tv_sec) * 1000 + (t.tv_nsec - t0->tv_nsec) / 1000000;
}

static void do_listen(void)
{
    int s = socket(AF_INET, SOCK_STREAM, 0), c;
    struct sockaddr_in a = {.sin_family = AF_INET, .sin_addr.s_addr = htonl(INADDR_LOOPBACK)};
    socklen_t len = sizeof a;
    char line[64] = "";
    bind(s, (struct sockaddr *)&a, sizeof a);
    listen(s, 1);
    getsockname(s, (struct sockaddr *)&a, &len);
    printf("port %d\n", ntohs(a.sin_port));
    fflush(stdout);
    while ((c = accept(s, NULL, NULL)) < 0 && errno == EINTR)
        ;
    ssize_t n = read(c, line, sizeof line - 1);
    line[n > 0 ? n : 0] = 0;
    line[strcspn(line, "\r\n")] = 0;
    printf("accepted %s\n", line);
    close(c);
    close(s);
}

int main(void)
{
    char line[128];
    pthread_t churn[4];
    before = malloc(1000);
    {
        void *volatile lost = malloc(77); /* leaked before any attach */
        lost = NULL;
    }
    printf("ready %d\n", (int)getpid());
    fflush(stdout);
    while (fgets(line, sizeof line, stdin)) {
        int n = atoi(line + 1);
        switch (line[0]) {
        case 'a':
            for (int i = 0; i < 100; i++)
                keep[nk++] = grow_site((size_t)n);
            printf("allocated %d\n", nk);
            break;
        case 'f':
            for (int i = 0; i < nk; i++)
                free(keep[i]);
            nk = 0;
            free(before);
            before = NULL;
            printf("freed\n");
            break;
        case 'r':
            before = realloc(before, 5000);
            printf("realloced\n");
            break;
        case 't': {
            pthread_t t[16];
            static void *blocks[16][50];
            for (int i = 0; i < n && i < 16; i++)
                pthread_create(&t[i], NULL, thread_main, blocks[i]);
            for (int i = 0; i < n && i < 16; i++)
                pthread_join(t[i], NULL);
            printf("threads %d\n", n);
            break;
        }
        case 'c':
            churn_stop = 0;
            for (int i = 0; i < 4; i++)
                pthread_create(&churn[i], NULL, churn_main, NULL);
            printf("churning\n");
            break;
        case 'C':
            churn_stop = 1;
            for (int i = 0; i < 4; i++)
                pthread_join(churn[i], NULL);
            printf("stopped\n");
            break;
        case 'n': {
            struct timespec t0, req = {n / 1000, (n % 1000) * 1000000L}, rem;
            clock_gettime(CLOCK_MONOTONIC, &t0);
            printf("sleeping\n");
            fflush(stdout);
            while (nanosleep(&req, &rem) != 0 && errno == EINTR)
                req = rem;
            printf("slept %s\n", ms_since(&t0) >= n ? "ok" : "short");
            break;
        }
        case 'l':
            do_listen();
            break;
        case 'R': {
            void *r = mmap(NULL, (size_t)n << 20, PROT_NONE,
                           MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE, -1, 0);
            printf("reserved %d\n", r == MAP_FAILED ? -1 : n);
            break;
        }
        case 'F': {
            pid_t p = fork();
            if (p == 0) {
                for (int i = 0; i < 100; i++)
                    keep[nk++] = fork_site(24);
                exit(0);
            }
            int st = -1;
            waitpid(p, &st, 0);
            printf("child %d\n", WIFEXITED(st) ? WEXITSTATUS(st) : 128 + WTERMSIG(st));
            break;
        }
        case 'L':
            leak_site();
            printf("leaked\n");
            break;
        case 'q':
            printf("bye\n");
            return 0;
        }
        fflush(stdout);
    }
    return 0;
}
