/*
 * attach.h - what `heapsnap live` takes from `heapsnap attach`
 * (report/commands/attach.c): the shim loaded into a running process, and
 * its control socket.
 */
#ifndef REPORT_ATTACH_H
#define REPORT_ATTACH_H

#include <stddef.h>
#include <sys/types.h>

/* attach's snapshot name when -o is not given: run's (the program's name,
 * its pid), expanded by the shim. */
#define ATTACH_OUTPUT "%e.%p.hsnap"

/* A process that runs the shim preloaded (heapsnap run, LD_PRELOAD)
 * without its control socket makes it now (its shim's heapsnap__serve,
 * called on a borrowed thread as attach calls): 0, or 2 with the one-line
 * reason in err (the process untouched, or served as before). */
int attach_serve(pid_t pid, char *err, size_t errlen);

/* The control socket pid has or would have (ctl_path: EUID the process's)
 * into sock, and its name into comm: 0, or -1: no process pid. */
int attach_socket(pid_t pid, char *sock, size_t n, char *comm, size_t commn);

/* heapsnap attach PID -o output (NULL: the default name) without the wait,
 * with the state file on: every check, then the shim loaded and recording,
 * its name in comm.  0,
 * or 2 with the one-line reason in err (the process untouched). */
int attach_start(pid_t pid, const char *output, char *comm, size_t n, char *err, size_t errlen);

#endif
