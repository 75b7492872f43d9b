/*
 * dbgsym.c - the one note about missing debug information (dbgsym.h).
 * A distribution's programs and libraries ship without it, so a run that
 * touches five of them would say so five times; instead the modules are
 * gathered as symbolization meets them and named once, at exit, with the
 * host's own way to their debug information, by os-release's ID and
 * ID_LIKE (dbg_hosts): on Debian and Ubuntu the -dbgsym packages of the
 * packages that own them (dpkg-query -L on the names Debian's policy
 * gives them, then -S for the rest, once for all of them); on Fedora
 * and RHEL, dnf debuginfo-install of the modules' paths (dnf finds their
 * packages itself); elsewhere the distribution's debuginfod server, which libdw asks when
 * DEBUGINFOD_URLS is set.  dpkg-query runs only where dpkg is the package
 * manager.
 */
#include "dbgsym.h"
#include "debugcache.h"

#include <fcntl.h>
#include <limits.h>
#include <spawn.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

extern char **environ;

#define DBG_MAX 16        /* modules named in the note */
#define DBG_HOPS 3        /* dependency levels followed before -S */
#define DBG_LISTED 256    /* packages named in all -L asks of a note */
#define DBG_PROGRAMS 4    /* main executables kept (dbg_program) */

#define DBG_MORE 4096 /* modules beyond DBG_MAX counted apart, by their paths' hashes */

static struct {
    int n, more;              /* modules gathered; beyond DBG_MAX */
    uint64_t beyond[DBG_MORE]; /* those beyond: FNV-1a of their paths, more of them */
    int armed;                /* the atexit handler is registered */
    int quiet;                /* dbg_quiet: no note */
    char shown[DBG_MAX][64];  /* basenames, as frames show them */
    char path[DBG_MAX][PATH_MAX];
    int nprog;                /* dbg_program's, the first DBG_PROGRAMS */
    char prog[DBG_PROGRAMS][PATH_MAX];
} dbg;

/* FNV-1a of n bytes at p, from h (DBG_FNV_BASIS to begin): the note's
 * names that last between runs (kept answers) and within one (the
 * modules beyond DBG_MAX), so not the CLI's per-process seeded hash. */
#define DBG_FNV_BASIS 0xcbf29ce484222325ull
static uint64_t dbg_fnv(uint64_t h, const void *p, size_t n)
{
    for (const unsigned char *c = p; n--; c++)
        h = (h ^ *c) * 0x100000001b3ull;
    return h;
}

/* Whether a package could own path: one under the system's own trees.  A
 * program built in a home, a checkout or /tmp is no package's. */
static int dbg_packaged(const char *path)
{
    static const char *const roots[] = {"/usr/", "/bin/", "/sbin/", "/lib", "/opt/"};
    for (size_t i = 0; i < sizeof(roots) / sizeof(roots[0]); i++)
        if (!strncmp(path, roots[i], strlen(roots[i])))
            return 1;
    return 0;
}

/* The paths to look for, into want (NULL-ended), each with its module's
 * index in mod: each module's path that a package could own, as given and
 * resolved, and without a /usr prefix (a merged /usr registers either);
 * how many. */
static int dbg_wanted(const char **want, int *mod)
{
    static char alt[DBG_MAX][2][PATH_MAX];
    int k = 0;
    for (int i = 0; i < dbg.n; i++) {
        int real = realpath(dbg.path[i], alt[i][0]) != NULL, k0 = k;
        if (!dbg_packaged(dbg.path[i]) && !(real && dbg_packaged(alt[i][0])))
            continue;
        want[k++] = dbg.path[i];
        if (real && strcmp(alt[i][0], dbg.path[i]) != 0)
            want[k++] = alt[i][0];
        if (real && !strncmp(alt[i][0], "/usr/", 5)) {
            snprintf(alt[i][1], sizeof(alt[i][1]), "%s", alt[i][0] + 4);
            want[k++] = alt[i][1];
        }
        while (k0 < k)
            mod[k0++] = i;
    }
    want[k] = NULL;
    return k;
}

