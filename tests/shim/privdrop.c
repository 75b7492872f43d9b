/* privdrop.c - a program that changes its ids, for test_privileges.sh.
 *   privdrop setuid [MS] setuid(65534) from root (then MS ms asleep)
 *   privdrop setpriv    setpriv's sequence: PR_SET_KEEPCAPS, setresuid,
 *                       capset raising this thread's effective set again,
 *                       setresgid, setgroups
 *   privdrop capgid     with only CAP_SETGID effective (capset), setresgid
 *   privdrop worker     forks a worker that becomes nobody and leaks 5,000 B
 *   privdrop secure     says what a secure-execution process sees (AT_SECURE,
 *                       the shim mapped, its threads, SIGUSR2's disposition)
 * Each prints its ids (or its findings) and exits 0, or 1 with the reason. */
#define _GNU_SOURCE
#include <errno.h>
#include <grp.h>
#include <linux/capability.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/auxv.h>
#include <sys/prctl.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>
#include <dirent.h>

static void *volatile sink;

static int ids(const char *what)
{
    uid_t r, e, s;
    gid_t gr, ge, gs;
    getresuid(&r, &e, &s);
    getresgid(&gr, &ge, &gs);
    printf("%s: uid %u %u %u gid %u %u %u groups %d\n", what, r, e, s, gr, ge, gs,
           getgroups(0, NULL));
    return 0;
}

static int fail(const char *what)
{
    printf("%s: %s\n", what, strerror(errno));
    return 1;
}

/* This thread's effective set := its permitted set, or only the caps in want. */
static int raise_caps(unsigned long long want)
{
    struct __user_cap_header_struct h = {_LINUX_CAPABILITY_VERSION_3, 0};
    struct __user_cap_data_struct d[2];
    if (syscall(SYS_capget, &h, d) != 0)
        return -1;
    for (int i = 0; i < 2; i++)
        d[i].effective = want ? (unsigned)(want >> (32 * i)) & d[i].permitted : d[i].permitted;
    return (int)syscall(SYS_capset, &h, d);
}

static int threads(void)
{
    int n = 0;
    DIR *d = opendir("/proc/self/task");
    for (struct dirent *e; d && (e = readdir(d));)
        n += e->d_name[0] != '.';
    if (d)
        closedir(d);
    return n;
}

static int mapped(const char *name)
{
    char line[4096];
    int found = 0;
    FILE *f = fopen("/proc/self/maps", "r");
    while (f && fgets(line, sizeof line, f))
        found |= strstr(line, name) != NULL;
    if (f)
        fclose(f);
    return found;
}

int main(int argc, char **argv)
{
    const char *mode = argc > 1 ? argv[1] : "";
    sink = malloc(100);
    usleep(20000); /* the shim's helper thread is up */
    if (!strcmp(mode, "setuid")) {
        if (setuid(65534) != 0)
            return fail("setuid");
        if (argc > 2) /* milliseconds to live on */
            usleep((useconds_t)atoi(argv[2]) * 1000);
        return ids("setuid");
    }
    if (!strcmp(mode, "setpriv")) {
        gid_t none[1];
        if (prctl(PR_SET_KEEPCAPS, 1) != 0 || setresuid(65534, 65534, 65534) != 0)
            return fail("setresuid");
        if (raise_caps(0) != 0)
            return fail("capset");
        if (setresgid(65534, 65534, 65534) != 0 || setgroups(0, none) != 0)
            return fail("setresgid");
        sink = malloc(200);
        return ids("setpriv");
    }
    if (!strcmp(mode, "capgid")) {
        if (prctl(PR_SET_KEEPCAPS, 1) != 0 || setresuid(65534, 65534, 65534) != 0)
            return fail("setresuid");
        if (raise_caps(1ull << CAP_SETGID) != 0)
            return fail("capset");
        if (setresgid(65534, 65534, 65534) != 0)
            return fail("setresgid");
        return ids("capgid");
    }
    if (!strcmp(mode, "worker")) {
        fflush(stdout);
        pid_t pid = fork();
        if (pid == 0) {
            gid_t none[1];
            if (setgroups(0, none) != 0 || setgid(65534) != 0 || setuid(65534) != 0)
                return fail("worker");
            sink = malloc(5000);
            sink = NULL; /* lost */
            exit(0);
        }
        int st;
        waitpid(pid, &st, 0);
        return WIFEXITED(st) ? WEXITSTATUS(st) : 1;
    }
    if (!strcmp(mode, "secure")) {
        struct sigaction sa;
        sigaction(SIGUSR2, NULL, &sa);
        printf("secure %lu shim %d threads %d usr2 %s\n", getauxval(AT_SECURE),
               mapped("libheapsnap"), threads(), sa.sa_handler == SIG_DFL ? "default" : "handled");
        return 0;
    }
    fprintf(stderr, "usage: privdrop setuid|setpriv|capgid|worker|secure\n");
    return 2;
}
