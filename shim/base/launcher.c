/*
 * launcher.c - whether this process belongs to a launcher, which heapsnap
 * leaves untraced: a wrapper script (pyenv's shim, a bash wrapper in the
 * manner of `uv run`, `/usr/bin/env bash`) that runs helpers - `$(...)`
 * subshells, readlink, basename - and then execs the program in its own
 * pid.  An image that is `env`, or a shell running a script file that
 * holds an `exec CMD` command, is a launcher; the first image of its pid
 * that is neither is the program, and the processes the launcher starts
 * before that are its helpers.  Both stay inactive, as under secure
 * execution (cred_secure): the hooks forward, nothing is recorded or
 * written, nothing is said.  The program takes the launcher's mark out of
 * its environment, so its own children are followed as any program's, and
 * a launcher among them is found again.  HEAPSNAP_FOLLOW=all (`heapsnap
 * run --follow all`) traces every process.
 *
 * The mark is HEAPSNAP_LAUNCHER=PID, the launcher's pid.  `heapsnap run`
 * sets it for the pid it starts; a launcher found without it (a plain
 * LD_PRELOAD, or one a program started) is its own.  Its helpers know it
 * from the memory they share with it (launch_pid, kept over fork); its
 * own exec hands the mark to the image it becomes (launch_exec_env), which
 * is either a launcher again or the program.
 *
 * Raw system calls and the stack only: this runs from the constructor, or
 * from the first hook before it.  A script is read through a private
 * mapping of at most LAUNCH_SCRIPT_MAX bytes.  The scan is a heuristic
 * (docs/python.md, "Launchers"): an `exec` in a branch never taken still
 * makes a launcher.  The copy that `heapsnap attach` loads finds none of
 * its own: a process attached to is traced.
 *
 * A helper that execs would start an image that only stays inactive, at
 * the price of loading this library, its libraries and its constructors
 * (pyenv's chain execs about thirty): its exec leaves this library out of
 * LD_PRELOAD instead (launch_exec_env), so the image and what it starts
 * run as without heapsnap, which they were to begin with.
 */
#include <dlfcn.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <unistd.h>

#include "base.h"
#include "hsnap_shells.h"

#define LAUNCH_VAR "HEAPSNAP_LAUNCHER"
#define LAUNCH_FOLLOW_VAR "HEAPSNAP_FOLLOW"
#define LAUNCH_SCRIPT_MAX (1u << 20)

/* The pid of the launcher this process belongs to: its own (a launcher's
 * image), the launcher's that started it (a helper; kept over fork, shared
 * by a vfork child), 0 for none.  Set once, by launch_inactive. */
static long launch_pid;

/* This image's script (or "env") when it is a launcher's own, for run
 * (launch_own_image); empty when not.  Written only in a launcher's image,
 * at start-up: no other process, nor a fork child, copies its page. */
static char launch_what[256];

/* c may begin a command word: nothing before it on its line but blanks,
 * or a separator (; & | ( { !) or a keyword that opens a list. */
static int launch_at_command(const char *text, const char *p)
{
    const char *q = p;
    while (q > text && (q[-1] == ' ' || q[-1] == '\t'))
        q--;
    if (q == text || q[-1] == '\n' || (q[-1] && strchr(";&|({!", q[-1])))
        return 1;
    static const char *const kw[] = {"then", "else", "do", NULL};
    for (const char *const *k = kw; *k; k++) {
        size_t n = strlen(*k);
        if ((size_t)(q - text) >= n && !memcmp(q - n, *k, n) &&
            (q - n == text || strchr(" \t\n;", q[-n - 1])))
            return 1;
    }
    return 0;
}

/* The script holds `exec CMD` (not `exec >log`, `exec 3<&0` or a lone
 * `exec`) as a command, outside a comment. */
static int launch_script_execs(const char *text, size_t n)
{
    int comment = 0;
    for (size_t i = 0; i + 5 < n; i++) {
        char c = text[i];
        if (c == '\n')
            comment = 0;
        else if (c == '#' && (i == 0 || strchr(" \t\n;", text[i - 1])))
            comment = 1;
        if (comment || c != 'e' || memcmp(text + i, "exec", 4) ||
            (text[i + 4] != ' ' && text[i + 4] != '\t') || !launch_at_command(text, text + i))
            continue;
        size_t k = i + 4;
        while (k < n && (text[k] == ' ' || text[k] == '\t'))
            k++;
        if (k >= n || strchr("<>\n;&|#{", text[k]))
            continue;
        size_t d = k;
        while (d < n && text[d] >= '0' && text[d] <= '9')
            d++;
        if (d > k && d < n && (text[d] == '<' || text[d] == '>'))
            continue; /* exec 3>file */
        return 1;
    }
    return 0;
}