/* The package Debian's policy (8.1, shared libraries) puts the file at
 * path in, into out: libfoo.so.1 in libfoo1, libfoo2.so.0 in libfoo2-0, a
 * program in its own name, a Python module's file in python3-MODULE (the
 * Python policy's name: dist-packages/numpy/... in python3-numpy,
 * dist-packages/_cffi_backend.*.so in python3-cffi-backend); 0 where the
 * name makes none (a library without a version, a character no package
 * name has). */
static int dbg_guess(const char *path, char *out, size_t cap)
{
    const char *b = strrchr(path, '/'), *so, *py = strstr(path, "/dist-packages/");
    b = b ? b + 1 : path;
    size_t n = strlen(b), vn = 0;
    int w;
    if (py) {
        py += strlen("/dist-packages/");
        py += strspn(py, "_");
        w = snprintf(out, cap, "python3-%.*s", (int)strcspn(py, "/."), py);
    } else if ((so = strstr(b, ".so.")) != NULL) {
        n = (size_t)(so - b);
        vn = strcspn(so + 4, ".");
        if (!vn || !n)
            return 0;
        int dash = b[n - 1] >= '0' && b[n - 1] <= '9';
        w = snprintf(out, cap, "%.*s%s%.*s", (int)n, b, dash ? "-" : "", (int)vn, so + 4);
    } else if (strstr(b, ".so")) {
        return 0;
    } else {
        w = snprintf(out, cap, "%s", b);
    }
    if (w < 0 || (size_t)w >= cap || !out[0] || !strcmp(out, "python3-"))
        return 0;
    for (char *c = out; *c; c++) {
        *c = (char)(*c == '_' ? '-' : *c >= 'A' && *c <= 'Z' ? *c - 'A' + 'a' : *c);
        if (!strchr("abcdefghijklmnopqrstuvwxyz0123456789+-.", *c))
            return 0;
    }
    return 1;
}

/* Appends " PKG-dbgsym" to list, once. */
static void dbg_add(char *list, size_t cap, const char *pkg, size_t n)
{
    char name[160];
    snprintf(name, sizeof(name), " %.*s-dbgsym", (int)n, pkg);
    size_t len = strlen(list), nl = strlen(name);
    char *hit = strstr(list, name);
    if ((hit && (hit[nl] == ' ' || hit[nl] == '\0')) || len + nl + 1 >= cap)
        return;
    memcpy(list + len, name, nl + 1);
}

/* The CLI's environment without the shim's variables (LD_PRELOAD,
 * HEAPSNAP_*), which `heapsnap run` sets in its own before it starts the
 * program: dpkg-query is the CLI's helper, not a process to profile. */
static char **dbg_env(void)
{
    static char *env[256];
    size_t n = 0;
    for (char **e = environ; e && *e && n + 1 < sizeof(env) / sizeof(env[0]); e++)
        if (strncmp(*e, "LD_PRELOAD=", 11) != 0 && strncmp(*e, "HEAPSNAP_", 9) != 0)
            env[n++] = *e;
    env[n] = NULL;
    return env;
}

/* dpkg-query with args (NULL-ended), its output a line at a time to
 * line(arg, LINE, ctx) ('\n' taken off); its errors to /dev/null.  dpkg's
 * own tool, not its file lists: the lists are dpkg's private database
 * (lintian: uses-dpkg-database-directly), and dpkg-query's memory is its
 * own process's, not the CLI's. */
static void dbg_query(char **args, void (*line_of)(const char *, void *), void *ctx)
{
    int fd[2];
    char *argv[DBG_LISTED + 4] = {"dpkg-query"};
    for (int i = 0; args[i] && i < DBG_LISTED + 2; i++)
        argv[1 + i] = args[i];
    if (pipe2(fd, O_CLOEXEC) != 0)
        return;
    posix_spawn_file_actions_t fa;
    pid_t pid = -1;
    if (posix_spawn_file_actions_init(&fa) == 0) {
        posix_spawn_file_actions_adddup2(&fa, fd[1], 1);
        posix_spawn_file_actions_addopen(&fa, 2, "/dev/null", O_WRONLY, 0);
        posix_spawn_file_actions_addopen(&fa, 0, "/dev/null", O_RDONLY, 0);
        if (posix_spawnp(&pid, "dpkg-query", &fa, NULL, argv, dbg_env()) != 0)
            pid = -1;
        posix_spawn_file_actions_destroy(&fa);
    }
    close(fd[1]);
    FILE *f = pid > 0 ? fdopen(fd[0], "re") : NULL;
    char *line = NULL;
    size_t linecap = 0;
    ssize_t got;
    while (f && (got = getline(&line, &linecap, f)) > 0) {
        line[(size_t)got - (line[got - 1] == '\n')] = '\0';
        line_of(line, ctx);
    }
    free(line);
    if (f)
        fclose(f);
    else
        close(fd[0]);
    if (pid > 0)
        waitpid(pid, NULL, 0);
}

