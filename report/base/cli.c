/*
 * cli.c - argument-parsing helpers shared by the subcommands: the one
 * strict parser of numeric values (cli.h says what it accepts), and bad
 * options as one line.  Every subcommand runs getopt_long with opterr = 0
 * and a leading ':' in its short options, so that a bad option comes back
 * here and becomes the one-line error the CLI promises, instead of
 * getopt's own message, with the nearest long option when one is near.
 * And the nearest of some names to a mistyped one.
 */
#include <getopt.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "cli.h"

/* The long option of longopts nearest to arg ("--peek" or "--peek=3"),
 * or NULL. */
static const char *cli_near_option(const char *arg, const struct option *longopts)
{
    const char *names[128];
    char word[64];
    size_t n = 0, len = strcspn(arg + 2, "=");
    if (!longopts || strncmp(arg, "--", 2) || len == 0 || len >= sizeof(word))
        return NULL;
    memcpy(word, arg + 2, len);
    word[len] = 0;
    for (; longopts[n].name && n < sizeof(names) / sizeof(names[0]); n++)
        names[n] = longopts[n].name;
    return cli_nearest(word, names, n);
}

int cli_bad_option(const char *cmd, int c, char **argv, const struct option *longopts,
                   char *err, size_t errlen)
{
    const char *arg = optind > 0 ? argv[optind - 1] : "?", *near;
    if (c == ':')
        snprintf(err, errlen, "%s: option '%s' needs a value", cmd, arg);
    else if (optopt)
        snprintf(err, errlen, "%s: unknown option '-%c' (see heapsnap %s --help)", cmd,
                 optopt, cmd);
    else if ((near = cli_near_option(arg, longopts)))
        snprintf(err, errlen, "%s: unknown option '%s': did you mean '--%s'? (see heapsnap "
                 "%s --help)", cmd, arg, near, cmd);
    else
        snprintf(err, errlen, "%s: unknown option '%s' (see heapsnap %s --help)", cmd, arg,
                 cmd);
    return 2;
}

int cli_bad_value(char *err, size_t errlen, const char *opt, const char *val,
                  const char *accepted)
{
    snprintf(err, errlen, "bad value for %s: '%s' (%s)", opt, val, accepted);
    return -1;
}

int cli_parse_kind(const char *arg, int *kind, char *err, size_t errlen)
{
    static const char *const names[] = {"all", "malloc", "mmap"}; /* SNAP_KIND_* */
    for (int i = 0; i < 3; i++)
        if (strcmp(arg, names[i]) == 0) {
            *kind = i;
            return 0;
        }
    return cli_bad_value(err, errlen, "--kind", arg, "all, malloc, mmap");
}

void cli_prefix(char *err, size_t errlen, const char *cmd)
{
    char tmp[4096];
    snprintf(tmp, sizeof(tmp), "%s", err);
    snprintf(err, errlen, "%s: %s", cmd, tmp);
}

int cli_parse_format(const char *arg, int *json, char *err, size_t errlen)
{
    if (strcmp(arg, "text") && strcmp(arg, "json"))
        return cli_bad_value(err, errlen, "--format", arg, "text, json");
    *json = !strcmp(arg, "json");
    return 0;
}

int cli_parse_count(const char *s, uint64_t max, uint64_t *out)
{
    uint64_t v = 0;
    if (!*s)
        return -1;
    for (; *s; s++) {
        unsigned d = (unsigned)(*s - '0');
        if (*s < '0' || *s > '9' || d > max || v > (max - d) / 10)
            return -1;
        v = v * 10 + d;
    }
    *out = v;
    return 0;
}

