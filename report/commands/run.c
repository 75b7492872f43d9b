/*
 * run.c - `heapsnap run [options] [--] CMD [ARGS]`: runs CMD with the shim.
 *
 * The shim is found next to this executable (build/), else in
 * ../lib/heapsnap/ (after `make install`).  It is put FIRST in LD_PRELOAD and
 * anything already there stays after it (so a preloaded jemalloc is still
 * the allocator the shim forwards to).  Options become HEAPSNAP_* variables.
 * Every process CMD becomes or starts tells us of each snapshot it wrote,
 * or failed to write, on a socket left open across exec
 * (HEAPSNAP_MANIFEST_FD), read while CMD runs: it works for a process that
 * became another user (a server's workers), and only the processes we
 * started hold it.  One that closed it appends to the temporary file
 * HEAPSNAP_MANIFEST names (0600, ours) instead (mf_read).  The exit
 * status is CMD's; when a signal killed CMD, heapsnap dies by the same
 * signal once its report (and --gate's) is out.  SIGINT/SIGTERM/SIGHUP
 * sent to heapsnap alone (kill) are forwarded; those from the terminal
 * reach CMD by themselves.  Either way heapsnap waits for CMD and removes
 * the manifest file; one a SIGKILL left names run's pid (mf_name), for
 * `heapsnap clean`.  Under a name without %p the pid run started takes it and
 * every other process adds its pid (HEAPSNAP_RUN_PID): no snapshot
 * replaces another, so --gate sees each process's, whatever the name.
 */
#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <limits.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <poll.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "cli.h"
#include "commands.h"
#include "escape.h"
#include "fmt.h"
#include "gate.h"
#include "hsnap_state.h"
#include "live.h"
#include "manifest.h"
#include "options_table.h"
#include "runner.h"

static volatile sig_atomic_t run_child; /* pid to forward signals to */

struct run_opts {
    const char *output;   /* -o */
    const char *dir;      /* --output-dir */
    struct shimopt shim;  /* --depth ... --children: the shim's, shimopt_rows */
    int follow_all;       /* --follow all: keep a launcher's helpers too */
    int leaks;            /* --leaks (shim's HEAPSNAP_LEAKS=1): the summary's */
    int gate;             /* --gate: run `heapsnap gate` on what CMD wrote */
    const char *exitcode; /* --exitcode N for the gate */
    int live;             /* --live: the live view while CMD runs */
    int python_reuse;     /* --python-reuse: PYTHONTRACEMALLOC=1 unless set */
    int quiet;            /* -q: no "wrote" lines, no summary */
};

static void run_usage(void)
{
    printf("usage: heapsnap run [options] [--] CMD [ARGS]\n"
           "Runs CMD with libheapsnap.so preloaded (an existing LD_PRELOAD is kept\n"
           "after it) and prints the snapshots it wrote.  Exit status is CMD's; when a\n"
           "signal kills CMD, heapsnap dies by the same signal (without a core file).\n"
           "As a shell: 127 when CMD is not found, 126 when it cannot be executed (not\n"
           "executable, a directory); 2 for heapsnap's own trouble (a bad option, a\n"
           "program the shim cannot enter).\n\n"
           "  -o PATTERN         snapshot file name (default $HEAPSNAP_OUTPUT, else\n"
           "                     %%e.%%p.hsnap: the program's name, its pid)\n"
           "      --output-dir DIR   write DIR/%%e.%%p.hsnap (or DIR/PATTERN with -o)\n"
           "      --depth N      frames kept per allocation stack (1 to 256)\n"
           "      --signal SIG   signal that writes a snapshot (e.g. USR2)\n"
           "      --interval S   write a snapshot every S seconds (e.g. 0.5)\n"
           "      --sample BYTES\n"
           "                     mean sampling interval in bytes (HEAPSNAP_SAMPLE)\n"
           "      --unwind M     stack capture: auto, fp or libunwind (HEAPSNAP_UNWIND)\n"
           "      --no-blocks    do not record individual live blocks\n"
           "      --children M   forked children that do not exec write at exit() (exit,\n"
           "                     the default), also at _exit (all), or never (none)\n"
           "      --follow M     program (the default): a launcher's helpers (what a\n"
           "                     wrapper script starts before its exec: readlink,\n"
           "                     $(...)) are not traced; all traces every process\n"
           "                     (HEAPSNAP_FOLLOW)\n"
           "      --leaks        run the leak check (reference model) at exit\n"
           "      --gate         as --leaks, then `heapsnap gate` over every snapshot written\n"
           "                     (rules from ./.heapsnap.toml); exit status: CMD's when\n"
           "                     it failed, else the gate's (docs/ci.md); the output\n"
           "                     name must hold %%p\n"
           "      --exitcode N   the gate's status when a rule fails (default 1)\n"
           "      --live         a terminal view of CMD's heap while it runs (heapsnap live\n"
           "                     --help); q closes it, and CMD runs on to its end\n"
           "      --python-reuse CPython 3.10-3.12: start tracemalloc (PYTHONTRACEMALLOC=1,\n"
           "                     unless set) so that an object a free list hands out again\n"
           "                     is charged to the line that reused it; the program sees\n"
           "                     tracemalloc tracing, and runs slower (docs/python.md)\n"
           "  -q, --quiet        no \"wrote\" lines and no summary at the end (the peak, the\n"
           "                     heap at exit, the LEAK SUMMARY, the next command); warnings\n"
           "                     and errors still\n\n"
           "Environment read by the shim (set them to tune it further):\n");
    for (size_t i = 0; i < sizeof(opt_table) / sizeof(opt_table[0]); i++)
        printf("  %-18s default \"%s\": %s\n", opt_table[i].name, opt_table[i].def,
               opt_table[i].help);
}

