/*
 * attach.c - `heapsnap attach PID` and `heapsnap detach PID`: profile a
 * process that is already running (docs/usage.md, "Attach to a running
 * process").
 *
 * attach checks first, touching nothing, that the process can be entered
 * (attach_refusal: it exists, is not stopped or traced, ptrace is allowed
 * - Yama's ptrace_scope, its owner -, it is dynamically linked, some module
 * reaches the malloc family through its GOT, it does not run the shim
 * already), then borrows one thread (inject.c) to call dlopen on
 * libheapsnap-attach.so and the shim's heapsnap__attach with the options
 * as "HEAPSNAP_NAME=VALUE" lines.  It then waits - Ctrl-C, --duration, the
 * process's end, or a `heapsnap detach` from elsewhere - and detaches
 * through the shim's control socket (ctl.c: /tmp/heapsnap-UID/PID.sock,
 * UID the process's), which lists the snapshots the session wrote.
 */
#include <errno.h>
#include <getopt.h>
#include <limits.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <time.h>
#include <unistd.h>

#include "attach.h"
#include "cli.h"
#include "commands.h"
#include "escape.h"
#include "fmt.h"
#include "inject.h"
#include "runner.h"

#define ATTACH_CALL_MS 30000 /* dlopen and the start, at most */
#define ATTACH_ANSWER_MS 120000 /* detach: the longest silence between lines */
#define ATTACH_SERVED_MS 5000 /* the control thread's first answer, waited for */
#define ATTACH_EXIT_MS 2000  /* a process that removed its socket: its end, waited for */
#define ATTACH_SHIM "libheapsnap-attach.so"
#define PRELOAD_SHIM "libheapsnap.so" /* heapsnap run's, LD_PRELOAD's */
#define ATTACH_RTLD_NOW 2

static volatile sig_atomic_t attach_stop; /* Ctrl-C, SIGTERM */

static const char *const attach_family[] = {
    "malloc", "free", "calloc", "realloc", "reallocarray", "posix_memalign", "aligned_alloc",
    "memalign", "valloc", "pvalloc", "malloc_usable_size",
};

struct attach_opts {
    pid_t pid;
    const char *output, *duration;
    struct shimopt shim;  /* --depth ... --leaks: the shim's, shimopt_rows */
    int state;            /* the state file on (heapsnap live reads it) */
};

static void attach_usage(void)
{
    printf("usage: heapsnap attach PID [options]\n"
           "Loads the shim into the running process PID (ptrace, no gdb) and records its\n"
           "allocations from now on; Ctrl-C, the end of --duration, or `heapsnap detach PID`\n"
           "writes the last snapshot and leaves the process running as before.  Blocks\n"
           "allocated before the attach are not traced.  Exit status 2 when the process\n"
           "cannot be attached to (one line says why).\n\n"
           "  -o PATTERN         snapshot file name (default %%e.%%p.hsnap, here: the\n"
           "                     program's name, its pid)\n"
           "      --depth N      frames kept per allocation stack (1 to 256)\n"
           "      --signal SIG   signal that writes a snapshot (e.g. USR2)\n"
           "      --interval S   write a snapshot every S seconds (e.g. 0.5)\n"
           "      --sample BYTES mean sampling interval in bytes\n"
           "      --unwind M     stack capture: auto, fp or libunwind\n"
           "      --no-blocks    do not record individual live blocks\n"
           "      --leaks        run the leak check at detach (docs/leaks.md: its limits\n"
           "                     after an attach)\n"
           "      --duration S   detach after S seconds\n");
}

static void attach_detach_usage(void)
{
    printf("usage: heapsnap detach PID\n"
           "Ends a `heapsnap attach` session of PID: the last snapshot is written (with the\n"
           "leak check if the attach asked for it), the shim's GOT entries are put back and\n"
           "its threads stopped; the process runs on as before.  Prints the snapshots the\n"
           "session wrote.\n");
}

static int attach_pid(const char *s, pid_t *pid, char *err, size_t errlen)
{
    uint64_t v;
    if (cli_parse_count(s, INT_MAX, &v) != 0 || v == 0) {
        snprintf(err, errlen, "bad PID '%s' (a process id)", s);
        return -1;
    }
    *pid = (pid_t)v;
    return 0;
}

