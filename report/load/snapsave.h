/*
 * snapsave.h - writing a struct snap as a .hsnap file (snap_save), atomically.
 */
#ifndef REPORT_SNAPSAVE_H
#define REPORT_SNAPSAVE_H

#include <stddef.h>
#include <stdio.h>

#include "snap.h"

/* An output destination, the one way a command opens the file it writes
 * (save_begin), by what its name is now:
 *   "-"                      standard output;
 *   nothing, a regular file  written atomically: a temporary created
 *                            exclusively in the target's directory
 *                            (O_TMPFILE, which has no name until it is
 *                            complete, else ".BASE.tmp.XXXXXXXXXXXX",
 *                            random, O_EXCL|O_NOFOLLOW), flushed, fsync'ed,
 *                            then renamed over the target: a failed write
 *                            leaves the target as it was;
 *   a device, FIFO or socket written in place, never replaced (opened
 *   (or a symlink to one)    without O_CREAT or O_TRUNC; a FIFO waits for
 *                            its reader, like any Unix tool's output);
 *   a symlink to anything    refused: neither followed nor replaced (a
 *   else                     link planted in a shared directory never
 *                            redirects the write; the shim does the same).
 */
enum { SAVE_ATOMIC, SAVE_DIRECT, SAVE_STDOUT };

struct save_tmp {
    FILE *f;               /* write here */
    int kind;              /* SAVE_* */
    int anon;              /* SAVE_ATOMIC with O_TMPFILE: no name yet */
    char path[4096];       /* the target ("stdout" for "-") */
    char tmp[4200];        /* the temporary's name, once it has one */
};

/* Opens the destination path (above); a file it creates gets mode (less
 * the umask).  0, or -1 with "PATH: reason" in err. */
int save_begin(struct save_tmp *t, const char *path, unsigned mode, char *err,
               size_t errlen);
/* Completes it: everything written reaches the disk, then the target is
 * replaced (atomic), or the stream is flushed and closed (direct; standard
 * output is flushed, not closed).  0, or -1 with "PATH: reason" in err
 * (atomic: the temporary is gone and the target untouched).  t is
 * finished either way. */
int save_commit(struct save_tmp *t, char *err, size_t errlen);
/* Drops it; an atomic target is untouched (what went to a stream has
 * gone). */
void save_abort(struct save_tmp *t);

/* 1 when name (a base name) is one of save_begin's temporaries, or the
 * shim's, which are named the same way: "." BASE ".tmp." and 6 or more
 * letters and digits. */
int save_is_tmp_name(const char *name);

/* Writes s to path (save_begin, mode 0600: snapshots hold the program's
 * command line and paths).  Sections are
 * written from the fields of s: stats has ntraces entries; BLOCKS when
 * has_blocks; TIMELINE when npoints; LEAKS (the raw payload) when leaks_len;
 * RETAINERS (nretainers items, sorted and unique) when has_retainers too.
 * Returns 0, or -1 with "PATH: reason" in err. */
int snap_save(const char *path, const struct snap *s, char *err, size_t errlen);

#endif