static int run_parse(int argc, char **argv, struct run_opts *o, char *err, size_t errlen)
{
    static const struct option own[] = {
        {"output-dir", required_argument, NULL, 'd'}, {"help", no_argument, NULL, 'h'},
        {"gate", no_argument, NULL, 'g'},             {"exitcode", required_argument, NULL, 'E'},
        {"follow", required_argument, NULL, 'F'},     {"live", no_argument, NULL, 'V'},
        {"quiet", no_argument, NULL, 'q'},            {"python-reuse", no_argument, NULL, 'R'},
        {NULL, 0, NULL, 0}};
    struct option longopts[SHIMOPT_MAXOPTS];
    int c;
    memset(o, 0, sizeof(*o));
    /* longopts' order: of two names as near to a typo, cli_bad_option names the first */
    shimopt_init(&o->shim, SHIMOPT_RUN, own, "dDsibhgELCSUFVRq", longopts);
    optind = 1;
    opterr = 0;
    while ((c = getopt_long(argc, argv, "+:o:hq", longopts, NULL)) != -1) {
        if (shimopt_take(&o->shim, c, optarg)) {
            o->leaks |= c == 'L';
            continue;
        }
        switch (c) {
        case 'o': o->output = optarg; break;
        case 'd': o->dir = optarg; break;
        case 'g': o->gate = 1; break;
        case 'E': o->exitcode = optarg; break;
        case 'V': o->live = 1; break;
        case 'R': o->python_reuse = 1; break;
        case 'q': o->quiet = 1; break;
        case 'F':
            if (strcmp(optarg, "all") && strcmp(optarg, "program")) {
                snprintf(err, errlen, "run: bad value for --follow: '%s' (program, all)", optarg);
                return 2;
            }
            o->follow_all = !strcmp(optarg, "all");
            break;
        case 'h': run_usage(); return 0;
        default: return cli_bad_option("run", c, argv, longopts, err, errlen);
        }
    }
    if (optind >= argc) {
        snprintf(err, errlen, "run: no command given (heapsnap run [options] -- CMD [ARGS])");
        return 2;
    }
    if (shimopt_check(&o->shim, "run", err, errlen) < 0)
        return 2;
    return -1;
}

/* LD_PRELOAD = shim, then whatever was there (unless it is the shim). */
/* When this run started (CLOCK_REALTIME, ns), before anything of its
 * command ran: a file under a shared name older than this is an earlier
 * run's (the shim's name_taken). */
static uint64_t run_start_ns;

/* A shim option given on the command line, for CMD and its children. */
static void run_setenv(const char *var, const char *val, void *arg)
{
    (void)arg;
    setenv(var, val, 1);
}