static int attach_parse(int argc, char **argv, struct attach_opts *o, char *err, size_t errlen)
{
    static const struct option own[] = {{"duration", required_argument, NULL, 't'},
                                         {"help", no_argument, NULL, 'h'},
                                         {NULL, 0, NULL, 0}};
    struct option longopts[SHIMOPT_MAXOPTS];
    int c;
    memset(o, 0, sizeof *o);
    shimopt_init(&o->shim, SHIMOPT_ATTACH, own, NULL, longopts);
    optind = 1;
    opterr = 0;
    while ((c = getopt_long(argc, argv, ":o:h", longopts, NULL)) != -1) {
        if (shimopt_take(&o->shim, c, optarg))
            continue;
        switch (c) {
        case 'o': o->output = optarg; break;
        case 't': o->duration = optarg; break;
        case 'h': attach_usage(); return 0;
        default: return cli_bad_option("attach", c, argv, longopts, err, errlen);
        }
    }
    if (optind != argc - 1) {
        snprintf(err, errlen, "attach: %s (heapsnap attach PID [options])",
                 optind >= argc ? "no PID given" : "one PID only");
        return 2;
    }
    if (attach_pid(argv[optind], &o->pid, err, errlen) != 0)
        return 2;
    double d;
    char *end;
    if (o->duration && ((d = strtod(o->duration, &end)) <= 0 || *end || d > 1e7)) {
        snprintf(err, errlen, "attach: bad value for --duration: '%s' (seconds, e.g. 2.5)",
                 o->duration);
        return 2;
    }
    if (shimopt_check(&o->shim, "attach", err, errlen) < 0)
        return 2;
    return -1;
}

/* ---------------- what the process is, from /proc ---------------- */

struct attach_facts {
    char state;        /* /proc/PID/stat's */
    long tracer;       /* TracerPid */
    long uid, euid;    /* the process's real and effective uid */
    char comm[64];
};

static int attach_facts(pid_t pid, struct attach_facts *f)
{
    char path[64], line[256];
    memset(f, 0, sizeof *f);
    snprintf(path, sizeof path, "/proc/%d/status", (int)pid);
    FILE *s = fopen(path, "re");
    if (!s)
        return -1;
    while (fgets(line, sizeof line, s)) {
        if (!strncmp(line, "Name:", 5))
            sscanf(line + 5, " %63[^\n]", f->comm);
        else if (!strncmp(line, "State:", 6))
            sscanf(line + 6, " %c", &f->state);
        else if (!strncmp(line, "TracerPid:", 10))
            f->tracer = strtol(line + 10, NULL, 10);
        else if (!strncmp(line, "Uid:", 4))
            sscanf(line + 4, "%ld %ld", &f->uid, &f->euid);
    }
    fclose(s);
    return 0;
}

/* CAP_SYS_PTRACE in our effective set. */
static int attach_may_ptrace_any(void)
{
    char line[256];
    FILE *s = fopen("/proc/self/status", "re");
    unsigned long long eff = 0;
    if (!s)
        return geteuid() == 0;
    while (fgets(line, sizeof line, s))
        if (!strncmp(line, "CapEff:", 7))
            eff = strtoull(line + 7, NULL, 16);
    fclose(s);
    return (eff >> 19) & 1;
}

/* Yama's ptrace_scope (0 when there is no Yama).  HEAPSNAP_YAMA_FILE names
 * another file to read (the tests' way to see each scope refused). */
static int attach_yama(void)
{
    const char *p = getenv("HEAPSNAP_YAMA_FILE");
    FILE *s = fopen(p && *p ? p : "/proc/sys/kernel/yama/ptrace_scope", "re");
    int v = 0;
    if (s) {
        if (fscanf(s, "%d", &v) != 1)
            v = 0;
        fclose(s);
    }
    return v;
}

/* Why pid cannot be traced, in err (-1), touching nothing; 0 when it
 * can, with its modules in map. */
