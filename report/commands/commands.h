/*
 * commands.h - the commands' door: the subcommands the dispatch table in
 * main.c names.  Each takes the arguments after the command name (argv[0]
 * is the command), returns the exit code (0 ok, 1 a gate found something,
 * 2 trouble) and, for 2, leaves one line in err that main prints as
 * "heapsnap: <err>".  cmd_gate is behind gate.h, the gate's door.
 */
#ifndef REPORT_COMMANDS_H
#define REPORT_COMMANDS_H

#include <stddef.h>

int cmd_top(int argc, char **argv, char *err, size_t errlen);
int cmd_diff(int argc, char **argv, char *err, size_t errlen);
int cmd_info(int argc, char **argv, char *err, size_t errlen);
int cmd_leaks(int argc, char **argv, char *err, size_t errlen);
int cmd_merge(int argc, char **argv, char *err, size_t errlen);
int cmd_trend(int argc, char **argv, char *err, size_t errlen);
int cmd_run(int argc, char **argv, char *err, size_t errlen);
int cmd_clean(int argc, char **argv, char *err, size_t errlen);
int cmd_export(int argc, char **argv, char *err, size_t errlen);
int cmd_html(int argc, char **argv, char *err, size_t errlen);
int cmd_timeline(int argc, char **argv, char *err, size_t errlen);
int cmd_attach(int argc, char **argv, char *err, size_t errlen);
int cmd_detach(int argc, char **argv, char *err, size_t errlen);
int cmd_live(int argc, char **argv, char *err, size_t errlen);
int cmd_serve(int argc, char **argv, char *err, size_t errlen);

#endif
