/*
 * runner.h - the door of the runner room (report/runner/): what `heapsnap
 * run` does besides reading its command line, and the part of it that
 * `heapsnap attach` shares.  The command stays a file of commands/ (main's
 * dispatch table reads cmd_run from commands.h, one file a command); what
 * it starts, watches and sums up a process with is this room below it,
 * rather than a room run/ holding cmd_run, because attach needs the same
 * option table and libraries and must not reach into another command.
 *
 * One noun a file: target (the command found and checked, the shim's
 * libraries found), shimopt (the shim's options on run's and attach's
 * command lines), follow (which snapshots run keeps, whose is the name),
 * linger (the processes that outlive the command), summary (the lines run
 * ends with).  The room knows no command: references run one way,
 * commands -> runner.
 */
#ifndef REPORT_RUNNER_H
#define REPORT_RUNNER_H

#include <getopt.h>
#include <stddef.h>
#include <stdio.h>
#include <sys/types.h>

#include "manifest.h"

/* ---- target: the command run starts, found and checked; the shim's libraries ---- */
/* The exit codes of a shell for a command it cannot start (POSIX 2.8.2). */
#define RUN_NOT_FOUND 127
#define RUN_NOT_EXECUTABLE 126

/* execvp's search for cmd: 0 and its path in buf (PATH_MAX bytes), or
 * RUN_NOT_FOUND / RUN_NOT_EXECUTABLE with a shell's reason in err. */
int run_find_command(const char *cmd, char *buf, char *err, size_t errlen);

/* 0 when the shim can enter the program at path, else -1 with the reason
 * in err (setuid/setgid, or statically linked). */
int run_check_target(const char *path, char *err, size_t errlen);

/* The shim's libraries: name next to heapsnap, else in ../lib/heapsnap/
 * (after `make install`), its real path in out; 0, or -1.  run_find_shim:
 * libheapsnap.so. */
int run_find_shim(char *out, size_t n);
int run_find_lib(const char *name, char *out, size_t n);

/* ---- shimopt: the shim's options on run's and attach's command lines ---- */
/* The one table of the shim's options both commands take (--depth,
 * --signal, --interval, --sample, --unwind, --no-blocks, --leaks; run
 * also --children), each row a long option, its getopt code and the
 * shim's variable.  A command's own options use other codes. */
#define SHIMOPT_RUN 1u    /* a row run takes */
#define SHIMOPT_ATTACH 2u /* ... attach */
#define SHIMOPT_N 8       /* the table's rows */
#define SHIMOPT_MAXOPTS 24 /* longopts' room: the rows, a command's own, the end */

/* The values a command line gave, by the table's rows. */
struct shimopt {
    unsigned cmd;                /* SHIMOPT_RUN or SHIMOPT_ATTACH */
    const char *val[SHIMOPT_N];  /* as given (a flag: "1"); NULL: not given */
    char signum[16];             /* --signal as the number the shim is given */
};

/* so emptied for cmd, and getopt_long's longopts into out: cmd's rows of
 * the table and own's (up to its NULL row), then the NULL row.  order,
 * when not NULL, lists the rows' getopt codes in the order they take
 * (cli_bad_option's nearest name is the first of equals); NULL: the
 * table's rows, then own's.  own's codes differ from the table's. */
void shimopt_init(struct shimopt *so, unsigned cmd, const struct option *own, const char *order,
                  struct option out[SHIMOPT_MAXOPTS]);

/* getopt's c with its optarg kept in so when c is a row's code: 1; else 0
 * (the command's own option). */
int shimopt_take(struct shimopt *so, int c, const char *arg);

/* Every value given, checked against the shim's own table
 * (options_table.h: range, choices, signals no program survives) in the
 * table's order, --signal last: 0, or -1 with "CMD: bad value for OPT:
 * 'VAL' (...)" in err. */
int shimopt_check(struct shimopt *so, const char *cmd, char *err, size_t errlen);

/* put(variable, value, arg) for each option given, in the table's order:
 * what the shim is told ("HEAPSNAP_BLOCKS", "0" for --no-blocks). */
void shimopt_each(const struct shimopt *so, void (*put)(const char *var, const char *val, void *arg),
                  void *arg);

/* ---- follow: which snapshots run keeps, and whose is the name ---- */
/* Removes from mf, and from the disk, the snapshots of a launcher's
 * helpers (follow.c); returns how many went.  On any doubt it keeps. */
size_t follow_drop_helpers(struct manifest *mf);

/* A wrapper's name handed to the Python program it ran as its child
 * (follow.c): when named (a name without %p) was written by program, the
 * pid run started, which ran no Python, and exactly one child of it that
 * did (or, when program is a shell and no child ran Python, exactly one
 * child at all, which peaked at least as high) wrote its snapshot at named.<pid> within FOLLOW_HAND_NS of
 * the wrapper's end, the two files swap names (the wrapper's becomes
 * named.<program>) and in mf.  Returns the child's pid, or 0 when nothing
 * moved; *python: 1 when the child was chosen for running Python. */
#define FOLLOW_HAND_NS 1000000000ull
pid_t follow_hand_name(struct manifest *mf, const char *named, pid_t program, int *python);

/* ---- linger: the processes of a run that outlive its command ---- */
/* Waits for the processes of mf, and of the manifest file (what they told
 * after CMD ended), other than child: a second, and longer (up to
 * LINGER_MAX_MS) while they still use CPU, as one that finalises and
 * writes its snapshot does (a machine under load slows that down); a
 * daemon the command left behind, idle, is not waited for.  What comes
 * on run's socket sock (-1: none) meanwhile is taken into mf. */
void linger_wait(const char *manifest, struct manifest *mf, pid_t child, int sock);

/* Whether pid is alive and the process that keeps its state file at path
 * (not another the kernel gave the pid to after that one was killed). */
int linger_is_alive(pid_t pid, const char *path);

/* ---- summary: the lines `heapsnap run` ends with ---- */
/* Prints to out the summary of one process among the snapshots of mf:
 * the one written at named (an absolute path, or NULL) by the process
 * program when there is one, else the one of largest peak, at its latest
 * snapshot.  leaks: --leaks was
 * asked (a LEAK SUMMARY, or why there is none).  Prints nothing when no
 * snapshot of mf can be read. */
void summary_print(const struct manifest *mf, const char *named, pid_t program, int leaks,
                   FILE *out);

/* The exit snapshot at path (a process said it was its last) read ahead,
 * with the peak's line, while the process ends: summary_print takes it
 * when it picks that file, unchanged since, and reads it again else. */
void summary_preload(const char *path, int leaks);

#endif
