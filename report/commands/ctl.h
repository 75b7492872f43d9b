/*
 * ctl.h - the CLI's side of a process's control socket (report/commands/
 * ctl.c): where it is, whether the process listening there is the one
 * asked for, and a request with its answer.  Used by attach, detach and
 * live.
 */
#ifndef REPORT_CTL_H
#define REPORT_CTL_H

#include <stddef.h>
#include <sys/types.h>

/* The control socket of pid (effective uid euid) into out: PID.sock in
 * /tmp/heapsnap-EUID when that directory is euid's alone (else, once, a
 * line on stderr says why it is not trusted), or in the private
 * /tmp/heapsnap-EUID.XXXXXX the process's shim made instead.  Sockets of
 * processes that ended are removed on the way.  out is "" when there is
 * no trusted place at all. */
void ctl_path(pid_t pid, long euid, char *out, size_t n);

/* A connection to path, whose listener must be process pid (SO_PEERCRED):
 * its descriptor; -1 (errno) when nothing listens there; -2 when another
 * process does (err says which: a socket someone planted). */
int ctl_connect(const char *path, pid_t pid, char *err, size_t errlen);

/* Sends req ("detach\n", "cancel\n", "snapshot\n") to pid's socket and
 * prints the answer's "wrote PATH" lines on stderr (escaped, as every
 * byte from the socket); 0 when it ended with "ok", 2 (err) otherwise. */
int ctl_request(const char *path, const char *req, pid_t pid, char *err, size_t errlen);

#endif