int cli_parse_amount(const char *s, int allow_pct, double *out, int *pct)
{
    static const char digits[] = "0123456789";
    size_t n = strspn(s, digits), f = 0;
    if (n == 0 || n > 20)
        return -1;
    if (s[n] == '.' && ((f = strspn(s + n + 1, digits)) == 0 || f > 20))
        return -1;
    const char *p = s + n + (f ? f + 1 : 0);
    double v = strtod(s, NULL), mult = 1; /* only digits and a dot: finite */
    int is_pct = 0;
    switch (*p) {
    case '%': is_pct = allow_pct; mult = allow_pct ? 1 : 0; break;
    case 'K': case 'k': mult = 1024.0; break;
    case 'M': mult = 1024.0 * 1024; break;
    case 'G': mult = 1024.0 * 1024 * 1024; break;
    case 0: p--; break;
    default: return -1;
    }
    if (!mult || p[1] || v * mult > (is_pct ? CLI_MAX_PCT : CLI_MAX_BYTES))
        return -1;
    *out = v * mult;
    *pct = is_pct;
    return 0;
}

/* Optimal string alignment distance (Levenshtein with a swap of two
 * neighbours as one edit: "tpo" is 1 from "top"), capped at 255. */
static unsigned cli_distance(const char *a, const char *b)
{
    size_t la = strlen(a), lb = strlen(b);
    unsigned d[33][33];
    if (la > 32 || lb > 32)
        return 255;
    for (size_t i = 0; i <= la; i++)
        d[i][0] = (unsigned)i;
    for (size_t k = 0; k <= lb; k++)
        d[0][k] = (unsigned)k;
    for (size_t i = 1; i <= la; i++)
        for (size_t k = 1; k <= lb; k++) {
            unsigned v = d[i - 1][k - 1] + (a[i - 1] != b[k - 1]);
            if (d[i - 1][k] + 1 < v)
                v = d[i - 1][k] + 1;
            if (d[i][k - 1] + 1 < v)
                v = d[i][k - 1] + 1;
            if (i > 1 && k > 1 && a[i - 1] == b[k - 2] && a[i - 2] == b[k - 1] &&
                d[i - 2][k - 2] + 1 < v)
                v = d[i - 2][k - 2] + 1;
            d[i][k] = v;
        }
    return d[la][lb];
}

const char *cli_nearest(const char *word, const char *const *names, size_t n)
{
    const char *best = NULL;
    unsigned bd = 255, most = strlen(word) < 5 ? 1 : 2;
    for (size_t i = 0; i < n; i++) {
        unsigned dist = cli_distance(word, names[i]);
        if (dist < bd) {
            bd = dist;
            best = names[i];
        }
    }
    return bd <= most ? best : NULL;
}

int cli_find_lib(const char *name, char *out, size_t n)
{
    char exe[PATH_MAX], cand[PATH_MAX + 64];
    ssize_t len = readlink("/proc/self/exe", exe, sizeof(exe) - 1);
    if (len <= 0)
        return -1;
    exe[len] = 0;
    char *slash = strrchr(exe, '/');
    if (!slash)
        return -1;
    *slash = 0;
    static const char *rel[] = {"/", "/../lib/heapsnap/"};
    for (size_t i = 0; i < 2; i++) {
        snprintf(cand, sizeof(cand), "%s%s%s", exe, rel[i], name);
        if (access(cand, R_OK) == 0 && realpath(cand, out) && strlen(out) < n)
            return 0;
    }
    return -1;
}

static const char *cli_argv0;

void cli_set_self(const char *argv0)
{
    cli_argv0 = argv0;
}

/* Whether "heapsnap" found on PATH is the file /proc/self/exe is. */
static int cli_on_path(void)
{
    struct stat me, st;
    const char *path = getenv("PATH");
    if (!path || stat("/proc/self/exe", &me) != 0)
        return 0;
    for (const char *p = path; *p;) {
        const char *end = strchr(p, ':');
        size_t n = end ? (size_t)(end - p) : strlen(p);
        char f[PATH_MAX];
        if (n && snprintf(f, sizeof(f), "%.*s/heapsnap", (int)n, p) < (int)sizeof(f) &&
            access(f, X_OK) == 0 && stat(f, &st) == 0) /* the first on PATH is what runs */
            return st.st_dev == me.st_dev && st.st_ino == me.st_ino;
        p = end ? end + 1 : p + n;
    }
    return 0;
}

const char *cli_self(void)
{
    static const char *self;
    if (!self)
        self = cli_on_path() || !cli_argv0 || !strchr(cli_argv0, '/') ? "heapsnap" : cli_argv0;
    return self;
}
