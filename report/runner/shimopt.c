/*
 * shimopt.c - the shim's options as `heapsnap run` and `heapsnap attach`
 * take them on their command lines (--depth, --interval, --sample,
 * --unwind, --children, --signal, --no-blocks, --leaks): one table,
 * shimopt_rows, that both commands' getopt reads (shimopt_init), their
 * values checked here against the shim's own table (options_table.h:
 * range, choices, signals no program survives), so that a bad value is one
 * line from heapsnap rather than a warning from every process the shim
 * enters, and handed on as the shim's variables (shimopt_each: run's
 * environment, attach's conf lines).  Each command keeps its own options
 * and its --help, whose words differ (at exit, at detach).
 */
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <strings.h>

#include "cli.h"
#include "options_table.h"
#include "runner.h"

/* val (NULL: not given) of option opt against the shim's table row idx
 * (enum opt_id): 0, or -1 with err. */
static int shimopt_check_value(const char *cmd, const char *opt, const char *val, int idx,
                               char *err, size_t errlen)
{
    uint64_t v;
    long ms;
    const struct opt_def *d = &opt_table[idx];
    if (!val)
        return 0;
    if (d->type == OPT_INT && cli_parse_count(val, (uint64_t)d->hi, &v) == 0 &&
        v >= (uint64_t)d->lo)
        return 0;
    if (d->type == OPT_MSEC && opt_parse_msec(val, d->lo, d->hi, &ms) == 0)
        return 0;
    if (d->type == OPT_CHOICE)
        for (const char *c = d->choices; *c; c += strcspn(c, "|") + (c[strcspn(c, "|")] != 0))
            if (strcspn(c, "|") == strlen(val) && !strncasecmp(c, val, strlen(val)))
                return 0;
    if (d->type == OPT_INT)
        snprintf(err, errlen, "%s: bad value for %s: '%s' (an integer from %ld to %ld)",
                 cmd, opt, val, d->lo, d->hi);
    else if (d->type == OPT_MSEC)
        snprintf(err, errlen, "%s: bad value for %s: '%s' (seconds from %ld to %ld, "
                 "up to 3 decimals, e.g. 0.5; 0 = off)", cmd, opt, val, d->lo / 1000, d->hi / 1000);
    else {
        char list[128];
        size_t k = 0;
        for (const char *c = d->choices; *c && k + 3 < sizeof(list); c++)
            k += (size_t)snprintf(list + k, sizeof(list) - k, *c == '|' ? ", " : "%c", *c);
        list[k] = 0;
        snprintf(err, errlen, "%s: bad value for %s: '%s' (%s)", cmd, opt, val, list);
    }
    return -1;
}

/* --signal: a name (USR2, SIGUSR2), a number or off, given to the shim as
 * a number in buf.  The signals no program survives as a trigger (faults,
 * ABRT, TRAP, KILL, STOP) are refused, as the shim would refuse them. */
static int shimopt_check_signal(const char *cmd, const char *val, char *buf, size_t n,
                                char *err, size_t errlen)
{
    uint64_t v = 0;
    const char *name = strncasecmp(val, "SIG", 3) ? val : val + 3;
    int sig = -1;
    if (!strcasecmp(val, "off") || (cli_parse_count(val, (uint64_t)SIGRTMAX, &v) == 0))
        sig = (int)v;
    for (int i = 1; i < SIGRTMIN && sig < 0 && *name; i++)
        if (sigabbrev_np(i) && !strcasecmp(name, sigabbrev_np(i)))
            sig = i;
    if (sig >= 0 && !opt_signal_unsafe(sig)) {
        snprintf(buf, n, "%d", sig);
        return 0;
    }
    snprintf(err, errlen, "%s: bad value for --signal: '%s' (a signal name such as USR2 "
             "or SIGUSR2, a number from 1 to %d, or off; not SEGV, ILL, BUS, FPE, TRAP, ABRT, "
             "KILL or STOP)", cmd, val, SIGRTMAX);
    return -1;
}

/* One row a shim option: the long name, getopt's code, the shim's variable
 * (its opt_table row), the value a flag gives it (NULL: the option takes
 * one), and the commands that take it. */