static int run_env(const struct run_opts *o, const char *shim, const char *manifest,
                   const char *chan, char *err, size_t errlen)
{
    char buf[8192], cwd[PATH_MAX];
    const char *old = getenv("LD_PRELOAD");
    if (old && *old && !strstr(old, shim))
        snprintf(buf, sizeof(buf), "%s:%s", shim, old);
    else
        snprintf(buf, sizeof(buf), "%s", old && *old ? old : shim);
    setenv("LD_PRELOAD", buf, 1);
    /* The command line first (-o, then --output-dir's default), else the
     * caller's own HEAPSNAP_OUTPUT (as the shim would read it without us). */
    const char *env = getenv("HEAPSNAP_OUTPUT");
    const char *pat = o->output          ? o->output
                      : o->dir           ? "%e.%p.hsnap"
                      : env && *env      ? env
                                         : "%e.%p.hsnap";
    if (o->dir && pat[0] != '/') {
        if (mkdir(o->dir, 0777) < 0 && errno != EEXIST) {
            snprintf(err, errlen, "run: %s: %s", o->dir, strerror(errno));
            return -1;
        }
        snprintf(buf, sizeof(buf), "%s/%s", o->dir, pat);
        pat = buf;
    }
    char full[PATH_MAX + sizeof(buf) + 2];
    if (pat[0] != '/' && getcwd(cwd, sizeof(cwd)))
        snprintf(full, sizeof(full), "%s/%s", cwd, pat); /* CMD may chdir */
    else
        snprintf(full, sizeof(full), "%s", pat);
    setenv("HEAPSNAP_OUTPUT", full, 1);
    setenv("HEAPSNAP_MANIFEST", manifest, 1);
    snprintf(buf, sizeof(buf), "%llu", (unsigned long long)run_start_ns);
    setenv("HEAPSNAP_RUN_START", buf, 1); /* name_taken: an earlier run's file is older */
    if (chan)
        setenv("HEAPSNAP_MANIFEST_FD", chan, 1);
    else
        unsetenv("HEAPSNAP_MANIFEST_FD");
    shimopt_each(&o->shim, run_setenv, NULL);
    if (o->gate) setenv("HEAPSNAP_LEAKS", "1", 1);
    if (o->live) setenv("HEAPSNAP_LIVE", "1", 1);
    if (o->python_reuse && !getenv("PYTHONTRACEMALLOC")) /* the program's own choice stands */
        setenv("PYTHONTRACEMALLOC", "1", 1);
    return 0;
}

static void run_forward(int sig, siginfo_t *si, void *uc)
{
    (void)uc;
    if (run_child > 0 && si->si_code <= 0) /* sent by a process, not the tty */
        kill((pid_t)run_child, sig);
}

/* sig forwarded (run_forward) unless it is ignored (nohup, a shell's
 * background job): CMD inherits SIG_IGN across exec, a handler it would not. */
static void run_catch(int sig)
{
    struct sigaction sa = {.sa_sigaction = run_forward, .sa_flags = SA_SIGINFO | SA_RESTART}, old;
    sigemptyset(&sa.sa_mask);
    if (sigaction(sig, NULL, &old) == 0 && old.sa_handler != SIG_IGN)
        sigaction(sig, &sa, NULL);
}

/* The channel's end, moved out of the low numbers the command will use
 * first (a program that expects its first open() to return 3, a test that
 * counts its descriptors): the highest free number below 1024 that the
 * soft limit allows.  Keeps fd where no such number is free. */
static int run_fd_high(int fd)
{
    struct rlimit rl;
    long top = 1023;
    if (getrlimit(RLIMIT_NOFILE, &rl) == 0 && rl.rlim_cur != RLIM_INFINITY &&
        (long)rl.rlim_cur - 1 < top)
        top = (long)rl.rlim_cur - 1;
    for (long n = top; n > fd && n > top - 64; n--) {
        if (fcntl((int)n, F_GETFD) != -1 || errno != EBADF)
            continue; /* taken */
        int hi = fcntl(fd, F_DUPFD_CLOEXEC, (int)n);
        if (hi < 0)
            return fd;
        close(fd);
        return hi;
    }
    return fd;
}

/* fork + exec; returns the child's pid, or -1 with err filled and exec's
 * errno in *ep (0: no exec was tried). A CLOEXEC pipe carries exec's errno
 * back, so a failed exec is reported here. */
