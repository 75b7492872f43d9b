/*
 * statsopt.h - the command line of top and diff: their options parsed into
 * the model's struct stats_opts (stats.h), and their help text.
 */
#ifndef REPORT_STATSOPT_H
#define REPORT_STATSOPT_H

#include "stats.h"

/* Parses cmd's options ("top" or "diff"; getopt_long over argv) into o.
 * Returns -1 to go on (operands start at optind), or an exit code: 0 after
 * --help (usage() was called), 2 with err filled. */
int statsopt_parse(const char *cmd, int argc, char **argv, struct stats_opts *o,
                   void (*usage)(void), char *err, size_t errlen);
/* A snapshot read at its peak (SNAP@peak, at path) with options that
 * --peak refuses: -1 with err ("cmd: ..."), else 0. */
int statsopt_check_at_peak(const char *cmd, const struct stats_opts *o, const char *path,
                           char *err, size_t errlen);
/* Whether o's view prints each group's site and nothing else of its
 * stacks (the lineno key, a group a site, no frame filter, none of the
 * views that show or weigh a stack's other frames), so that the stacks
 * can be read as their sites alone (frames_site_only). */
int statsopt_site_alone(const struct stats_opts *o);
/* The sections o's view never reads (snap_load_skip's mask); at: the
 * snapshot is read at its peak (SNAP@peak). */
uint32_t statsopt_skip(const struct stats_opts *o, int at);
extern const char statsopt_help[];     /* a printf format: %s takes statsopt_help_top or "" */
extern const char statsopt_help_top[]; /* the options only top takes */

#endif
