/*
 * dbgsym.h - one note for the whole run about the modules symbolized
 * without debug information (report/symbols/dbgsym.c), instead of a
 * warning per module: their names, and the host's way to their debug
 * information (its packages, its debuginfod server).
 */
#ifndef REPORT_DBGSYM_H
#define REPORT_DBGSYM_H

/* The module at path (shown as `shown`) has no debug information: named
 * in the note, once, printed on stderr when the CLI exits. */
void dbg_missing(const char *path, const char *shown);

/* The main executable of a snapshot read (its module 0), whether or not
 * it lacks debug information: the note's dependency walk starts at its
 * package too, which depends on the package of every library it links
 * (dpkg-shlibdeps made its Depends from them), so a library whose
 * package Debian's policy does not name (libcrypto.so.3 in libssl3,
 * libz.so.1 in zlib1g) is found without `dpkg-query -S`. */
void dbg_program(const char *path);

/* Where the gathering stands, and the modules gathered between two such
 * marks (from, then to) forgotten, as if what symbolized them had not
 * run: `run`'s read-ahead of a snapshot that its summary does not show. */
struct dbg_mark {
    int n, more;
};
struct dbg_mark dbg_mark(void);
void dbg_forget(struct dbg_mark from, struct dbg_mark to);

/* Prints the note now, if any module is missing, and forgets them. */
void dbg_note(void);

/* No note at all for this run (its reader is a program, which throws
 * stderr away: export --no-notes): dpkg's lists are not read. */
void dbg_quiet(void);

#endif