static pid_t run_spawn(char **cmd, int keep, int follow_all, char *err, size_t errlen, int *ep)
{
    int fds[2], e = 0;
    *ep = 0;
    if (pipe2(fds, O_CLOEXEC) < 0) {
        snprintf(err, errlen, "run: pipe: %s", strerror(errno));
        return -1;
    }
    pid_t pid = fork();
    if (pid == 0) {
        close(fds[0]);
        if (keep >= 0)
            fcntl(keep, F_SETFD, 0); /* the socket's sending end crosses exec */
        /* this pid: a launcher's images in it, and the processes they start
         * before the program's exec, stay inactive (the shim's launch_inactive) */
        char self[24];
        snprintf(self, sizeof(self), "%ld", (long)getpid());
        setenv("HEAPSNAP_RUN_PID", self, 1); /* the program's: -o NAME's bare name */
        setenv("HEAPSNAP_FOLLOW", follow_all ? "all" : "program", 1);
        if (follow_all)
            unsetenv("HEAPSNAP_LAUNCHER");
        else
            setenv("HEAPSNAP_LAUNCHER", self, 1);
        execvp(cmd[0], cmd);
        e = errno;
        if (write(fds[1], &e, sizeof(e)) < 0) {}
        _exit(127);
    }
    close(fds[1]);
    if (pid < 0 || read(fds[0], &e, sizeof(e)) == (ssize_t)sizeof(e)) {
        if (pid < 0)
            e = errno;
        else
            waitpid(pid, NULL, 0);
        snprintf(err, errlen, "run: %s: %s", cmd[0], strerror(e));
        close(fds[0]);
        *ep = pid < 0 ? 0 : e;
        return -1;
    }
    close(fds[0]);
    return pid;
}

/* --live's drain: what the shim tells while the view is up.  Not 0 when
 * every sender is gone. */
struct run_live {
    int sock;             /* -1 once every sender is gone */
    struct manifest *mf;
};

static int run_live_drain(void *arg)
{
    struct run_live *l = arg;
    if (l->sock >= 0 && mf_recv(l->sock, l->mf) != 0)
        l->sock = -1;
    return l->sock < 0;
}

/* Reads what the shim tells on sock (-1: no socket) until CMD has ended,
 * then what is left.  CMD is not reaped here (run_wait does).  When CMD
 * says a snapshot is its exit's, the summary reads it (summary_preload,
 * leaks: summary_print's) while CMD ends, unless leaks is -1 (-q). */
static void run_listen(pid_t pid, int sock, struct manifest *mf, int leaks)
{
    int pfd = (int)syscall(SYS_pidfd_open, pid, 0);
    siginfo_t si;
    size_t said = 0;
    for (;;) {
        struct pollfd p[2] = {{sock, POLLIN, 0}, {pfd, POLLIN, 0}};
        /* without a pidfd (Linux < 5.3), CMD's end is looked for every 50 ms */
        int n = poll(p, pfd >= 0 ? 2 : 1, pfd >= 0 ? -1 : 50);
        if (n > 0 && sock >= 0 && p[0].revents && mf_recv(sock, mf) != 0)
            sock = p[0].fd = -1; /* every sender is gone, or out of memory */
        if (leaks >= 0 && mf->nlast != said && mf->last_pid == pid)
            summary_preload(mf->last, leaks);
        said = mf->nlast;
        si.si_pid = 0;
        if (waitid(P_PID, (id_t)pid, &si, WEXITED | WNOHANG | WNOWAIT) != 0 ? errno != EINTR
                                                                             : si.si_pid == pid)
            break;
    }
    if (sock >= 0)
        mf_recv(sock, mf);
    if (pfd >= 0)
        close(pfd);
}

/* CMD's exit code; when a signal killed it, 128 + N with N in *sig. */
static int run_wait(pid_t pid, int *sig)
{
    int status;
    *sig = 0;
    while (waitpid(pid, &status, 0) < 0)
        if (errno != EINTR)
            return 2;
    if (WIFSIGNALED(status)) {
        *sig = WTERMSIG(status);
        return 128 + *sig;
    }
    return WEXITSTATUS(status);
}

/* Dies by sig, as CMD did, so that whoever waits for heapsnap (a shell, a
 * CI runner, make) sees the same death ("Aborted", "Killed") and not an exit
 * code.  No core file of heapsnap's own: CMD's is the one that matters. */