static int attach_untraceable(pid_t pid, struct attach_facts *f, struct rsym_map *map,
                              char *err, size_t errlen)
{
    char exe[64];
    int any = attach_may_ptrace_any(), yama = attach_yama();
    if (pid == getpid()) {
        snprintf(err, errlen, "attach: %d is heapsnap itself", (int)pid);
        return -1;
    }
    if (attach_facts(pid, f) != 0) {
        snprintf(err, errlen, "attach: no process %d (is it still running? see ps)", (int)pid);
        return -1;
    }
    if (f->state == 'Z' || f->state == 'X') {
        snprintf(err, errlen, "attach: process %d (%s) has exited (a zombie): nothing to "
                 "profile", (int)pid, f->comm);
        return -1;
    }
    if (f->tracer) {
        snprintf(err, errlen, "attach: process %d (%s) is already traced by process %ld (a "
                 "debugger, strace, another attach): detach that first", (int)pid, f->comm,
                 f->tracer);
        return -1;
    }
    if (f->state == 'T' || f->state == 't') {
        snprintf(err, errlen, "attach: process %d (%s) is stopped: continue it first "
                 "(kill -CONT %d)", (int)pid, f->comm, (int)pid);
        return -1;
    }
    if (!any && (f->uid != (long)getuid() || f->euid != (long)getuid())) {
        snprintf(err, errlen, "attach: process %d (%s) belongs to uid %ld: no permission to "
                 "trace it; run heapsnap as that user (or as root)", (int)pid, f->comm,
                 f->euid);
        return -1;
    }
    if (yama >= 3 || (yama == 2 && !any) || (yama == 1 && !any)) {
        snprintf(err, errlen, "attach: ptrace is restricted here (Yama ptrace_scope=%d): %s",
                 yama, yama >= 3 ? "no process may be traced until the next boot"
                 : yama == 2 ? "only root (CAP_SYS_PTRACE) may attach; run heapsnap as root"
                             : "only a parent may trace its child; run heapsnap as root, or "
                               "set /proc/sys/kernel/yama/ptrace_scope to 0");
        return -1;
    }
    snprintf(exe, sizeof exe, "/proc/%d/exe", (int)pid);
    int dyn = rsym_dynamic(exe);
    if (dyn < 0 && (errno == EACCES || errno == EPERM)) {
        /* the same user, yet the kernel refuses: a process that changed its
         * credentials, runs a program its user may not read, or called
         * prctl(PR_SET_DUMPABLE, 0) - or a security module says no */
        snprintf(err, errlen, "attach: no permission to trace process %d (%s): %s", (int)pid,
                 f->comm, any ? "a security module (AppArmor, SELinux) forbids it"
                 : "it is not dumpable (it changed its user, runs a program it may not read, or "
                   "set PR_SET_DUMPABLE to 0); run heapsnap as root");
        return -1;
    }
    if (dyn < 0) {
        snprintf(err, errlen, "attach: cannot read %s: %s", exe, strerror(errno));
        return -1;
    }
    if (!dyn) {
        snprintf(err, errlen, "attach: process %d (%s) is statically linked: there is no "
                 "loader to load the shim with, so it cannot be profiled", (int)pid, f->comm);
        return -1;
    }
    if (rsym_read(pid, map) != 0) {
        snprintf(err, errlen, "attach: cannot read /proc/%d/maps: %s", (int)pid, strerror(errno));
        return -1;
    }
    return 0;
}

/* Why pid cannot be attached to, in err (-1), touching nothing; 0 when
 * it can, with its modules in map. */