/* What the owners' asks share: the wanted paths, their modules, the
 * owner found for each (empty: none yet), the next -L's guesses, and
 * every package named so far (none is asked twice). */
struct dbg_ask {
    const char *want[3 * DBG_MAX + 1];
    int mod[3 * DBG_MAX], nwant;
    char owner[3 * DBG_MAX][128];
    char guess[DBG_LISTED][128];
    char *gargs[DBG_LISTED + 2];
    int nguess, group;
    char seen[DBG_LISTED][128];
    int nseen;
};

/* A line of `dpkg-query -L GUESS...`: each package's files, one group a
 * package in the arguments' order, a blank line between (a package not
 * installed, or not known, an empty group): a wanted path in group g is
 * guess g's. */
static void dbg_listed(const char *line, void *ctx)
{
    struct dbg_ask *a = ctx;
    if (!line[0]) {
        a->group++;
        return;
    }
    for (int i = 0; i < a->nwant && a->group < a->nguess; i++)
        if (!a->owner[i][0] && !strcmp(line, a->want[i]))
            snprintf(a->owner[i], sizeof(a->owner[i]), "%s", a->guess[a->group]);
}

/* A line of `dpkg-query -S PATH...` ("PKG[:ARCH][, PKG...]: PATH";
 * "diversion by" lines skipped). */
static void dbg_searched(const char *line, void *ctx)
{
    struct dbg_ask *a = ctx;
    const char *sep = strstr(line, ": /");
    if (!sep || !strncmp(line, "diversion by", 12))
        return;
    size_t name = strcspn(line, ":, ");
    for (int i = 0; i < a->nwant; i++)
        if (!a->owner[i][0] && !strcmp(sep + 2, a->want[i]))
            snprintf(a->owner[i], sizeof(a->owner[i]), "%.*s", (int)name, line);
}

/* Whether module m has an owner among a's paths. */
static int dbg_owned(const struct dbg_ask *a, int m)
{
    for (int i = 0; i < a->nwant; i++)
        if (a->mod[i] == m && a->owner[i][0])
            return 1;
    return 0;
}

/* Whether some wanted path has no owner yet. */
static int dbg_unowned(const struct dbg_ask *a)
{
    for (int i = 0; i < a->nwant; i++)
        if (!dbg_owned(a, a->mod[i]))
            return 1;
    return 0;
}

/* Package name (n bytes) as a's next guess, unless it was named before. */
static void dbg_guess_add(struct dbg_ask *a, const char *name, size_t n)
{
    if (!n || n >= sizeof(a->guess[0]) || a->nseen == DBG_LISTED)
        return;
    for (int k = 0; k < a->nseen; k++)
        if (strlen(a->seen[k]) == n && !memcmp(a->seen[k], name, n))
            return;
    memcpy(a->seen[a->nseen], name, n);
    a->seen[a->nseen++][n] = '\0';
    memcpy(a->guess[a->nguess], name, n);
    a->guess[a->nguess][n] = '\0';
    a->gargs[1 + a->nguess] = a->guess[a->nguess];
    a->nguess++;
}

/* One `dpkg-query -L` of a's guesses (then none are left): a wanted path
 * in a guess's list is that guess's, where the groups read are the
 * guesses asked (else what this ask found is dropped). */
static void dbg_list_guesses(struct dbg_ask *a)
{
    static char before[3 * DBG_MAX][128];
    if (!a->nguess)
        return;
    memcpy(before, a->owner, sizeof(before));
    a->gargs[0] = "-L";
    a->gargs[1 + a->nguess] = NULL;
    a->group = 0;
    dbg_query(a->gargs, dbg_listed, a);
    if (a->group != a->nguess - 1)
        memcpy(a->owner, before, sizeof(before));
    a->nguess = 0;
}