static void run_die_by(int sig)
{
    struct rlimit no_core = {0, 0};
    sigset_t set;
    fflush(NULL);
    setrlimit(RLIMIT_CORE, &no_core);
    signal(sig, SIG_DFL);
    sigemptyset(&set);
    sigaddset(&set, sig);
    sigprocmask(SIG_UNBLOCK, &set, NULL);
    raise(sig); /* returns only for a signal whose default is not to die */
}

/* "heapsnap: wrote PATH" for each path of the manifest, and one warning
 * when a name was written more than once (the later snapshot replaced the
 * earlier one: a pattern without %p, and several processes). */
/* A state file whose process ended cleanly but could not remove it (it
 * became another user, without write access to the directory): the
 * header says so, and run, the directory's user, removes it. */
static int run_state_exited(const char *path)
{
    struct hsnap_state_head h;
    int fd = open(path, O_RDONLY | O_NOFOLLOW | O_CLOEXEC);
    if (fd < 0)
        return 0;
    ssize_t n = pread(fd, &h, sizeof h, 0);
    close(fd);
    return n == (ssize_t)sizeof h && memcmp(h.magic, HSTATE_MAGIC, sizeof h.magic) == 0 &&
           h.state == HSTATE_EXITED && unlink(path) == 0;
}

/* Whether pid told run of a snapshot it could not write. */
static int run_pid_failed(const struct manifest *mf, pid_t pid)
{
    for (size_t i = 0; i < mf->nf; i++)
        if (mf->f[i].pid == pid)
            return 1;
    return 0;
}

/* The state files still there once CMD ended and the processes that
 * outlived it were given their time (linger_wait; the shim's state_done removes
 * its own at a clean end): each names a process that was killed, or one that
 * still runs (a daemon CMD left behind), once. */
static size_t run_report_states(const struct manifest *mf, const char *cmd, pid_t child,
                                int sig)
{
    char shown[2 * PATH_MAX], name[64];
    size_t named = 0; /* how many */
    for (size_t i = 0; i < mf->ns; i++) {
        struct stat st;
        if (lstat(mf->s[i].path, &st) != 0 || !S_ISREG(st.st_mode) ||
            run_state_exited(mf->s[i].path))
            continue;
        const char *path = esc_text(fmt_path(mf->s[i].path), shown, sizeof(shown));
        if (mf->s[i].pid > 0 && mf->s[i].pid != child &&
            linger_is_alive(mf->s[i].pid, mf->s[i].path)) {
            fprintf(stderr, "heapsnap: pid %ld still runs (the command left it behind) and "
                    "writes its snapshot when it ends; its state so far is in %s (heapsnap "
                    "top %s)\n", (long)mf->s[i].pid, path, path);
            named++;
            continue;
        }
        if (mf->s[i].pid > 0 && run_pid_failed(mf, mf->s[i].pid)) {
            fprintf(stderr, "heapsnap: pid %ld could not write its snapshot (above); its state "
                    "at its end is in %s (heapsnap top %s)\n", (long)mf->s[i].pid, path, path);
        } else if (mf->s[i].pid == child && sig) {
            const char *abbrev = sigabbrev_np(sig);
            snprintf(name, sizeof(name), "SIG%s", abbrev ? abbrev : "?");
            fprintf(stderr, "heapsnap: pid %ld (%s) was killed by %s before it could write "
                    "its snapshot; its state at the kill is in %s (heapsnap top %s)\n",
                    (long)child, cmd, name, path, path);
        } else if (mf->s[i].pid == child) {
            fprintf(stderr, "heapsnap: pid %ld (%s) exited without writing its snapshot: it "
                    "left past exit() and _exit() (a raw exit system call, as Go's runtime "
                    "makes), where the snapshot is written; its state at its end is in %s "
                    "(heapsnap top %s)\n", (long)child, cmd, path, path);
        } else {
            fprintf(stderr, "heapsnap: pid %ld ended without writing its snapshot (killed); "
                    "its state is in %s (heapsnap top %s)\n", (long)mf->s[i].pid, path, path);
        }
        named++;
    }
    return named;
}

/* Whether pid told run anything of its own: a snapshot written or failed, a
 * state file, an end with recording stopped. */