static int attach_refusal(pid_t pid, struct attach_facts *f, struct rsym_map *map,
                          char *err, size_t errlen)
{
    char sock[PATH_MAX], why[512];
    if (attach_untraceable(pid, f, map, err, errlen) != 0)
        return -1;
    if (rsym_find(map, PRELOAD_SHIM)) {
        snprintf(err, errlen, "attach: process %d (%s) already runs under heapsnap (heapsnap "
                 "run or LD_PRELOAD): use its HEAPSNAP_SIGNAL for a snapshot", (int)pid, f->comm);
        return -1;
    }
    /* attached already: its own socket answers (a stale or planted one is
     * no session, and an attempt that failed left none) */
    ctl_path(pid, f->euid, sock, sizeof sock);
    int c = rsym_find(map, ATTACH_SHIM) ? ctl_connect(sock, pid, why, sizeof why) : -1;
    if (c >= 0) {
        close(c);
        snprintf(err, errlen, "attach: process %d (%s) is attached already (heapsnap detach "
                 "%d ends that session)", (int)pid, f->comm, (int)pid);
        return -1;
    }
    int got = 0;
    for (unsigned i = 0; i < map->n && !got; i++) {
        const char *base = strrchr(map->m[i].path, '/');
        base = base ? base + 1 : map->m[i].path;
        if (map->m[i].path[0] != '/' || !strncmp(base, "ld-linux", 8) ||
            !strncmp(base, "libc.so", 7) || !strncmp(base, ATTACH_SHIM, sizeof ATTACH_SHIM - 1))
            continue;
        got = rsym_has_reloc(pid, map->m[i].path, attach_family,
                             sizeof attach_family / sizeof *attach_family) == 1;
    }
    if (!got) {
        snprintf(err, errlen, "attach: process %d (%s) does not call the malloc family "
                 "through a GOT (no module but libc imports malloc): nothing to trace",
                 (int)pid, f->comm);
        return -1;
    }
    return 0;
}

/* ---------------- the call ---------------- */

static void attach_range(struct inj_ranges *r, const struct rsym_module *m)
{
    if (m && m->xhi && r->n < 16) {
        r->lo[r->n] = m->xlo;
        r->hi[r->n++] = m->xhi;
    }
}

/* conf's text so far, for attach_put. */
struct attach_text {
    char *conf;
    size_t n, k;
};

/* "VAR=VALUE\n" added to the text (its length counted past n: too long). */
static void attach_put(const char *var, const char *val, void *arg)
{
    struct attach_text *t = arg;
    t->k += (size_t)snprintf(t->conf + t->k, t->k < t->n ? t->n - t->k : 0, "%s=%s\n", var, val);
}

/* The text of the options: the command line's, then the caller's own
 * HEAPSNAP_* variables (the shim takes a name's first line: the command
 * line wins, as it does for run). */
static int attach_conf(const struct attach_opts *o, char *conf, size_t n, char *err,
                       size_t errlen)
{
    char cwd[PATH_MAX], out[PATH_MAX + 64];
    const char *pat = o->output ? o->output : ATTACH_OUTPUT;
    size_t k = 0;
    if (pat[0] != '/' && getcwd(cwd, sizeof cwd))
        snprintf(out, sizeof out, "%s/%s", cwd, pat);
    else
        snprintf(out, sizeof out, "%s", pat);
    if (strchr(out, '\n')) {
        snprintf(err, errlen, "attach: the output name holds a newline");
        return -1;
    }
#define ATTACH_PUT(name, val)                                                              \
    do {                                                                                   \
        const char *v_ = (val);                                                            \
        if (v_)                                                                            \
            k += (size_t)snprintf(conf + k, k < n ? n - k : 0, "%s=%s\n", name, v_);      \
    } while (0)
    ATTACH_PUT("HEAPSNAP_OUTPUT", out);
    struct attach_text t = {conf, n, k};
    shimopt_each(&o->shim, attach_put, &t);
    k = t.k;
    /* the state file only for live's own attach: a plain one gives back its memory */
    ATTACH_PUT("HEAPSNAP_STATE", getenv("HEAPSNAP_STATE") ? NULL : o->state ? "64" : "0");
    extern char **environ;
    for (char **e = environ; *e; e++) /* the caller's own tuning, as run passes it on */
        if (!strncmp(*e, "HEAPSNAP_", 9) && !strchr(*e, '\n') &&
            strncmp(*e, "HEAPSNAP_MANIFEST", 17) && strncmp(*e, "HEAPSNAP_YAMA_FILE", 18) &&
            strncmp(*e, "HEAPSNAP_INJECT_", 16))
            k += (size_t)snprintf(conf + k, k < n ? n - k : 0, "%s\n", *e);
#undef ATTACH_PUT
    if (k >= n) {
        snprintf(err, errlen, "attach: the options are too long");
        return -1;
    }
    return 0;
}

