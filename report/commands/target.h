/*
 * target.h - the command `heapsnap run` starts, found and checked before it
 * starts, and the shim's libraries found (run_find_command, run_find_lib).
 */
#ifndef REPORT_TARGET_H
#define REPORT_TARGET_H

#include <stddef.h>

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

#endif
