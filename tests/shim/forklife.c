/*
 * forklife.c - fork: the parent keeps 3 x 111 B (parent_site), the child keeps
 * 5 x 222 B (child_site) and exits 7; the parent reports the child's status.
 * With "crash" as argument the program instead dies of argv[2]: "segv"
 * (a null store) or "abort", after keeping 4 x 333 B (crash_site).  With
 * "wait" it prints "ready", allocates every 10 ms and exits 0 after 5 s
 * unless a signal ends it first.  With "forksig" the parent sends SIGUSR2 to
 * a child that allocates and then sleeps (run it under the shim only, with
 * HEAPSNAP_SIGNAL=USR2: the child's restarted helper writes its snapshot).
 */
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

static void *keep[64];
static int nkeep;

__attribute__((noinline)) static void parent_site(void) { for (int i = 0; i < 3; i++) keep[nkeep++] = malloc(111); }
__attribute__((noinline)) static void child_site(void) { for (int i = 0; i < 5; i++) keep[nkeep++] = malloc(222); }
__attribute__((noinline)) static void crash_site(void) { for (int i = 0; i < 4; i++) keep[nkeep++] = malloc(333); }

static int do_fork(void)
{
    parent_site();
    fflush(stdout);
    pid_t pid = fork();
    if (pid == 0) {
        child_site();
        printf("child done\n");
        exit(7);
    }
    int st;
    waitpid(pid, &st, 0);
    printf("child status %d\n", WIFEXITED(st) ? WEXITSTATUS(st) : -1);
    return 0;
}

static int do_crash(const char *how)
{
    crash_site();
    printf("about to crash\n");
    fflush(stdout);
    if (!strcmp(how, "abort"))
        abort();
    *(volatile int *)keep[nkeep] = 1; /* keep[nkeep] is NULL */
    return 0;
}

static int do_wait(void)
{
    struct timespec ten_ms = {0, 10000000};
    printf("ready\n");
    fflush(stdout);
    for (int i = 0; i < 500; i++) {
        free(keep[i % 64]);
        keep[i % 64] = malloc(100 + (size_t)i);
        nanosleep(&ten_ms, NULL);
    }
    printf("done\n");
    return 0;
}

static void nap_ms(int ms)
{
    struct timespec ts = {0, 1000000};
    for (int i = 0; i < ms; i++)
        nanosleep(&ts, NULL); /* a signal cuts one nap short, not the rest */
}

static int do_forksig(const char *prefix)
{
    pid_t pid = fork();
    if (pid == 0) {
        child_site();
        for (int i = 0; i < 200; i++)
            free(malloc(10)); /* the allocation slow path restarts the helper */
        nap_ms(1000);
        char name[4096];
        snprintf(name, sizeof name, "%s.%d.0.hsnap", prefix, (int)getpid());
        printf("child saw its snapshot before exit: %d\n", access(name, F_OK) == 0);
        exit(0);
    }
    nap_ms(300);
    kill(pid, SIGUSR2);
    int st;
    waitpid(pid, &st, 0);
    printf("child status %d\n", WIFEXITED(st) ? WEXITSTATUS(st) : -1);
    return 0;
}

int main(int argc, char **argv)
{
    if (argc > 1 && !strcmp(argv[1], "forksig"))
        return do_forksig(argc > 2 ? argv[2] : "fs");
    if (argc > 2 && !strcmp(argv[1], "crash"))
        return do_crash(argv[2]);
    if (argc > 1 && !strcmp(argv[1], "wait"))
        return do_wait();
    return do_fork();
}