static int run_pid_told(const struct manifest *mf, pid_t pid)
{
    for (size_t i = 0; i < mf->n; i++)
        if (mf->e[i].pid == pid)
            return 1;
    if (run_pid_failed(mf, pid))
        return 1;
    for (size_t i = 0; i < mf->ns; i++)
        if (mf->s[i].pid == pid)
            return 1;
    return mf->nstopped && mf->stopped == pid;
}

/* The launchers (shim/base/launcher.c) whose pid told nothing after: they
 * ended without their exec (a script whose `exec` sits in a branch not
 * taken), or exec'd a program the shim is not in, and what they ran was
 * not traced.  Named one line each; how many. */
static size_t run_report_launchers(const struct manifest *mf)
{
    char shown[PATH_MAX];
    size_t named = 0;
    for (size_t i = 0; i < mf->nlauncher; i++) {
        const struct mf_launcher *l = &mf->launcher[i];
        if (run_pid_told(mf, l->pid))
            continue;
        fprintf(stderr, "heapsnap: pid %ld ran %s, a launcher to heapsnap%s: what it runs "
                        "before its exec is not traced, and it wrote nothing (it ended "
                        "without its exec, or exec'd a program that ignores LD_PRELOAD); "
                        "`heapsnap run --follow all` traces every process\n",
                (long)l->pid, esc_text(l->what, shown, sizeof(shown)),
                strcmp(l->what, "env") ? " (a script that holds `exec CMD`)" : "");
        named++;
    }
    return named;
}

static void run_report(const struct manifest *mf, const char *cmd, pid_t child, int sig,
                       int quiet)
{
    char shown[2 * PATH_MAX];
    size_t dup = mf->n;
    for (size_t i = 0; i < mf->n; i++) {
        if (!quiet)
            fprintf(stderr, "heapsnap: wrote %s\n",
                    esc_text(fmt_path(mf->e[i].path), shown, sizeof(shown)));
        if (mf->e[i].times > 1 && dup == mf->n)
            dup = i;
    }
    if (dup < mf->n)
        fprintf(stderr, "heapsnap: warning: %u snapshots were written to %s, each replacing "
                "the one before (put %%p in -o to keep one per process)\n", mf->e[dup].times,
                esc_text(fmt_path(mf->e[dup].path), shown, sizeof(shown)));
    for (size_t i = 0; i < mf->nf; i++)
        fprintf(stderr, "heapsnap: pid %ld (uid %ld) could not write %s: %s%s\n",
                (long)mf->f[i].pid, (long)(int)mf->f[i].uid,
                esc_text(fmt_path(mf->f[i].path), shown, sizeof(shown)),
                strerror(mf->f[i].err),
                mf->f[i].err == EACCES ? " (the output directory must be writable by the user "
                                         "the process runs as)" : "");
    char cmdshown[PATH_MAX];
    size_t killed = run_report_states(mf, esc_text(cmd, cmdshown, sizeof(cmdshown)), child, sig);
    size_t launchers = run_report_launchers(mf);
    if (!mf->n && !mf->nf && !killed && mf->nstopped)
        fprintf(stderr, "heapsnap: no snapshot was written by %s: it ended with recording "
                        "stopped (by heapsnap.stop(), heapsnap_stop() or HEAPSNAP_PAUSED), and a "
                        "process that ends stopped writes no exit snapshot (take one before "
                        "stopping: heapsnap.write_snapshot())\n",
                esc_text(cmd, shown, sizeof(shown)));
    else if (!mf->n && !mf->nf && !killed && !launchers)
        fprintf(stderr, "heapsnap: no snapshot was written by %s (see the shim's warning "
                        "above, if any; else a signal killed it, or it ignores LD_PRELOAD)\n",
                esc_text(cmd, shown, sizeof(shown)));
}

/* CMD could not start: its one line here (main prints err only for 2),
 * and a shell's status. */
static int run_cannot_start(int rc, char *err, size_t errlen)
{
    char line[4096];
    fprintf(stderr, "heapsnap: %s\n", esc_text(err, line, sizeof(line)));
    err[0] = 0;
    (void)errlen;
    return rc;
}

