/*
 * cli.c - argument-parsing helpers shared by the subcommands.  Every
 * subcommand runs getopt_long with opterr = 0 and a leading ':' in its short
 * options, so that a bad option comes back here and becomes the one-line
 * error the CLI promises, instead of getopt's own message.
 */
#include <stdio.h>
#include <unistd.h>

#include "cli.h"

int cli_bad_option(const char *cmd, int c, char **argv, char *err, size_t errlen)
{
    const char *arg = optind > 0 ? argv[optind - 1] : "?";
    if (c == ':')
        snprintf(err, errlen, "%s: option '%s' needs a value", cmd, arg);
    else if (optopt)
        snprintf(err, errlen, "%s: unknown option '-%c' (see heapsnap %s --help)", cmd,
                 optopt, cmd);
    else
        snprintf(err, errlen, "%s: unknown option '%s' (see heapsnap %s --help)", cmd, arg,
                 cmd);
    return 2;
}
