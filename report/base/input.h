/*
 * input.h - opening the files the CLI reads (snapshots, rules, suppressions,
 * the modules a snapshot names, run's manifest) so that no input can hang,
 * loop or exhaust the CLI (in_open, in_read_text).
 */
#ifndef REPORT_INPUT_H
#define REPORT_INPUT_H

#include <stddef.h>
#include <sys/stat.h>

/* What a text input may hold: rules files and the manifest are a few lines,
 * suppression files a few thousand. */
#define IN_MAX_RULES (1u << 20)       /* 1 MiB */
#define IN_MAX_SUPP (16u << 20)       /* 16 MiB */
#define IN_MAX_MANIFEST (64u << 20)   /* 64 MiB */

/* Opens path for reading without blocking on a FIFO or a device, and keeps
 * it only if it is a regular file (O_NONBLOCK is cleared again before it is
 * returned).  Returns the descriptor and fills *st, or -1 with the reason
 * alone in err ("No such file or directory", "is a directory", "not a
 * regular file (a FIFO)"). */
int in_open(const char *path, struct stat *st, char *err, size_t errlen);

/* Reads a regular file of at most max bytes whole, NUL-terminated (*len
 * excludes the NUL).  NULL with "PATH: reason" in err: in_open's reasons,
 * "larger than N bytes", a read error, out of memory. */
char *in_read_text(const char *path, size_t max, size_t *len, char *err, size_t errlen);

#endif