static const struct shimopt_row {
    const char *name;
    int code;
    int idx;
    const char *flag;
    unsigned cmds;
} shimopt_rows[SHIMOPT_N] = {
    {"depth", 'D', OPT_DEPTH, NULL, SHIMOPT_RUN | SHIMOPT_ATTACH},
    {"signal", 's', OPT_SIGNAL_ID, NULL, SHIMOPT_RUN | SHIMOPT_ATTACH},
    {"interval", 'i', OPT_INTERVAL, NULL, SHIMOPT_RUN | SHIMOPT_ATTACH},
    {"sample", 'S', OPT_SAMPLE, NULL, SHIMOPT_RUN | SHIMOPT_ATTACH},
    {"unwind", 'U', OPT_UNWIND, NULL, SHIMOPT_RUN | SHIMOPT_ATTACH},
    {"no-blocks", 'b', OPT_BLOCKS, "0", SHIMOPT_RUN | SHIMOPT_ATTACH},
    {"leaks", 'L', OPT_LEAKS, "1", SHIMOPT_RUN | SHIMOPT_ATTACH},
    {"children", 'C', OPT_CHILDREN, NULL, SHIMOPT_RUN},
};

/* Row k of longopts: code c's, from the table (cmd's rows) or from own. */
static int shimopt_put_row(struct option *out, size_t k, unsigned cmd, const struct option *own,
                           int c)
{
    for (size_t i = 0; i < SHIMOPT_N; i++)
        if (shimopt_rows[i].code == c && (shimopt_rows[i].cmds & cmd)) {
            out[k] = (struct option){shimopt_rows[i].name,
                                     shimopt_rows[i].flag ? no_argument : required_argument,
                                     NULL, c};
            return 1;
        }
    for (; own->name; own++)
        if (own->val == c && !own->flag) {
            out[k] = *own;
            return 1;
        }
    return 0;
}

void shimopt_init(struct shimopt *so, unsigned cmd, const struct option *own, const char *order,
                  struct option out[SHIMOPT_MAXOPTS])
{
    size_t k = 0;
    memset(so, 0, sizeof *so);
    so->cmd = cmd;
    if (order) {
        for (; *order && k + 1 < SHIMOPT_MAXOPTS; order++)
            k += (size_t)shimopt_put_row(out, k, cmd, own, *order);
    } else {
        for (size_t i = 0; i < SHIMOPT_N; i++)
            if (shimopt_rows[i].cmds & cmd)
                k += (size_t)shimopt_put_row(out, k, cmd, own, shimopt_rows[i].code);
        for (; own->name && k + 1 < SHIMOPT_MAXOPTS; own++)
            out[k++] = *own;
    }
    out[k] = (struct option){NULL, 0, NULL, 0};
}

int shimopt_take(struct shimopt *so, int c, const char *arg)
{
    for (size_t i = 0; i < SHIMOPT_N; i++)
        if (shimopt_rows[i].code == c && (shimopt_rows[i].cmds & so->cmd)) {
            so->val[i] = shimopt_rows[i].flag ? "1" : arg;
            return 1;
        }
    return 0;
}

int shimopt_check(struct shimopt *so, const char *cmd, char *err, size_t errlen)
{
    char opt[32];
    int sig = -1;
    for (size_t i = 0; i < SHIMOPT_N; i++) {
        if (shimopt_rows[i].flag || !so->val[i])
            continue;
        if (shimopt_rows[i].idx == OPT_SIGNAL_ID) {
            sig = (int)i; /* last, as it always was */
            continue;
        }
        snprintf(opt, sizeof opt, "--%s", shimopt_rows[i].name);
        if (shimopt_check_value(cmd, opt, so->val[i], shimopt_rows[i].idx, err, errlen) < 0)
            return -1;
    }
    if (sig >= 0 && shimopt_check_signal(cmd, so->val[sig], so->signum, sizeof so->signum, err,
                                         errlen) < 0)
        return -1;
    return 0;
}

void shimopt_each(const struct shimopt *so, void (*put)(const char *var, const char *val, void *arg),
                  void *arg)
{
    for (size_t i = 0; i < SHIMOPT_N; i++) {
        const struct shimopt_row *r = &shimopt_rows[i];
        if (so->val[i])
            put(opt_table[r->idx].name,
                r->flag ? r->flag : r->idx == OPT_SIGNAL_ID ? so->signum : so->val[i], arg);
    }
}