static const char *attach_code_text(int64_t r)
{
    switch (r) {
    case -1: return "the shim was there from the start";
    case -2: return "it is attached already";
    case -3: return "it runs in secure-execution mode (setuid, capabilities): the shim records "
                    "nothing there";
    case -4: return "the shim could not find its own functions";
    case -5: return "no module of it calls the malloc family through a GOT";
    case -6: return "the control socket /tmp/heapsnap-UID/PID.sock could not be made";
    case -7: return "the shim's control thread could not start";
    case -8: return "its shim was loaded by the program itself (heapsnap__load): it has no "
                    "control socket to open";
    case -9: return "its shim records nothing (recording stopped, or secure execution)";
    default: return "the shim refused";
    }
}

/* attach_inject's steps.  The loader's functions in the process: dlopen
 * and dlerror from libc (glibc 2.34 on), else __libc_dlopen_mode, else
 * libdl's; dlsym the same way.  A field stays 0 where none is found. */
static void attach_dl_fns(pid_t pid, const struct rsym_module *libc,
                          const struct rsym_module *dl, struct inj_load *l)
{
    if (libc && (l->dlopen = rsym_lookup(pid, libc, "dlopen")))
        l->dlerror = rsym_lookup(pid, libc, "dlerror");
    else if (libc)
        l->dlopen = rsym_lookup(pid, libc, "__libc_dlopen_mode");
    if (!l->dlopen && dl && (l->dlopen = rsym_lookup(pid, dl, "dlopen")))
        l->dlerror = rsym_lookup(pid, dl, "dlerror");
    if (libc)
        l->dlsym = rsym_lookup(pid, libc, "dlsym");
    if (!l->dlsym && dl)
        l->dlsym = rsym_lookup(pid, dl, "dlsym");
}

/* The process stopped for the call (inj_open), with the code no thread
 * may be borrowed in (libc, the loader, the shims, an allocator) and the
 * loader's; 0, or 2 with err. */
static int attach_open(pid_t pid, const struct rsym_map *map, const struct rsym_module *libc,
                       struct inj **j, char *err, size_t errlen)
{
    const struct rsym_module *ld = rsym_find(map, "ld-linux");
    struct inj_ranges unsafe = {0}, loader = {0};
    attach_range(&unsafe, libc);
    attach_range(&unsafe, ld);
    attach_range(&loader, ld);
    attach_range(&unsafe, rsym_find(map, ATTACH_SHIM));
    attach_range(&unsafe, rsym_find(map, PRELOAD_SHIM));
    for (unsigned i = 0; i < map->n; i++) {
        const char *base = strrchr(map->m[i].path, '/');
        if (base && strstr(base, "malloc")) /* jemalloc, tcmalloc, mimalloc */
            attach_range(&unsafe, &map->m[i]);
    }
    char why[512];
    int r = inj_open(j, pid, &unsafe, &loader, why, sizeof why);
    if (r == -2 && strstr(why, "already traced")) {
        snprintf(err, errlen, "attach: %s", why);
        return 2;
    }
    if (r == -2) {
        snprintf(err, errlen, "attach: no permission to trace process %d (%s): run heapsnap as "
                 "its user or as root, and check /proc/sys/kernel/yama/ptrace_scope", (int)pid, why);
        return 2;
    }
    if (r != 0) {
        snprintf(err, errlen, "attach: %s", why);
        return 2;
    }
    return 0;
}

/* The load made on the stopped process (inj_load's last answer in *r),
 * and what it answered: 0 when the shim (or direct) returned 0, else 2
 * with err. */