/* --gate: `heapsnap gate [--exitcode N] SNAP...` over the manifest. */
static int run_gate(const struct manifest *mf, const char *exitcode, char *err, size_t errlen)
{
    char **av = calloc(mf->n + 5, sizeof(*av)); /* gate --exitcode N -- PATHS NULL */
    int ac = 0, rc;
    if (!av) {
        snprintf(err, errlen, "run: --gate: out of memory");
        return 2;
    }
    av[ac++] = "gate";
    if (exitcode) {
        av[ac++] = "--exitcode";
        av[ac++] = (char *)exitcode;
    }
    av[ac++] = "--"; /* a snapshot's name may start with '-' */
    for (size_t i = 0; i < mf->n; i++)
        av[ac++] = mf->e[i].path;
    av[ac] = NULL;
    if (!mf->n) {
        snprintf(err, errlen, "run: --gate: no snapshot to check");
        rc = 2;
    } else {
        fflush(stderr);
        rc = cmd_gate(ac, av, err, errlen);
    }
    if (rc == 0 && mf->nf) { /* a process the gate cannot vouch for */
        snprintf(err, errlen, "run: --gate: %zu snapshot%s could not be written", mf->nf,
                 mf->nf > 1 ? "s" : "");
        rc = 2;
    }
    free(av);
    return rc;
}

/* cmd_run's steps.  Before the start: the command found and checked, the
 * terminal --live needs, the shim found (into shim).  0, or the exit code
 * with err. */
static int run_preflight(const struct run_opts *o, const char *cmd, char *shim, size_t shimlen,
                         char *err, size_t errlen)
{
    char found[PATH_MAX];
    int rc;
    if ((rc = run_find_command(cmd, found, err, errlen)) != 0)
        return run_cannot_start(rc, err, errlen);
    if (run_check_target(found, err, errlen) < 0)
        return 2;
    if (o->live && (!isatty(STDIN_FILENO) || !isatty(STDOUT_FILENO))) {
        snprintf(err, errlen, "run: --live needs a terminal (stdin and stdout)");
        return 2;
    }
    if (run_find_shim(shim, shimlen) < 0) {
        snprintf(err, errlen, "run: cannot find libheapsnap.so next to heapsnap "
                              "or in ../lib/heapsnap/");
        return 2;
    }
    return 0;
}

/* The manifest's file, made empty in $TMPDIR (or /tmp); 0, or 2 with err. */
static int run_manifest_file(char *manifest, size_t len, char *err, size_t errlen)
{
    const char *tmp = getenv("TMPDIR");
    int fd = mf_name(manifest, len, tmp && *tmp ? tmp : "/tmp", getpid()) == 0
                 ? mkstemp(manifest)
                 : (errno = ENAMETOOLONG, -1);
    if (fd < 0) {
        snprintf(err, errlen, "run: %s: %s", manifest, strerror(errno));
        return 2;
    }
    close(fd);
    return 0;
}

/* The channel the shims report on: sock (ours, the child's high fd) and
 * chan, the child's "fd:inode"; both -1 and no chan without a socket (out
 * of fds, say): the manifest file alone, as it can. */
static void run_channel(int sock[2], char *chan, size_t chanlen)
{
    int one = 1;
    struct stat st;
    sock[0] = sock[1] = -1;
    if (socketpair(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC, 0, sock) == 0 &&
        (setsockopt(sock[0], SOL_SOCKET, SO_PASSCRED, &one, sizeof(one)) != 0 ||
         fstat(sock[1], &st) != 0)) {
        close(sock[0]);
        close(sock[1]);
        sock[0] = sock[1] = -1;
    }
    if (sock[1] >= 0)
        sock[1] = run_fd_high(sock[1]);
    if (sock[1] >= 0)
        snprintf(chan, chanlen, "%d:%llu", sock[1], (unsigned long long)st.st_ino);
}

/* After the program: the manifest read, what was left out and whose
 * snapshot is whose said, the summary, the gate; rc is the program's
 * exit code, returned unless the gate has one.  why is scratch. */