/* Every installed package's dependencies, as `dpkg-query -W -f
 * '${Package}\t${Pre-Depends}, ${Depends}\n'` prints them: one read of
 * dpkg's status file (30 ms for 1,244 packages), where -S reads every
 * package's list. */
struct dbg_deps {
    char *text;
    size_t len, cap;
};

#define DBG_DEPS_MAX (64u << 20) /* no status file is this big: a runaway reader's bound */

static void dbg_dep_line(const char *line, void *ctx)
{
    struct dbg_deps *d = ctx;
    size_t n = strlen(line) + 1;
    if (d->len + n + 1 > d->cap) {
        size_t cap = d->cap ? 2 * d->cap : 1u << 17;
        while (cap < d->len + n + 1)
            cap *= 2;
        char *t = cap <= DBG_DEPS_MAX ? realloc(d->text, cap) : NULL;
        if (!t)
            return;
        d->text = t;
        d->cap = cap;
    }
    memcpy(d->text + d->len, line, n);
    d->text[d->len + n - 1] = '\n';
    d->len += n;
    d->text[d->len] = '\0';
}

/* The dependencies of package pkg (each choice's package; versions and
 * architectures taken off) as a's next guesses. */
static void dbg_deps_of(struct dbg_ask *a, const struct dbg_deps *d, const char *pkg)
{
    size_t n = strlen(pkg);
    for (const char *l = d->text; l && *l; l = strchr(l, '\n'), l = l ? l + 1 : NULL) {
        if (strncmp(l, pkg, n) != 0 || l[n] != '\t')
            continue;
        const char *end = strchr(l, '\n');
        for (const char *p = l + n; p < end; p += strcspn(p, ",|\n")) {
            p += strspn(p, "\t ,|");
            if (p < end)
                dbg_guess_add(a, p, strcspn(p, " ,|(:\n"));
        }
        return;
    }
}

/* The packages that own the wanted paths, as " PKG-dbgsym" words into
 * list in the modules' order.  First the packages the policy's names
 * guess, the programs' (dbg_program) among them, asked with one
 * `dpkg-query -L` (it reads those packages' lists alone: a few
 * milliseconds); then, where a path has no owner, the packages those
 * depend on, DBG_HOPS levels down (read from one
 * `dpkg-query -W`), asked with one -L more: a file is often in a package
 * its own name's package depends on (python3.11's program in
 * python3.11-minimal, its _hashlib module in that one's
 * libpython3.11-minimal, libcrypto.so.3 in that one's libssl3); last, for
 * the paths left, one `dpkg-query -S PATH...`, which reads every
 * package's list (0.35 s on a machine of 1,183 packages: a short run's
 * biggest cost, and paid on each run). */
static void dbg_owners(char *list, size_t cap)
{
    static struct dbg_ask a;
    memset(&a, 0, sizeof(a));
    a.nwant = dbg_wanted(a.want, a.mod);
    if (!a.nwant)
        return;
    for (int i = 0; i < a.nwant; i++) {
        char g[128];
        if (dbg_guess(a.want[i], g, sizeof(g)))
            dbg_guess_add(&a, g, strlen(g));
    }
    for (int i = 0; i < dbg.nprog; i++) { /* the roots of the walk below too */
        char g[128], real[PATH_MAX];
        const char *p = realpath(dbg.prog[i], real) ? real : dbg.prog[i];
        if (dbg_packaged(p) && dbg_guess(p, g, sizeof(g)))
            dbg_guess_add(&a, g, strlen(g));
    }
    dbg_list_guesses(&a);
    if (a.nseen && dbg_unowned(&a)) {
        struct dbg_deps d = {0};
        char *wargs[] = {"-W", "-f=${Package}\t${Pre-Depends}, ${Depends}\n", NULL};
        dbg_query(wargs, dbg_dep_line, &d);
        for (int hop = 0, from = 0, to = a.nseen; hop < DBG_HOPS && d.text; hop++) {
            for (int k = from; k < to; k++)
                dbg_deps_of(&a, &d, a.seen[k]);
            from = to;
            to = a.nseen;
        }
        free(d.text);
        dbg_list_guesses(&a);
    }
    char *sargs[3 * DBG_MAX + 2] = {"-S"};
    int ns = 0;
    for (int i = 0; i < a.nwant; i++)
        if (!dbg_owned(&a, a.mod[i]))
            sargs[1 + ns++] = (char *)a.want[i];
    if (ns)
        dbg_query(sargs, dbg_searched, &a);
    for (int i = 0; i < a.nwant; i++)
        if (a.owner[i][0])
            dbg_add(list, cap, a.owner[i], strlen(a.owner[i]));
}

