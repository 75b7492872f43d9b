/*
 * options.c - reads the HEAPSNAP_* variables of options_table.h once, at
 * start-up, and owns the shim's messages.
 *
 * Parsing is table driven: a value is checked against its type (and range or
 * choices); a bad value gives one warning and the default, never a crash.
 * Strings are copied into the shim's own memory: services that set their
 * process title (redis, nginx, postgres) overwrite the environment block, and
 * a pointer into it would name the output file after their title.  Relative
 * file names are resolved once, against the directory the process started
 * in, so a daemon's later chdir("/") does not move its snapshots.
 *
 * Messages go to fd 2 with write(2), prefixed "heapsnap: ", never through
 * stdio (we may be inside malloc).  Warnings are capped, like mimalloc's, so
 * a profiler is never louder than the program it observes.  A HEAPSNAP_*
 * variable that is in no table (a misspelling: HEAPSNAP_SAMPEL) is named
 * once, with the nearest name, rather than ignored in silence.
 */
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <sys/syscall.h>
#include <unistd.h>

#include "base.h"

#define OPT_MAX_WARNINGS 16

_Static_assert(sizeof opt_table / sizeof opt_table[0] == OPT_COUNT,
               "opt_table and enum opt_id disagree");

static struct {
    long ival[OPT_COUNT];        /* parsed value (ints, bools, signals, choices) */
    const char *sval[OPT_COUNT]; /* OPT_STR values: environment or default */
    atomic_int warnings;         /* messages printed so far (capped) */
} opts;

static const struct { const char *name; int sig; } opt_signames[] = {
    {"HUP", SIGHUP},   {"INT", SIGINT},     {"QUIT", SIGQUIT},  {"USR1", SIGUSR1},
    {"USR2", SIGUSR2}, {"PIPE", SIGPIPE},   {"ALRM", SIGALRM},  {"TERM", SIGTERM},
    {"CHLD", SIGCHLD}, {"CONT", SIGCONT},   {"TSTP", SIGTSTP},  {"TTIN", SIGTTIN},
    {"TTOU", SIGTTOU}, {"URG", SIGURG},     {"XCPU", SIGXCPU},  {"XFSZ", SIGXFSZ},
    {"VTALRM", SIGVTALRM}, {"PROF", SIGPROF}, {"WINCH", SIGWINCH}, {"POLL", SIGPOLL},
    {"PWR", SIGPWR},   {"SYS", SIGSYS},
    /* parsed so that they can be refused by name (opt_signal_unsafe) */
    {"SEGV", SIGSEGV}, {"ILL", SIGILL},     {"BUS", SIGBUS},    {"FPE", SIGFPE},
    {"TRAP", SIGTRAP}, {"ABRT", SIGABRT},   {"IOT", SIGABRT},   {"KILL", SIGKILL},
    {"STOP", SIGSTOP},
};

/* A thread whose descriptors are a table of its own (helper_init's thread):
 * a pidfd of this process there, through which each message fetches the
 * program's fd 2 (the same open file, at its offset); else -1. */
__thread int opt_err_pidfd = -1;

/* Where warnings go instead of fd 2 while set and taking them (an attach
 * session: its control socket, shim/attach's att_warn_sink). */
int (*opt_warn_sink)(const char *line, size_t n);

static void opt_write3(const char *a, const char *b, const char *c)
{
    char buf[512];
    size_t n = 0;
    const char *parts[] = {"heapsnap: ", a, b, c, "\n"};
    for (unsigned i = 0; i < 5; i++) {
        const char *s = parts[i] ? parts[i] : "";
        size_t len = strlen(s);
        if (len > sizeof buf - 1 - n)
            len = sizeof buf - 1 - n;
        memcpy(buf + n, s, len);
        n += len;
    }
    if (buf[n - 1] != '\n')
        buf[n++] = '\n';
    int (*sink)(const char *, size_t) = opt_warn_sink;
    if (sink && sink(buf, n))
        return;
    int fd = 2;
    if (HS_UNLIKELY(opt_err_pidfd >= 0) &&
        (fd = (int)syscall(SYS_pidfd_getfd, opt_err_pidfd, 2, 0)) < 0)
        return; /* the program has no fd 2 */
    ssize_t r = write(fd, buf, n);
    (void)r;
    if (fd != 2)
        close(fd);
}