static int attach_load(pid_t pid, const struct rsym_map *map, struct inj *j, struct inj_load *l,
                       uint64_t direct, int *r, char *err, size_t errlen)
{
    char why[512];
    const char *t = getenv("HEAPSNAP_INJECT_TIMEOUT_MS"); /* the tests' */
    unsigned ms = t && atoi(t) > 0 ? (unsigned)atoi(t) : ATTACH_CALL_MS;
    if ((*r = inj_load(j, (struct rsym_map *)map, l, ms, why, sizeof why)) != 0) {
        snprintf(err, errlen, "attach: %s", why);
        return 2;
    }
    if (direct && (int32_t)l->handle != 0) {
        snprintf(err, errlen, "attach: process %d: %s", (int)pid,
                 attach_code_text((int32_t)l->handle));
        return 2;
    }
    if (direct)
        return 0;
    if (l->handle && !l->called && !l->entry) { /* no dlsym: the entry from the file */
        struct rsym_map *now = malloc(sizeof *now);
        const struct rsym_module *me;
        if (now && rsym_read(pid, now) == 0 && (me = rsym_find(now, ATTACH_SHIM)))
            l->entry = rsym_lookup(pid, me, l->sym);
        free(now);
        if (l->entry && (*r = inj_load(j, (struct rsym_map *)map, l, ms, why, sizeof why)) != 0) {
            snprintf(err, errlen, "attach: %s", why);
            return 2;
        }
    }
    if (!l->handle) {
        snprintf(err, errlen, "attach: process %d could not load %s: %s", (int)pid, l->path,
                 l->dlerr[0] ? l->dlerr : "dlopen failed");
        return 2;
    }
    if (!l->called) {
        snprintf(err, errlen, "attach: the shim's entry point was not found in process %d", (int)pid);
        return 2;
    }
    if ((int32_t)l->ret != 0) {
        snprintf(err, errlen, "attach: process %d: %s", (int)pid,
                 attach_code_text((int32_t)l->ret));
        return 2;
    }
    return 0;
}

/* dlopen(shim, mode), then the shim's function sym(conf), on a borrowed
 * thread; or, with direct (the address of a function of a shim loaded
 * already), only direct(conf), in dlopen's place (the tramp takes its
 * answer for the handle: 0, then no dlerror, entry nor dlsym to call).
 * 0 when it returned 0, else 2 with err. */
static int attach_inject(pid_t pid, const struct rsym_map *map, const char *shim, int mode,
                         const char *sym, uint64_t direct, const char *conf, char *err,
                         size_t errlen)
{
    const struct rsym_module *libc = rsym_find(map, "libc.so"), *dl = rsym_find(map, "libdl.so");
    struct inj_load l = {.path = shim, .sym = sym, .conf = conf, .mode = mode};
    attach_dl_fns(pid, libc, dl, &l);
    if (!l.dlopen && !direct) {
        snprintf(err, errlen, "attach: no dlopen in process %d's libc (glibc is needed)", (int)pid);
        return 2;
    }
    if (direct) /* its first argument is the path: conf's text there */
        l = (struct inj_load){.dlopen = direct, .path = conf, .sym = "", .conf = ""};
    struct inj *j;
    if (attach_open(pid, map, libc, &j, err, errlen) != 0)
        return 2;
    int r = 0, rc = attach_load(pid, map, j, &l, direct, &r, err, errlen);
    if (r == -4) { /* the call goes on in the process: nothing to put back here */
        inj_close(j);
        return 2;
    }
    if (inj_close(j) != 0 && rc == 0) {
        snprintf(err, errlen, "attach: process %d's registers could not be put back", (int)pid);
        rc = 2;
    }
    return rc;
}

/* ---------------- the session ---------------- */

static void attach_on_signal(int sig)
{
    (void)sig;
    attach_stop = 1;
}

/* Until Ctrl-C, --duration, the process's end, or a detach from elsewhere
 * (the socket gone).  1 when it is still attached. */
static int attach_wait(pid_t pid, const char *sock, double duration)
{
    struct timespec t0, now;
    clock_gettime(CLOCK_MONOTONIC, &t0);
    while (!attach_stop) {
        struct stat st;
        if (kill(pid, 0) != 0 && errno == ESRCH)
            return 0;
        if (stat(sock, &st) != 0)
            return 0;
        clock_gettime(CLOCK_MONOTONIC, &now);
        if (duration > 0 &&
            (double)(now.tv_sec - t0.tv_sec) + (now.tv_nsec - t0.tv_nsec) / 1e9 >= duration)
            break;
        poll(NULL, 0, 50);
    }
    return 1;
}