/* A file's owner changes only when the file does: dpkg replaces a file
 * it installs (a new inode, time and size) and removes one it no longer
 * owns.  The owners a note found are kept in the debug cache's directory
 * (dcache_where), in a file named by a hash of the modules' and programs'
 * paths that holds a hash of those files' identities (device, inode,
 * size, modification time), then the list; the next note of the same
 * modules, none of them replaced, asks dpkg-query nothing.  A module
 * whose debug file came since has left the note's modules: another name.
 * dpkg's own files are not read (its database is dpkg-query's). */
static int dbg_kept_path(char *path, size_t n, char *stamp, size_t sn)
{
    char dir[PATH_MAX];
    if (dcache_where(dir, sizeof dir) != 0)
        return -1;
    uint64_t h = DBG_FNV_BASIS, id = h;
    for (int i = 0; i < dbg.n + dbg.nprog; i++) {
        const char *p = i < dbg.n ? dbg.path[i] : dbg.prog[i - dbg.n];
        struct stat st;
        if (stat(p, &st) != 0) /* gone: its identity is none, until it comes */
            memset(&st, 0, sizeof st);
        uint64_t f[5] = {(uint64_t)st.st_dev, (uint64_t)st.st_ino, (uint64_t)st.st_size,
                         (uint64_t)st.st_mtim.tv_sec, (uint64_t)st.st_mtim.tv_nsec};
        id = dbg_fnv(id, f, sizeof f);
        h = dbg_fnv(h, p, strlen(p) + 1); /* the NUL too: paths apart */
    }
    snprintf(stamp, sn, "%016llx", (unsigned long long)id);
    int w = snprintf(path, n, "%s/owners-%016llx", dir, (unsigned long long)h);
    return w > 0 && (size_t)w < n ? 0 : -1;
}

/* The owners the last note of these modules kept into list, where none
 * of their files was replaced since: 1, else 0. */
static int dbg_kept(char *list, size_t cap)
{
    char path[PATH_MAX + 32], stamp[64], line[64];
    if (dbg_kept_path(path, sizeof path, stamp, sizeof stamp) != 0)
        return 0;
    FILE *f = fopen(path, "re");
    int ok = f && fgets(line, sizeof line, f) && !strncmp(line, stamp, strlen(stamp)) &&
             line[strlen(stamp)] == '\n';
    if (ok && !fgets(list, (int)cap, f))
        list[0] = '\0';
    if (f)
        fclose(f);
    if (ok)
        list[strcspn(list, "\n")] = '\0';
    return ok;
}

/* list kept for the next note (dbg_kept): written whole, then renamed. */
static void dbg_keep(const char *list)
{
    char path[PATH_MAX + 32], tmp[PATH_MAX + 48], stamp[64];
    if (dbg_kept_path(path, sizeof path, stamp, sizeof stamp) != 0)
        return;
    snprintf(tmp, sizeof tmp, "%s.XXXXXX", path);
    int fd = mkstemp(tmp);
    FILE *f = fd >= 0 ? fdopen(fd, "w") : NULL;
    int ok = f && fprintf(f, "%s\n%s\n", stamp, list) > 0;
    if (f)
        ok = fclose(f) == 0 && ok;
    else if (fd >= 0)
        close(fd);
    if (fd >= 0 && !(ok && rename(tmp, path) == 0))
        unlink(tmp);
}

/* The hosts the note knows, by the os-release word (ID, then ID_LIKE's
 * words in order, so that Mint's "ubuntu debian" reads as Ubuntu) that
 * names them: how to install the packages (dpkg: named by dbg_owners;
 * else the modules' paths when paths is set, else `none`), and the
 * debuginfod server.  A host not here gets the server hint alone. */