/* A warning: printed at most OPT_MAX_WARNINGS times per process. */
void opt_warn(const char *a, const char *b, const char *c)
{
    int n = atomic_fetch_add(&opts.warnings, 1);
    if (n < OPT_MAX_WARNINGS)
        opt_write3(a, b, c);
    else if (n == OPT_MAX_WARNINGS)
        opt_write3("too many warnings; no more will be printed", 0, 0);
}

void opt_debug(const char *a, const char *b, const char *c)
{
    if (opts.ival[OPT_VERBOSE])
        opt_write3(a, b, c);
}

void opt_debug_count(const char *what, uint64_t n)
{
    char num[24];
    num[opt_fmt_u64(num, n)] = 0;
    opt_debug(what, num, "");
}

size_t opt_fmt_u64(char *buf, uint64_t v)
{
    char tmp[24];
    size_t n = 0;
    do {
        tmp[n++] = (char)('0' + v % 10);
        v /= 10;
    } while (v);
    for (size_t i = 0; i < n; i++)
        buf[i] = tmp[n - 1 - i];
    return n;
}

size_t opt_fmt_phases(char *buf, size_t cap, const char *const *name, const uint64_t *t,
                      unsigned n)
{
    size_t at = 0;
    for (unsigned k = 0; k < n; k++) {
        size_t ln = strlen(name[k]);
        if (at + ln + 2 + 20 + 1 > cap) /* ", ", the digits, the NUL */
            break;
        if (k)
            memcpy(buf + at, ", ", 2), at += 2;
        memcpy(buf + at, name[k], ln), at += ln;
        buf[at++] = ' ';
        at += opt_fmt_u64(buf + at, t[k] && t[k + 1] >= t[k] ? (t[k + 1] - t[k]) / 1000000 : 0);
    }
    if (cap)
        buf[at < cap ? at : cap - 1] = 0;
    return at;
}

/* Strict decimal: optional sign, digits, nothing else.  0 on success. */
static int opt_parse_long(const char *s, long *out)
{
    char *end;
    if (!*s)
        return -1;
    long v = strtol(s, &end, 10);
    if (*end)
        return -1;
    *out = v;
    return 0;
}

static int opt_parse_bool(const char *s)
{
    static const char *const yes[] = {"1", "yes", "true", "on"};
    static const char *const no[] = {"0", "no", "false", "off"};
    for (unsigned i = 0; i < 4; i++) {
        if (!strcasecmp(s, yes[i]))
            return 1;
        if (!strcasecmp(s, no[i]))
            return 0;
    }
    return -1;
}

/* "off"/"0"/"" -> 0; "USR2", "SIGUSR2", "12" -> the number; else -1. */
int opt_parse_signal(const char *s)
{
    long n;
    if (!*s || !strcasecmp(s, "off") || !strcmp(s, "0"))
        return 0;
    if (opt_parse_long(s, &n) == 0)
        return (n >= 1 && n <= SIGRTMAX) ? (int)n : -1;
    if (!strncasecmp(s, "SIG", 3))
        s += 3;
    for (unsigned i = 0; i < sizeof opt_signames / sizeof opt_signames[0]; i++)
        if (!strcasecmp(s, opt_signames[i].name))
            return opt_signames[i].sig;
    return -1;
}

static int opt_parse_choice(const char *s, const char *choices)
{
    size_t len = strlen(s);
    int idx = 0;
    for (const char *c = choices; *c; idx++) {
        const char *bar = strchr(c, '|');
        size_t clen = bar ? (size_t)(bar - c) : strlen(c);
        if (clen == len && !strncasecmp(c, s, len))
            return idx;
        c += clen + (bar ? 1 : 0);
    }
    return -1;
}

/* Parses text for option d into *out; 0 on success, -1 if it is bad. */
static int opt_parse_one(const struct opt_def *d, const char *s, long *out)
{
    switch (d->type) {
    case OPT_INT:
        return (opt_parse_long(s, out) == 0 && *out >= d->lo && *out <= d->hi) ? 0 : -1;
    case OPT_BOOL:
        *out = opt_parse_bool(s);
        return *out < 0 ? -1 : 0;
    case OPT_SIGNAL:
        *out = opt_parse_signal(s);
        if (*out > 0 && opt_signal_unsafe((int)*out)) {
            opt_warn("refusing ", d->name, ": a program cannot survive that signal as a "
                                           "snapshot trigger");
            *out = 0;
            return 1; /* refused, warned: the default */
        }
        return *out < 0 ? -1 : 0;
    case OPT_CHOICE:
        *out = opt_parse_choice(s, d->choices);
        return *out < 0 ? -1 : 0;
    case OPT_MSEC:
        return opt_parse_msec(s, d->lo, d->hi, out);
    case OPT_STR:
        *out = 0;
        return 0;
    }
    return -1;
}