static int launch_file_execs(const char *path)
{
    int fd = (int)syscall(SYS_openat, AT_FDCWD, path, O_RDONLY | O_CLOEXEC);
    if (fd < 0)
        return 0;
    struct stat st;
    int r = 0;
    if (syscall(SYS_fstat, fd, &st) == 0 && S_ISREG(st.st_mode) && st.st_size > 0) {
        size_t n = (size_t)st.st_size < LAUNCH_SCRIPT_MAX ? (size_t)st.st_size : LAUNCH_SCRIPT_MAX;
        void *m = (void *)syscall(SYS_mmap, NULL, n, PROT_READ, MAP_PRIVATE, fd, 0);
        if (m != MAP_FAILED) {
            r = launch_script_execs(m, n);
            syscall(SYS_munmap, m, n);
        }
    }
    syscall(SYS_close, fd);
    return r;
}

/* A shell's command line (NUL-separated) runs a script file, and which:
 * its first operand, past the options (-c and -s read no file). */
static const char *launch_shell_script(const char *args, size_t n)
{
    const char *a = args + strlen(args) + 1; /* past argv[0] */
    int takes_arg = 0;
    for (; a < args + n; a += strlen(a) + 1) {
        if (takes_arg) {
            takes_arg = 0;
            continue;
        }
        if (!strcmp(a, "-"))
            return NULL; /* the script on stdin */
        if (!strcmp(a, "--"))
            return a + 3 < args + n ? a + 3 : NULL;
        if (a[0] == '-' && a[1] == '-') {
            takes_arg = !strcmp(a, "--rcfile") || !strcmp(a, "--init-file");
            continue;
        }
        if (a[0] == '-' || a[0] == '+') {
            if (strchr(a + 1, 'c') || strchr(a + 1, 's'))
                return NULL;
            takes_arg = strchr(a + 1, 'o') || strchr(a + 1, 'O');
            continue;
        }
        return a;
    }
    return NULL;
}

/* This image is a launcher's: env, or a shell running a script that execs. */
static int launch_image(void)
{
    char exe[512], args[8192];
    ssize_t n = syscall(SYS_readlink, "/proc/self/exe", exe, sizeof exe - 1);
    if (n <= 0)
        return 0;
    exe[n] = 0;
    const char *base = strrchr(exe, '/') ? strrchr(exe, '/') + 1 : exe;
    if (!strcmp(base, "env")) {
        memcpy(launch_what, "env", 4);
        return 1;
    }
    if (!hsnap_is_shell(base))
        return 0;
    int fd = (int)syscall(SYS_openat, AT_FDCWD, "/proc/self/cmdline", O_RDONLY | O_CLOEXEC);
    if (fd < 0)
        return 0;
    n = syscall(SYS_read, fd, args, sizeof args - 1);
    syscall(SYS_close, fd);
    if (n <= 0 || n == (ssize_t)sizeof args - 1)
        return 0; /* none, or too long to tell */
    args[n] = 0;
    const char *script = launch_shell_script(args, (size_t)n);
    if (!script || !launch_file_execs(script))
        return 0;
    size_t k = strnlen(script, sizeof launch_what - 1);
    memcpy(launch_what, script, k);
    launch_what[k] = 0;
    return 1;
}

/* name= taken out of environ by hand, not with unsetenv: a program may
 * define its own (bash does, and its unsetenv, called before bash has read
 * its environment into variables, leaves environ as it was: bash then
 * exported the variable to every child, which stayed inactive as helpers).
 * Start-up is single-threaded. */
static void launch_unset(const char *name)
{
    size_t n = strlen(name);
    char **e = environ, **out = environ;
    if (!e)
        return;
    for (; *e; e++)
        if (strncmp(*e, name, n) || (*e)[n] != '=')
            *out++ = *e;
    *out = NULL;
}

/* The launcher's pid that v (the mark's value) names, or 0. */
static long launch_mark_pid(const char *v)
{
    char *end;
    long pid = v ? strtol(v, &end, 10) : 0;
    return pid > 0 && !*end ? pid : 0;
}

/* 1 when this process is a launcher's (see the top), 0 when not.  Once,
 * at start-up (cred_secure keeps the answer); the program's start takes
 * the mark out of its environment. */
