/*
 * shimopt.c - the shim's options as `heapsnap run` and `heapsnap attach`
 * take them on their command lines (--depth, --interval, --sample,
 * --unwind, --children, --signal): checked here against the shim's own
 * table (options_table.h: range, choices, signals no program survives),
 * so that a bad value is one line from heapsnap rather than a warning
 * from every process the shim enters.  Prefix run_, as the command that
 * owns them; attach borrows them.
 */
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <strings.h>

#include "cli.h"
#include "options_table.h"
#include "runner.h"

/* An option checked here against the shim's table (range, choices), rather
 * than warned about by every process the shim enters. */
int run_check_opt(const char *cmd, const char *opt, const char *val, int idx, char *err,
                  size_t errlen)
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
int run_check_signal(const char *cmd, const char *val, char *buf, size_t n, char *err,
                     size_t errlen)
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