static void opt_set_default(enum opt_id id)
{
    const struct opt_def *d = &opt_table[id];
    opts.sval[id] = d->def;
    if (opt_parse_one(d, d->def, &opts.ival[id]) != 0)
        opts.ival[id] = 0; /* a table bug; the unit test catches it */
}

/* A copy of s in the shim's own memory (never freed: options live as long
 * as the process), with dir and a '/' before it when s is a relative file
 * name and dir is given; NULL when out of memory. */
static const char *opt_copy(const char *s, const char *dir)
{
    size_t n = strlen(s), dn = (dir && s[0] != '/') ? strlen(dir) : 0;
    char *c = arena_keep(dn + 1 + n + 1);
    if (!c)
        return NULL;
    if (dn) {
        memcpy(c, dir, dn);
        c[dn++] = '/';
    }
    memcpy(c + dn, s, n + 1);
    return c;
}

/* The option names a file: a relative value is resolved at start-up. */
static int opt_is_path(enum opt_id id)
{
    return id == OPT_OUTPUT || id == OPT_MANIFEST;
}

/* Optimal string alignment distance of a and b (a swap of neighbours is
 * one edit), on the stack; 255 for names longer than 40. */
static unsigned opt_distance(const char *a, size_t la, const char *b)
{
    unsigned char d[41][41];
    size_t lb = strlen(b);
    if (la > 40 || lb > 40)
        return 255;
    for (size_t i = 0; i <= la; i++)
        d[i][0] = (unsigned char)i;
    for (size_t k = 0; k <= lb; k++)
        d[0][k] = (unsigned char)k;
    for (size_t i = 1; i <= la; i++)
        for (size_t k = 1; k <= lb; k++) {
            unsigned v = d[i - 1][k - 1] + (a[i - 1] != b[k - 1]);
            if (d[i - 1][k] + 1u < v)
                v = d[i - 1][k] + 1u;
            if (d[i][k - 1] + 1u < v)
                v = d[i][k - 1] + 1u;
            if (i > 1 && k > 1 && a[i - 1] == b[k - 2] && a[i - 2] == b[k - 1] &&
                d[i - 2][k - 2] + 1u < v)
                v = d[i - 2][k - 2] + 1u;
            d[i][k] = (unsigned char)v;
        }
    return d[la][lb];
}

/* One warning for each HEAPSNAP_* variable of the environment that neither
 * the table nor opt_other_vars holds, with the table's nearest name when
 * one is within 2 edits.  No allocation: it may run inside a hook. */
static void opt_check_names(void)
{
    static const char pre[] = "HEAPSNAP_";
    for (char **e = environ; e && *e; e++) {
        size_t n = 0; /* strcspn(*e, "="), whose libc page no other start-up code runs */
        while ((*e)[n] && (*e)[n] != '=')
            n++;
        const char *near = NULL;
        unsigned best = 3;
        int known = 0;
        if (strncmp(*e, pre, sizeof pre - 1) != 0)
            continue;
        for (size_t i = 0; i < sizeof opt_other_vars / sizeof *opt_other_vars && !known; i++)
            known = strlen(opt_other_vars[i]) == n && !strncmp(*e, opt_other_vars[i], n);
        for (int id = 0; id < OPT_COUNT && !known; id++) /* distances only for a stranger */
            known = strlen(opt_table[id].name) == n && !strncmp(*e, opt_table[id].name, n);
        for (int id = 0; id < OPT_COUNT && !known; id++) {
            unsigned dist = opt_distance(*e, n, opt_table[id].name);
            known = dist == 0;
            if (dist < best) {
                best = dist;
                near = opt_table[id].name;
            }
        }
        if (known)
            continue;
        char name[96], hint[128] = " is not a heapsnap variable: ignored";
        size_t k = n < sizeof name - 1 ? n : sizeof name - 1;
        memcpy(name, *e, k);
        name[k] = 0;
        if (near && strlen(near) < 64) {
            strcpy(hint, " is not a heapsnap variable: ignored (did you mean ");
            strcat(hint, near);
            strcat(hint, "?)");
        }
        opt_warn(name, hint, 0);
    }
}

/* Where the options come from: the environment, or the text an attach
 * passed (opt_init_conf): "NAME=VALUE" lines.  What is found is copied
 * (opt_copy), so the text need not outlive opt_init. */
static const char *opt_conf;