static const struct dbg_host {
    const char *word;    /* os-release word; a trailing '*' matches a prefix */
    int dpkg, paths;     /* packages from dpkg's lists; the modules' paths */
    const char *install; /* command before the names */
    const char *archive; /* after the names, where they come from */
    const char *none;    /* with no name to give */
    const char *url;     /* DEBUGINFOD_URLS */
} dbg_hosts[] = {
    {"debian", 1, 0, "apt install", " (Debian's debug archive)",
     "install their -dbgsym packages", "https://debuginfod.debian.net"},
    {"ubuntu", 1, 0, "apt install",
     " (Ubuntu's ddebs archive, ddebs.ubuntu.com, once added to apt's sources)",
     "install their -dbgsym packages from Ubuntu's ddebs archive (ddebs.ubuntu.com)",
     "https://debuginfod.ubuntu.com"},
    {"fedora", 0, 1, "dnf debuginfo-install", "", "dnf debuginfo-install their packages",
     "https://debuginfod.fedoraproject.org"},
    {"rhel", 0, 1, "dnf debuginfo-install", "", "dnf debuginfo-install their packages",
     "https://debuginfod.fedoraproject.org"},
    {"opensuse*", 0, 0, NULL, NULL,
     "zypper install PKG-debuginfo for their packages (rpm -qf names them)",
     "https://debuginfod.opensuse.org"},
    {"suse", 0, 0, NULL, NULL,
     "zypper install PKG-debuginfo for their packages (rpm -qf names them)",
     "https://debuginfod.opensuse.org"},
    {"arch", 0, 0, NULL, NULL, NULL, "https://debuginfod.archlinux.org"},
};

/* The host named by os-release word w (len n), or NULL. */
static const struct dbg_host *dbg_host_of(const char *w, size_t n)
{
    for (size_t i = 0; i < sizeof(dbg_hosts) / sizeof(dbg_hosts[0]); i++) {
        const char *h = dbg_hosts[i].word;
        size_t hn = strcspn(h, "*");
        if (h[hn] == '*' ? n >= hn && !memcmp(w, h, hn) : n == hn && !memcmp(w, h, n))
            return &dbg_hosts[i];
    }
    return NULL;
}

/* The host of the os-release file at HEAPSNAP_OS_RELEASE, else
 * /etc/os-release, else /usr/lib/os-release (os-release(5)): ID's word,
 * then ID_LIKE's, the first one known; NULL for a host not known, or no
 * file. */
static const struct dbg_host *dbg_host(void)
{
    const char *env = getenv("HEAPSNAP_OS_RELEASE");
    FILE *f = env && *env ? fopen(env, "re") : fopen("/etc/os-release", "re");
    if (!f && !(env && *env))
        f = fopen("/usr/lib/os-release", "re");
    char line[512], words[2][512] = {"", ""};
    while (f && fgets(line, sizeof(line), f)) {
        int k = !strncmp(line, "ID=", 3) ? 0 : !strncmp(line, "ID_LIKE=", 8) ? 1 : -1;
        if (k < 0)
            continue;
        char *v = strchr(line, '=') + 1, *o = words[k];
        for (; *v && *v != '\n'; v++) /* the value unquoted: its words, blank-separated */
            if (*v != '"' && *v != '\'')
                *o++ = *v;
        *o = '\0';
    }
    if (f)
        fclose(f);
    for (int k = 0; k < 2; k++)
        for (const char *w = words[k]; *(w += strspn(w, " \t"));) {
            size_t n = strcspn(w, " \t");
            const struct dbg_host *h = dbg_host_of(w, n);
            if (h)
                return h;
            w += n;
        }
    return NULL;
}

/* Appends " PATH" to list for each module a package could own (its path,
 * else the path it resolves to): what dnf debuginfo-install takes where
 * its package's name cannot be read cheaply. */
