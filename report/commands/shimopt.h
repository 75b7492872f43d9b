/*
 * shimopt.h - the shim's options on run's and attach's command lines,
 * checked before any process sees them.
 */
#ifndef REPORT_SHIMOPT_H
#define REPORT_SHIMOPT_H

#include <stddef.h>

/* val (NULL: not given) of option opt against the shim's table row idx
 * (enum opt_id); 0, or -1 with "CMD: bad value for OPT: 'VAL' (...)" in
 * err. */
int run_check_opt(const char *cmd, const char *opt, const char *val, int idx, char *err,
                  size_t errlen);

/* --signal: a name (USR2, SIGUSR2), a number or off, as the number the
 * shim is given in buf; 0, or -1 with err ("CMD: bad value for --signal"). */
int run_check_signal(const char *cmd, const char *val, char *buf, size_t n, char *err,
                     size_t errlen);

#endif