static const char *opt_lookup(const char *name)
{
    if (!opt_conf)
        return getenv(name);
    size_t n = strlen(name);
    for (const char *l = opt_conf; *l; l += strcspn(l, "\n") + (l[strcspn(l, "\n")] != 0)) {
        if (!strncmp(l, name, n) && l[n] == '=') {
            static char val[4096]; /* one value at a time: opt_init copies it */
            size_t k = strcspn(l + n + 1, "\n");
            if (k >= sizeof val)
                return NULL;
            memcpy(val, l + n + 1, k);
            val[k] = 0;
            return val;
        }
    }
    return NULL;
}

/* The options of an attach (shim/attach): conf's lines, the environment
 * of the process never read. */
void opt_init_conf(const char *conf)
{
    opt_conf = conf;
    opt_init();
    opt_conf = NULL;
}

/* The warning of a bad value: a choice's names the choices ("... (one of
 * auto|fp|libunwind), using the default"), put together on the stack. */
static void opt_warn_bad(const struct opt_def *d)
{
    char tail[192];
    size_t k = 0, n;
    if (d->type == OPT_CHOICE && d->choices && (n = strlen(d->choices)) < sizeof tail - 48) {
        memcpy(tail, " (one of ", 9), k = 9;
        memcpy(tail + k, d->choices, n), k += n;
        memcpy(tail + k, ")", 1), k += 1;
    }
    memcpy(tail + k, ", using the default", 20);
    opt_warn("bad value for ", d->name, tail);
}

/* Reads every variable once.  Safe to call again (e.g. in tests). */
void opt_init(void)
{
    static char cwd[4096];
    const char *dir = getcwd(cwd, sizeof cwd) ? cwd : NULL;
    for (int id = 0; id < OPT_COUNT; id++) {
        const struct opt_def *d = &opt_table[id];
        const char *env = opt_lookup(d->name);
        long v;
        opt_set_default((enum opt_id)id);
        if (!env)
            continue;
        int r = opt_parse_one(d, env, &v);
        if (r < 0)
            opt_warn_bad(d);
        if (r != 0)
            continue;
        opts.ival[id] = v;
        opts.sval[id] = opt_copy(env, opt_is_path((enum opt_id)id) && *env ? dir : NULL);
        if (!opts.sval[id])
            opt_set_default((enum opt_id)id);
    }
    if (!opts.sval[OPT_OUTPUT][0]) {
        opt_warn("HEAPSNAP_OUTPUT is empty, using the default", 0, 0);
        opt_set_default(OPT_OUTPUT);
    }
    if (opts.sval[OPT_OUTPUT][0] != '/' && dir) /* the default is relative too */
        opts.sval[OPT_OUTPUT] = opt_copy(opts.sval[OPT_OUTPUT], dir) ?: opts.sval[OPT_OUTPUT];
    if (!opts.sval[OPT_OUTPUT][0]) {
        opt_warn("HEAPSNAP_OUTPUT is empty, using the default", 0, 0);
        opt_set_default(OPT_OUTPUT);
    }
    if (!opt_conf) /* an attach's text names only known variables */
        opt_check_names();
}

/* Secure execution (cred_init): every option at its default, no variable
 * read but HEAPSNAP_VERBOSE, and that only to say so in one fixed line. */
void opt_init_secure(void)
{
    for (int id = 0; id < OPT_COUNT; id++)
        opt_set_default((enum opt_id)id);
    const char *v = getenv(opt_table[OPT_VERBOSE].name);
    if (v && opt_parse_bool(v) == 1)
        opt_write3("inactive in a secure-execution (setuid, setgid or capabilities) process",
                   0, 0);
}

long opt_int(enum opt_id id)
{
    return opts.ival[id];
}

int opt_auto(enum opt_id id)
{
    long v = opts.ival[id]; /* the choice's index: after auto, an odd one is no */
    return v == 0 ? -1 : !(v & 1);
}

/* 1 when id's value came from its variable (or an attach's text) and is
 * not the default's, 0 when it is: a bound the user set is worth a
 * warning when reached, the default's is not (state_full). */
int opt_given(enum opt_id id)
{
    /* by value: attach's configuration spells the default out ("64") */
    const char *v = opts.sval[id], *d = opt_table[id].def;
    return v != NULL && v != d && (d == NULL || strcmp(v, d) != 0);
}

const char *opt_name(enum opt_id id)
{
    return opt_table[id].name;
}

const char *opt_str(enum opt_id id)
{
    return opts.sval[id] ? opts.sval[id] : opt_table[id].def;
}