/* Whether pid has ended: gone, or a zombie its parent has not reaped yet
 * (kill(pid, 0) still succeeds on one). */
static int attach_ended(pid_t pid)
{
    struct attach_facts f;
    return attach_facts(pid, &f) != 0 || f.state == 'Z' || f.state == 'X';
}

/* The socket went without us: 1 when the process ended (its shim removes
 * the socket at the exit, and the exit goes on a while: atexit handlers,
 * the other threads, the parent's wait), 0 when a `heapsnap detach` from
 * elsewhere ended the session, the process running on. */
static int attach_gone_by_exit(pid_t pid)
{
    for (int i = 0; i < ATTACH_EXIT_MS / 20; i++) {
        if (attach_ended(pid))
            return 1;
        poll(NULL, 0, 20);
    }
    return attach_ended(pid);
}

/* SIGINT, SIGTERM and SIGHUP held while an injection runs (it is not cut
 * short; *old gets the mask to put back), SIGPIPE ignored. */
static void attach_hold_signals(sigset_t *old)
{
    sigset_t block;
    sigemptyset(&block);
    sigaddset(&block, SIGINT);
    sigaddset(&block, SIGTERM);
    sigaddset(&block, SIGHUP);
    sigprocmask(SIG_BLOCK, &block, old);
    signal(SIGPIPE, SIG_IGN);
}

/* The checks, then the shim loaded and started in o->pid (f filled):
 * 0, or 2 with err. */
static int attach_do(const struct attach_opts *o, struct attach_facts *f, char *err,
                     size_t errlen)
{
    char shim[PATH_MAX], conf[16384];
    struct rsym_map *map = malloc(sizeof *map);
    int rc = 2;
    if (!map) {
        snprintf(err, errlen, "attach: out of memory");
        return 2;
    }
    if (attach_refusal(o->pid, f, map, err, errlen) != 0)
        goto out;
    if (run_find_lib(ATTACH_SHIM, shim, sizeof shim) != 0) {
        snprintf(err, errlen, "attach: cannot find %s next to heapsnap or in ../lib/heapsnap/",
                 ATTACH_SHIM);
        goto out;
    }
    if (attach_conf(o, conf, sizeof conf, err, errlen) != 0)
        goto out;
    sigset_t old;
    attach_hold_signals(&old);
    struct sigaction sa = {.sa_handler = attach_on_signal};
    sigemptyset(&sa.sa_mask);
    sigaction(SIGINT, &sa, NULL);
    sigaction(SIGTERM, &sa, NULL);
    sigaction(SIGHUP, &sa, NULL); /* a closed terminal: detach, then leave */
    rc = attach_inject(o->pid, map, shim, ATTACH_RTLD_NOW, "heapsnap__attach", 0, conf, err,
                       errlen);
    sigprocmask(SIG_SETMASK, &old, NULL);
    if (rc == 0) { /* "attached" once its thread serves: CPython's wrap asked for */
        char sock[PATH_MAX];
        ctl_path(o->pid, f->euid, sock, sizeof sock);
        ctl_served(sock, o->pid, ATTACH_SERVED_MS);
    }
out:
    free(map);
    return rc;
}

int attach_start(pid_t pid, const char *output, char *comm, size_t n, char *err, size_t errlen)
{
    struct attach_opts o = {.pid = pid, .output = output, .state = 1};
    struct attach_facts f = {0};
    int rc = attach_do(&o, &f, err, errlen);
    snprintf(comm, n, "%s", f.comm);
    return rc;
}

