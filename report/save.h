/*
 * save.h - writing a struct snap as a .hsnap file (report/save.c).
 */
#ifndef REPORT_SAVE_H
#define REPORT_SAVE_H

#include <stddef.h>
#include <stdio.h>

#include "snap.h"

/* A file written atomically: a temporary created exclusively in the
 * target's directory (O_TMPFILE, which has no name until it is complete,
 * else ".BASE.tmp.XXXXXXXXXXXX", random, O_EXCL|O_NOFOLLOW), flushed,
 * fsync'ed, then renamed over the target.  A planted symlink is never
 * followed, and a failed write leaves the target as it was. */
struct save_tmp {
    FILE *f;               /* write here */
    int anon;              /* O_TMPFILE: no name yet */
    char path[4096];       /* the target */
    char tmp[4200];        /* the temporary's name, once it has one */
};

/* Opens a temporary for path with mode (less the umask).  0, or -1 with
 * "PATH: reason" in err. */
int save_begin(struct save_tmp *t, const char *path, unsigned mode, char *err,
               size_t errlen);
/* Completes it: everything written reaches the disk, then the target is
 * replaced.  0, or -1 with "PATH: reason" in err (the temporary is gone and
 * the target untouched).  t is finished either way. */
int save_commit(struct save_tmp *t, char *err, size_t errlen);
/* Drops it; the target is untouched. */
void save_abort(struct save_tmp *t);

/* 1 when name (a base name) is one of save_begin's temporaries, or the
 * shim's, which are named the same way: "." BASE ".tmp." and 6 or more
 * letters and digits. */
int save_is_tmp_name(const char *name);

/* Writes s to path atomically (save_begin, mode 0600: snapshots hold the
 * program's command line and paths).  Sections are
 * written from the fields of s: stats has ntraces entries; BLOCKS when
 * has_blocks; TIMELINE when npoints; LEAKS (the raw payload) when leaks_len;
 * RETAINERS (nretainers items, sorted and unique) when has_retainers too.
 * Returns 0, or -1 with "PATH: reason" in err. */
int snap_save(const char *path, const struct snap *s, char *err, size_t errlen);

#endif