int launch_inactive(void)
{
    const char *follow = getenv(LAUNCH_FOLLOW_VAR);
    if (follow && !strcmp(follow, "all"))
        return 0;
    const char *v = getenv(LAUNCH_VAR);
    long me = (long)syscall(SYS_getpid), pid = launch_mark_pid(v);
    if (v && !pid)
        return 0;
#ifdef HEAPSNAP_ATTACH_BUILD
    if (!pid)
        return 0; /* attached to: traced, whatever its image */
#endif
    if (pid && pid != me) {
        launch_pid = pid; /* started by the launcher before it exec'd */
        return 1;
    }
    if (launch_image()) {
        launch_pid = me;
        return 1;
    }
    if (pid)
        launch_unset(LAUNCH_VAR);
    return 0;
}

const char *launch_own_image(void)
{
    return launch_pid && launch_pid == (long)syscall(SYS_getpid) && launch_what[0] ? launch_what
                                                                                  : NULL;
}

/* The name the loader gave this library (LD_PRELOAD's entry for it), or
 * NULL: preloaded some other way, never left out. */
static const char *launch_self;

void launch_exec_init(void)
{
    Dl_info me;
    if (dladdr((void *)launch_exec_init, &me) && me.dli_fname && strchr(me.dli_fname, '/'))
        launch_self = me.dli_fname;
}

/* The value of name (with its '=') in envp, its index in *at; NULL when
 * absent or there more than once (the loader and getenv would differ). */
static const char *launch_env_get(char *const envp[], const char *name, size_t *at)
{
    size_t n = strlen(name);
    const char *v = NULL;
    for (size_t i = 0; envp[i]; i++)
        if (!strncmp(envp[i], name, n)) {
            if (v)
                return NULL;
            v = envp[i] + n;
            *at = i;
        }
    return v;
}

/* LD_PRELOAD's value v without this library's entries into pre (npre
 * bytes, "LD_PRELOAD=" first); -1 when none is left out or it does not
 * fit, else the length of what is left (0: nothing). */
static long launch_drop_self(const char *v, char *pre, size_t npre)
{
    size_t k = strlen("LD_PRELOAD="), self = strlen(launch_self), start = k;
    int dropped = 0;
    if (npre <= k)
        return -1;
    memcpy(pre, "LD_PRELOAD=", k);
    while (*v) {
        size_t n = strcspn(v, ": ");
        if (n == self && !memcmp(v, launch_self, n))
            dropped = 1;
        else if (n) {
            if (k + n + 2 > npre)
                return -1;
            if (k > start)
                pre[k++] = ':';
            memcpy(pre + k, v, n);
            k += n;
        }
        v += n + (v[n] != 0);
    }
    pre[k] = 0;
    return dropped ? (long)(k - start) : -1;
}

/* envp with the entry at index `at` replaced by rep (left out when NULL)
 * and add appended (when not NULL), in e->out; envp when it does not fit. */
static char *const *launch_env_edit(char *const envp[], struct launch_env *e, size_t at,
                                    char *rep, char *add)
{
    size_t n = 0;
    for (size_t i = 0; envp[i]; i++) {
        if (n + 2 >= LAUNCH_ENV_MAX)
            return envp;
        if (i != at)
            e->out[n++] = envp[i];
        else if (rep)
            e->out[n++] = rep;
    }
    if (add)
        e->out[n++] = add;
    e->out[n] = NULL;
    return e->out;
}

char *const *launch_exec_env(char *const envp[], struct launch_env *e)
{
    size_t at_var = (size_t)-1, at_pre = (size_t)-1;
    if (!envp || !launch_self)
        return envp;
    (void)cred_secure(); /* launch_pid is known from here on */
    long me = (long)syscall(SYS_getpid);
    if (!launch_pid)
        return envp; /* not a launcher's: the program, or a process of its */
    const char *ld = launch_env_get(envp, "LD_PRELOAD=", &at_pre);
    long left = ld ? launch_drop_self(ld, e->pre, sizeof e->pre) : -1;
    if (left < 0)
        return envp; /* the image loads no shim: nothing to leave out or to tell */
    if (launch_pid != me) /* a helper: its image runs without the shim */
        return launch_env_edit(envp, e, at_pre, left ? e->pre : NULL, NULL);
    /* the launcher's own exec: the image it becomes is of the launcher's pid */
    const char *v = launch_env_get(envp, LAUNCH_VAR "=", &at_var);
    if (v && launch_mark_pid(v) == me)
        return envp;
    if (!v && at_var != (size_t)-1)
        return envp; /* there twice: the loader and getenv would differ */
    size_t k = strlen(LAUNCH_VAR "=");
    memcpy(e->var, LAUNCH_VAR "=", k);
    e->var[k + opt_fmt_u64(e->var + k, (uint64_t)me)] = 0;
    return launch_env_edit(envp, e, at_var, NULL, e->var);
}