static int run_aftermath(const struct run_opts *o, struct manifest *mf, const char *manifest,
                         const char *cmd0, pid_t pid, int sig, int rc, char *why, size_t whylen,
                         char *err, size_t errlen)
{
    if (mf_read(manifest, mf, why, whylen) < 0)
        fprintf(stderr, "heapsnap: warning: %s\n", esc_text(why, err, errlen));
    size_t helpers = o->follow_all ? 0 : follow_drop_helpers(mf);
    /* A name without any % is the program's own (its fork children add
     * their pid, the shim's name_commit), or the Python child's of a
     * wrapper that ran none (follow_hand_name). */
    const char *named = getenv("HEAPSNAP_OUTPUT");
    named = named && !strchr(named, '%') ? named : NULL;
    int python = 0;
    pid_t program = follow_hand_name(mf, named, pid, &python);
    run_report(mf, cmd0, pid, sig, o->quiet);
    char shown[2 * PATH_MAX];
    if (program && !o->quiet)
        fprintf(stderr, "heapsnap: %s ran %s as its child, pid %ld: %s is that "
                "program's snapshot, and the %s's has its pid\n",
                esc_text(cmd0, why, whylen), python ? "Python" : "its one command",
                (long)program, esc_text(fmt_path(named), shown, sizeof(shown)),
                python ? "wrapper" : "shell");
    if (helpers && !o->quiet)
        fprintf(stderr, "heapsnap: left out %zu snapshot%s of a launcher's helpers (processes "
                "started before their parent exec'd; --follow all keeps them)\n", helpers,
                helpers == 1 ? "" : "s");
    if (!o->quiet) /* the summary's, when the program wrote it */
        summary_print(mf, named, program ? program : pid, o->leaks || o->gate, stderr);
    if (o->gate) {
        int g = run_gate(mf, o->exitcode, err, errlen);
        if (g == 2 && sig && err[0]) /* we die below: say it now */
            fprintf(stderr, "heapsnap: %s\n", esc_text(err, why, whylen));
        rc = rc ? rc : g;
    }
    return rc;
}

int cmd_run(int argc, char **argv, char *err, size_t errlen)
{
    struct run_opts o;
    char shim[PATH_MAX], manifest[PATH_MAX];
    struct timespec now;
    clock_gettime(CLOCK_REALTIME, &now);
    run_start_ns = (uint64_t)now.tv_sec * 1000000000ull + (uint64_t)now.tv_nsec;
    int rc = run_parse(argc, argv, &o, err, errlen);
    if (rc >= 0)
        return rc;
    char **cmd = argv + optind;
    if ((rc = run_preflight(&o, cmd[0], shim, sizeof(shim), err, errlen)) != 0 ||
        (rc = run_manifest_file(manifest, sizeof(manifest), err, errlen)) != 0)
        return rc;
    int sock[2];
    char chan[64];
    run_channel(sock, chan, sizeof(chan));
    if (run_env(&o, shim, manifest, sock[1] >= 0 ? chan : NULL, err, errlen) < 0) {
        unlink(manifest);
        return 2;
    }
    run_catch(SIGINT);
    run_catch(SIGTERM);
    run_catch(SIGHUP); /* not our death: the manifest would stay behind */
    fflush(NULL);
    int e;
    pid_t pid = run_spawn(cmd, sock[1], o.follow_all, err, errlen, &e);
    if (sock[1] >= 0)
        close(sock[1]);
    if (pid < 0) { /* found, yet exec failed: a missing interpreter is not found */
        if (sock[0] >= 0)
            close(sock[0]);
        unlink(manifest);
        return e ? run_cannot_start(e == ENOENT ? RUN_NOT_FOUND : RUN_NOT_EXECUTABLE, err, errlen)
                 : 2;
    }
    run_child = pid;
    int sig;
    struct manifest mf;
    char why[512];
    memset(&mf, 0, sizeof(mf));
    struct run_live l = {sock[0], &mf};
    if (o.live && live_watch(pid, sock[0], run_live_drain, &l, why, sizeof(why)) != 0)
        fprintf(stderr, "heapsnap: %s\n", esc_text(why, err, errlen)); /* the view first */
    run_listen(pid, l.sock, &mf, o.quiet ? -1 : o.leaks || o.gate);
    rc = run_wait(pid, &sig);
    linger_wait(manifest, &mf, pid, l.sock);
    if (sock[0] >= 0) /* a process that tells after this appends to the manifest file */
        close(sock[0]);
    rc = run_aftermath(&o, &mf, manifest, cmd[0], pid, sig, rc, why, sizeof(why), err, errlen);
    mf_free(&mf);
    unlink(manifest);
    if (sig)
        run_die_by(sig);
    return rc;
}