static void dbg_paths(char *list, size_t cap)
{
    char real[PATH_MAX];
    for (int i = 0; i < dbg.n; i++) {
        const char *p = dbg_packaged(dbg.path[i]) ? dbg.path[i]
                        : realpath(dbg.path[i], real) && dbg_packaged(real) ? real : NULL;
        size_t len = strlen(list);
        if (p && len + strlen(p) + 2 < cap)
            snprintf(list + len, cap - len, " %s", p);
    }
}

void dbg_note(void)
{
    char mods[DBG_MAX * 66 + 32] = "", names[4096] = "", how[4096 + 512];
    size_t len = 0;
    if (!dbg.n || dbg.quiet)
        return;
    for (int i = 0; i < dbg.n; i++)
        len += (size_t)snprintf(mods + len, sizeof(mods) - len, "%s%s", i ? ", " : "",
                                dbg.shown[i]);
    if (dbg.more)
        snprintf(mods + len, sizeof(mods) - len, " and %d more", dbg.more);
    const struct dbg_host *h = dbg_host();
    if (h && h->dpkg && !dbg_kept(names, sizeof(names))) {
        dbg_owners(names, sizeof(names));
        dbg_keep(names);
    }
    else if (h && h->paths)
        dbg_paths(names, sizeof(names));
    if (!h)
        snprintf(how, sizeof(how), "set DEBUGINFOD_URLS to your distribution's debuginfod "
                 "server");
    else if (names[0])
        snprintf(how, sizeof(how), "%s%s%s, or set DEBUGINFOD_URLS=%s", h->install, names,
                 h->archive, h->url);
    else
        snprintf(how, sizeof(how), "%s%sset DEBUGINFOD_URLS=%s", h->none ? h->none : "",
                 h->none ? ", or " : "", h->url);
    fprintf(stderr, "heapsnap: note: no debug information in %s (sites without a line "
            "are keyed by function, or by address where there is no symbol); for lines: "
            "%s\n", mods, how);
    dbg.n = dbg.more = 0;
}

struct dbg_mark dbg_mark(void)
{
    return (struct dbg_mark){dbg.n, dbg.more};
}

void dbg_forget(struct dbg_mark from, struct dbg_mark to)
{
    if (from.n > to.n || to.n > dbg.n || from.more > to.more || to.more > dbg.more)
        return; /* the note was printed since: nothing of them is left */
    memmove(dbg.path[from.n], dbg.path[to.n], (size_t)(dbg.n - to.n) * sizeof dbg.path[0]);
    memmove(dbg.shown[from.n], dbg.shown[to.n], (size_t)(dbg.n - to.n) * sizeof dbg.shown[0]);
    memmove(&dbg.beyond[from.more], &dbg.beyond[to.more],
            (size_t)(dbg.more - to.more) * sizeof dbg.beyond[0]);
    dbg.n -= to.n - from.n;
    dbg.more -= to.more - from.more;
}

void dbg_quiet(void)
{
    dbg.quiet = 1;
}

static void dbg_atexit(void)
{
    fflush(stdout);
    dbg_note();
}

void dbg_program(const char *path)
{
    for (int i = 0; i < dbg.nprog; i++)
        if (!strcmp(dbg.prog[i], path))
            return;
    if (dbg.nprog < DBG_PROGRAMS && path[0] == '/')
        snprintf(dbg.prog[dbg.nprog++], sizeof(dbg.prog[0]), "%s", path);
}

void dbg_missing(const char *path, const char *shown)
{
    for (int i = 0; i < dbg.n; i++)
        if (!strcmp(dbg.path[i], path))
            return;
    if (!dbg.armed)
        dbg.armed = atexit(dbg_atexit) == 0;
    if (dbg.n == DBG_MAX) { /* counted once each, as every snapshot read meets them */
        uint64_t h = dbg_fnv(DBG_FNV_BASIS, path, strlen(path));
        for (int i = 0; i < dbg.more; i++)
            if (dbg.beyond[i] == h)
                return;
        if (dbg.more < DBG_MORE)
            dbg.beyond[dbg.more++] = h;
        return;
    }
    snprintf(dbg.path[dbg.n], sizeof(dbg.path[0]), "%s", path);
    const char *slash = strrchr(shown, '/');
    snprintf(dbg.shown[dbg.n], sizeof(dbg.shown[0]), "%s", slash ? slash + 1 : shown);
    dbg.n++;
}
