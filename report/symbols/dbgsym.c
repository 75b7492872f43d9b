/*
 * dbgsym.c - the one note about missing debug information (dbgsym.h).
 * Debian's programs and libraries ship without it, so a run that touches
 * five of them would say so five times; instead the modules are gathered
 * as symbolization meets them and named once, at exit, with where their
 * debug information is found: the -dbgsym packages of the Debian packages
 * that own them (asked of dpkg-query, whose database is the only record of
 * which package owns a file; run without a shell, its output bounded), or
 * a debuginfod server, which libdw asks when DEBUGINFOD_URLS is set.
 */
#include "dbgsym.h"

#include <limits.h>
#include <spawn.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#define DBG_MAX 16        /* modules named in the note */
#define DBG_OUT 8192      /* dpkg-query's output read */

static struct {
    int n, more;              /* modules gathered; beyond DBG_MAX */
    int armed;                /* the atexit handler is registered */
    int quiet;                /* dbg_quiet: no note */
    char shown[DBG_MAX][64];  /* basenames, as frames show them */
    char path[DBG_MAX][PATH_MAX];
} dbg;

/* Runs dpkg-query -S on the modules' paths (each as given and resolved, and
 * without a /usr prefix: a merged /usr registers either) into out. */
static size_t dbg_query(char *out, size_t cap)
{
    static char alt[DBG_MAX][2][PATH_MAX];
    char *argv[4 + 3 * DBG_MAX];
    int k = 0, fd[2];
    argv[k++] = "dpkg-query";
    argv[k++] = "-S";
    argv[k++] = "--";
    for (int i = 0; i < dbg.n; i++) {
        argv[k++] = dbg.path[i];
        if (realpath(dbg.path[i], alt[i][0]) && strcmp(alt[i][0], dbg.path[i]) != 0)
            argv[k++] = alt[i][0];
        if (!strncmp(alt[i][0], "/usr/", 5)) {
            snprintf(alt[i][1], sizeof(alt[i][1]), "%s", alt[i][0] + 4);
            argv[k++] = alt[i][1];
        }
    }
    argv[k] = NULL;
    if (access("/usr/bin/dpkg-query", X_OK) != 0 || pipe(fd) != 0)
        return 0;
    posix_spawn_file_actions_t fa;
    posix_spawn_file_actions_init(&fa);
    posix_spawn_file_actions_adddup2(&fa, fd[1], STDOUT_FILENO);
    posix_spawn_file_actions_addopen(&fa, STDERR_FILENO, "/dev/null", 1, 0);
    posix_spawn_file_actions_addclose(&fa, fd[0]);
    /* Its own environment: none of a profiled run's (LD_PRELOAD, HEAPSNAP_*),
     * and the C locale, whose output is the one parsed. */
    char *envp[] = {"PATH=/usr/sbin:/usr/bin:/sbin:/bin", "LC_ALL=C", NULL};
    pid_t pid;
    int rc = posix_spawn(&pid, "/usr/bin/dpkg-query", &fa, NULL, argv, envp);
    posix_spawn_file_actions_destroy(&fa);
    close(fd[1]);
    size_t len = 0;
    ssize_t r;
    while (rc == 0 && len + 1 < cap && (r = read(fd[0], out + len, cap - 1 - len)) > 0)
        len += (size_t)r;
    close(fd[0]);
    if (rc == 0)
        waitpid(pid, NULL, 0);
    out[len] = '\0';
    return len;
}

/* Appends " PKG-dbgsym" to list for each package dpkg-query named (its
 * "pkg[:arch][, pkg2]: path" lines), once each. */
static void dbg_packages(char *out, char *list, size_t cap)
{
    size_t len = strlen(list);
    for (char *line = strtok(out, "\n"); line; line = strtok(NULL, "\n")) {
        char *colon = strstr(line, ": /");
        if (!colon)
            continue;
        *colon = '\0';
        for (char *pkg = strtok_r(line, ", ", &colon); pkg; pkg = strtok_r(NULL, ", ", &colon)) {
            char name[128];
            snprintf(name, sizeof(name), " %.*s-dbgsym", (int)strcspn(pkg, ":"), pkg);
            char *hit = strstr(list, name);
            size_t nl = strlen(name);
            if (hit && (hit[nl] == ' ' || hit[nl] == '\0'))
                continue;
            if (len + nl + 1 < cap) {
                memcpy(list + len, name, nl + 1);
                len += nl;
            }
        }
    }
}

void dbg_note(void)
{
    char mods[DBG_MAX * 66 + 32] = "", pkgs[2048] = "", out[DBG_OUT];
    size_t len = 0;
    if (!dbg.n || dbg.quiet)
        return;
    for (int i = 0; i < dbg.n; i++)
        len += (size_t)snprintf(mods + len, sizeof(mods) - len, "%s%s", i ? ", " : "",
                                dbg.shown[i]);
    if (dbg.more)
        snprintf(mods + len, sizeof(mods) - len, " and %d more", dbg.more);
    if (dbg_query(out, sizeof(out)))
        dbg_packages(out, pkgs, sizeof(pkgs));
    fprintf(stderr, "heapsnap: note: no debug information in %s (sites without a line "
            "are keyed by function); for lines: %s%s%s, or set "
            "DEBUGINFOD_URLS=https://debuginfod.debian.net\n", mods,
            pkgs[0] ? "apt install" : "install their -dbgsym packages", pkgs,
            pkgs[0] ? " (Debian's debug archive)" : "");
    dbg.n = dbg.more = 0;
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

void dbg_missing(const char *path, const char *shown)
{
    for (int i = 0; i < dbg.n; i++)
        if (!strcmp(dbg.path[i], path))
            return;
    if (!dbg.armed)
        dbg.armed = atexit(dbg_atexit) == 0;
    if (dbg.n == DBG_MAX) {
        dbg.more++;
        return;
    }
    snprintf(dbg.path[dbg.n], sizeof(dbg.path[0]), "%s", path);
    const char *slash = strrchr(shown, '/');
    snprintf(dbg.shown[dbg.n], sizeof(dbg.shown[0]), "%s", slash ? slash + 1 : shown);
    dbg.n++;
}
