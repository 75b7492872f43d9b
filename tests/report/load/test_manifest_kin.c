// link: report/load/manifest.c report/base/input.c report/base/grow.c report/base/cli.c report/base/bigmem.c
/*
 * test_manifest_kin.c - run's socket reader (mf_recv) takes the shim's
 * "made a process" messages (HSNAP_RUNMSG_KIN_MAGIC, the pid in decimal)
 * into m->kin, refuses what is not a pid (a sign, a letter, a NUL, zero,
 * a number past any pid, nothing), and, as a shell loop's thousands of
 * forks come, takes the ended processes out before the list grows, so it
 * stays near the number still alive.  A launcher's message
 * (HSNAP_RUNMSG_LAUNCHER_MAGIC) is kept by its sender's pid, the last told
 * (an image that execs another launcher tells again), cut to its room,
 * for MF_LAUNCHERS pids at most.
 */
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#include "hsnap_format.h"
#include "manifest.h"
#include "unit.h"

static int sock[2];

/* One message: the head with magic, then n bytes of text. */
static void say(uint32_t magic, const char *text, size_t n)
{
    char buf[256];
    struct hsnap_runmsg h = {magic, 0};
    memcpy(buf, &h, sizeof h);
    memcpy(buf + sizeof h, text, n);
    if (send(sock[1], buf, sizeof h + n, 0) < 0)
        perror("send");
}

static void kin(const char *text)
{
    say(HSNAP_RUNMSG_KIN_MAGIC, text, strlen(text));
}

TEST_BEGIN(manifest_kin_pids_taken_and_nonsense_refused)
    struct manifest m;
    memset(&m, 0, sizeof m);
    kin("1234");
    kin("-5");
    kin("12a");
    say(HSNAP_RUNMSG_KIN_MAGIC, "7\0" "8", 3);
    kin("0");
    kin("99999999999999999999");
    kin("");
    kin("4321");
    expect_true(mf_recv(sock[0], &m) == 0, "mf_recv");
    expect_eq_u64(m.nkin, 2);
    expect_eq_u64(m.kin[0].pid, 1234);
    expect_eq_u64(m.kin[1].pid, 4321);
    expect_eq_u64(m.n, 0);
    expect_eq_u64(m.ns, 0);
    mf_free(&m);
    expect_true(m.kin == NULL && m.nkin == 0, "freed");
TEST_END

/* 300 children made and reaped, told one by one, with one still alive:
 * the list is pruned as it grows, the live one kept. */
TEST_BEGIN(manifest_kin_ended_taken_out_as_it_grows)
    struct manifest m;
    char dec[24];
    memset(&m, 0, sizeof m);
    pid_t alive = fork();
    if (alive == 0) {
        pause();
        _exit(0);
    }
    snprintf(dec, sizeof dec, "%d", (int)alive);
    kin(dec);
    expect_true(mf_recv(sock[0], &m) == 0, "mf_recv");
    for (int i = 0; i < 300; i++) {
        pid_t p = fork();
        if (p == 0)
            _exit(0);
        waitpid(p, NULL, 0);
        snprintf(dec, sizeof dec, "%d", (int)p);
        kin(dec);
        mf_recv(sock[0], &m);
    }
    size_t n = m.nkin, has = 0;
    for (size_t i = 0; i < n; i++)
        has += m.kin[i].pid == alive;
    kill(alive, SIGKILL);
    waitpid(alive, NULL, 0);
    expect_true(has == 1, "the live child kept once (%zu)", has);
    expect_true(n < 300, "%zu pids listed of 301 told, 300 ended", n);
    mf_free(&m);
TEST_END

TEST_BEGIN(manifest_launchers_kept_by_pid_and_bounded)
    struct manifest m;
    char long_what[300];
    memset(&m, 0, sizeof m);
    say(HSNAP_RUNMSG_LAUNCHER_MAGIC, "/w/first.sh", 11);
    say(HSNAP_RUNMSG_LAUNCHER_MAGIC, "env", 3);
    expect_true(mf_recv(sock[0], &m) == 0, "mf_recv");
    expect_eq_u64(m.nlauncher, 1);
    expect_eq_u64(m.launcher[0].pid, getpid());
    expect_str_eq(m.launcher[0].what, "env");
    memset(long_what, 'x', sizeof long_what);
    say(HSNAP_RUNMSG_LAUNCHER_MAGIC, long_what, 250);
    mf_recv(sock[0], &m);
    expect_eq_u64(strlen(m.launcher[0].what), 250);
    for (int i = 0; i < MF_LAUNCHERS + 2; i++) {
        pid_t p = fork();
        if (p == 0) {
            say(HSNAP_RUNMSG_LAUNCHER_MAGIC, "/w/child.sh", 11);
            _exit(0);
        }
        waitpid(p, NULL, 0);
    }
    mf_recv(sock[0], &m);
    expect_eq_u64(m.nlauncher, MF_LAUNCHERS);
    expect_str_eq(m.launcher[MF_LAUNCHERS - 1].what, "/w/child.sh");
    expect_eq_u64(m.n + m.ns + m.nkin, 0);
    mf_free(&m);
TEST_END

int main(void)
{
    int one = 1;
    if (socketpair(AF_UNIX, SOCK_SEQPACKET, 0, sock) != 0 ||
        setsockopt(sock[0], SOL_SOCKET, SO_PASSCRED, &one, sizeof one) != 0) {
        printf("FAIL manifest_kin_setup: no socket\n");
        return 0;
    }
    manifest_kin_pids_taken_and_nonsense_refused();
    manifest_kin_ended_taken_out_as_it_grows();
    manifest_launchers_kept_by_pid_and_bounded();
    return 0;
}
