// link: report/runner/linger.c report/load/manifest.c report/base/input.c report/base/grow.c report/base/cli.c report/base/bigmem.c
/*
 * test_linger.c - linger_wait's wait for a process the run made (m->kin)
 * that is alive without a state file: about LINGER_UNTRACED_MS when it is
 * the one run heard of, none when its pid belongs to a process started
 * after run heard of the pid (the kernel gave it again: pid_max is 32768
 * on many hosts), none when it has ended; for a process with its state
 * file, a second while it idles, none when the pid's process started after
 * the file last changed (the file's own was killed, the pid given again),
 * as linger_is_alive says too.
 */
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "manifest.h"
#include "runner.h"
#include "unit.h"

static const char *nofile = "/nonexistent/heapsnap-manifest.test";

static double now_s(void)
{
    struct timespec t;
    clock_gettime(CLOCK_MONOTONIC, &t);
    return (double)t.tv_sec + (double)t.tv_nsec / 1e9;
}

/* The seconds linger_wait took on m (freed after). */
static double timed_wait(struct manifest *m)
{
    double t0 = now_s();
    linger_wait(nofile, m, 1, -1);
    double took = now_s() - t0;
    mf_free(m);
    return took;
}

/* The seconds linger_wait took with one kin entry {pid, told}. */
static double wait_for(pid_t pid, unsigned long long told)
{
    struct manifest m;
    memset(&m, 0, sizeof m);
    m.kin = calloc(1, sizeof *m.kin);
    m.kin[0].pid = pid;
    m.kin[0].told = told;
    m.nkin = m.kcap = 1;
    return timed_wait(&m);
}

/* A child that sleeps until killed. */
static pid_t sleeper(void)
{
    pid_t p = fork();
    if (p == 0) {
        pause();
        _exit(0);
    }
    return p;
}

TEST_BEGIN(linger_waits_for_a_made_process_without_its_file)
    pid_t p = sleeper();
    double took = wait_for(p, mf_boot_ticks(NULL) + 1);
    kill(p, SIGKILL);
    waitpid(p, NULL, 0);
    expect_true(took > 0.8 && took < 5, "took %.2f s", took);
TEST_END

TEST_BEGIN(linger_passes_a_pid_given_again)
    unsigned long long told = mf_boot_ticks(NULL);
    usleep(300000); /* the process below starts 30 ticks after run heard of its pid */
    pid_t p = sleeper();
    double took = wait_for(p, told);
    kill(p, SIGKILL);
    waitpid(p, NULL, 0);
    expect_true(took < 0.5, "took %.2f s", took);
TEST_END

TEST_BEGIN(linger_passes_an_ended_process)
    pid_t p = sleeper();
    unsigned long long told = mf_boot_ticks(NULL) + 1;
    kill(p, SIGKILL);
    waitpid(p, NULL, 0);
    double took = wait_for(p, told);
    expect_true(took < 0.5, "took %.2f s", took);
TEST_END

/* The seconds linger_wait took with one state entry {pid, path}. */
static double wait_for_state(pid_t pid, const char *path)
{
    struct manifest m;
    memset(&m, 0, sizeof m);
    m.s = calloc(1, sizeof *m.s);
    m.s[0].pid = pid;
    m.s[0].path = strdup(path);
    m.ns = m.scap = 1;
    return timed_wait(&m);
}

TEST_BEGIN(linger_waits_for_an_idle_process_with_its_file)
    char path[] = "/tmp/hslingerXXXXXX";
    pid_t p = sleeper();
    usleep(50000);
    int fd = mkstemp(path); /* made by the process, after it started */
    close(fd);
    double took = wait_for_state(p, path);
    int alive = linger_is_alive(p, path);
    kill(p, SIGKILL);
    waitpid(p, NULL, 0);
    unlink(path);
    expect_true(took > 0.8 && took < 5, "took %.2f s", took);
    expect_true(alive, "linger_is_alive");
TEST_END

TEST_BEGIN(linger_passes_a_killed_process_pid_given_again)
    char path[] = "/tmp/hslingerXXXXXX";
    int fd = mkstemp(path); /* its process killed, the file left */
    close(fd);
    usleep(800000);
    pid_t p = sleeper(); /* the pid given again, 0.8 s later (past the slack) */
    double took = wait_for_state(p, path);
    int alive = linger_is_alive(p, path);
    kill(p, SIGKILL);
    waitpid(p, NULL, 0);
    unlink(path);
    expect_true(took < 0.5, "took %.2f s", took);
    expect_true(!alive, "linger_is_alive");
TEST_END

int main(void)
{
    linger_waits_for_a_made_process_without_its_file();
    linger_passes_a_pid_given_again();
    linger_passes_an_ended_process();
    linger_waits_for_an_idle_process_with_its_file();
    linger_passes_a_killed_process_pid_given_again();
    return 0;
}