int attach_serve(pid_t pid, char *err, size_t errlen)
{
    struct attach_facts f;
    struct rsym_map *map = malloc(sizeof *map);
    const struct rsym_module *me;
    uint64_t entry = 0;
    int rc = 2;
    if (!map) {
        snprintf(err, errlen, "live: out of memory");
        return 2;
    }
    if (attach_untraceable(pid, &f, map, err, errlen) != 0)
        goto out;
    if (!(me = rsym_find(map, PRELOAD_SHIM)) || !(entry = rsym_lookup(pid, me, "heapsnap__serve"))) {
        snprintf(err, errlen, "live: process %d (%s) runs under heapsnap without its control "
                 "socket, and its shim %s: start it with heapsnap run --live (or HEAPSNAP_LIVE=1)",
                 (int)pid, f.comm, me ? "is older than this heapsnap" : "is not one heapsnap knows");
        goto out;
    }
    sigset_t old;
    attach_hold_signals(&old);
    /* the library is the process's already: no dlopen (even one with
     * RTLD_NOLOAD allocates, in the program's heap, through the hooks) */
    rc = attach_inject(pid, map, me->path, 0, "heapsnap__serve", entry, "", err, errlen);
    sigprocmask(SIG_SETMASK, &old, NULL);
out:
    free(map);
    return rc;
}

int attach_socket(pid_t pid, char *sock, size_t n, char *comm, size_t commn)
{
    struct attach_facts f;
    if (attach_facts(pid, &f) != 0)
        return -1;
    ctl_path(pid, f.euid, sock, n);
    snprintf(comm, commn, "%s", f.comm);
    return 0;
}

int cmd_attach(int argc, char **argv, char *err, size_t errlen)
{
    struct attach_opts o;
    struct attach_facts f;
    char sock[PATH_MAX];
    int rc = attach_parse(argc, argv, &o, err, errlen);
    if (rc >= 0)
        return rc;
    if ((rc = attach_do(&o, &f, err, errlen)) != 0)
        return rc;
    ctl_path(o.pid, f.euid, sock, sizeof sock);
    char when[64];
    time_t t = time(NULL);
    strftime(when, sizeof when, "%Y-%m-%d %H:%M:%S", localtime(&t));
    fprintf(stderr, "heapsnap: attached to process %d (%s) at %s; blocks from before are not "
            "traced.  Ctrl-C%s or `heapsnap detach %d` ends it\n", (int)o.pid, f.comm, when,
            o.duration ? ", the end of --duration" : "", (int)o.pid);
    if (!attach_wait(o.pid, sock, o.duration ? strtod(o.duration, NULL) : 0)) {
        if (attach_gone_by_exit(o.pid))
            fprintf(stderr, "heapsnap: process %d has ended\n", (int)o.pid);
        else
            fprintf(stderr, "heapsnap: process %d was detached (heapsnap detach)\n", (int)o.pid);
        return 0;
    }
    rc = ctl_request(sock, "detach\n", o.pid, err, errlen);
    if (rc == 0)
        fprintf(stderr, "heapsnap: detached from process %d; it runs on as before\n", (int)o.pid);
    return rc;
}

int cmd_detach(int argc, char **argv, char *err, size_t errlen)
{
    struct attach_facts f;
    pid_t pid;
    char sock[PATH_MAX];
    if (argc == 2 && (!strcmp(argv[1], "--help") || !strcmp(argv[1], "-h"))) {
        attach_detach_usage();
        return 0;
    }
    if (argc != 2) {
        snprintf(err, errlen, "detach: %s (heapsnap detach PID)", argc < 2 ? "no PID given"
                                                                           : "one PID only");
        return 2;
    }
    if (attach_pid(argv[1], &pid, err, errlen) != 0)
        return 2;
    if (attach_facts(pid, &f) != 0) {
        snprintf(err, errlen, "detach: no process %d (is it still running? see ps)", (int)pid);
        return 2;
    }
    ctl_path(pid, f.euid, sock, sizeof sock);
    int rc = ctl_request(sock, "detach\n", pid, err, errlen);
    struct stat st;
    long by;
    if (rc != 0 && (!sock[0] || lstat(sock, &st) != 0) && (by = inj_other_tracer(pid)) > 0)
        snprintf(err, errlen, "detach: process %d is not attached yet: process %ld traces it "
                 "(an attach under way, or a debugger); detach once the attach has said "
                 "\"attached to\"", (int)pid, by);
    if (rc == 0)
        fprintf(stderr, "heapsnap: detached from process %d; it runs on as before\n", (int)pid);
    return rc;
}
