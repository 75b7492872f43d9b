/*
 * supp.h - leak suppressions, in LeakSanitizer's and Valgrind's syntax,
 * with a count of what each one matched (so stale ones can be reported).
 * Shared by `heapsnap leaks` and `heapsnap gate`.
 */
#ifndef REPORT_SUPP_H
#define REPORT_SUPP_H

#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#include "lossrec.h"

#define SUPP_MAX_PATS 64 /* frame lines per Valgrind block */

struct supp_set;

/* One suppression, as loaded, with what it matched. */
struct supp_info {
    const char *name;     /* "leak:PATTERN", or the Valgrind block's name */
    const char *file;     /* the file it came from */
    int line;             /* its (first) line there */
    int valgrind;         /* 1: a { ... Memcheck:Leak ... } block */
    int embedded;         /* 1: from a snapshot (the program's
                             __lsan_default_suppressions()): file names no file */
    int builtin;          /* 1: heapsnap's own (cpysupp.c): not listed while stale */
    int pyref;            /* 1: a heapsnap:LeakedRef block: it matches Python
                             objects with leaked references, never loss records */
    uint64_t records;     /* loss records it suppressed (pyref: objects) */
    uint64_t bytes, blocks; /* ... their bytes and blocks (pyref: objects) */
};

struct supp_set *supp_new(void);
void supp_free(struct supp_set *ss);

/* Reads a suppression file (both syntaxes may be mixed) and appends its
 * suppressions.  Valgrind blocks for other errors than Memcheck:Leak are
 * skipped.  -1 with "FILE:LINE: reason" (or "FILE: reason") in err. */
int supp_load(struct supp_set *ss, const char *path, char *err, size_t errlen);

/* Same from text in memory; name stands for the file in messages. */
int supp_parse(struct supp_set *ss, const char *text, const char *name, char *err,
               size_t errlen);

/* cpysupp.c: CPython's own known leaks, built in */
#define CPYSUPP_NAME "heapsnap's built-in CPython suppressions"
extern const char cpysupp_text[];

struct snap;
/* The suppressions programs gave in their snapshots (their
 * __lsan_default_suppressions(), section SUPPRESSIONS), each distinct text
 * once, appended to *ss (made when NULL and there is any), named
 * "EXE's __lsan_default_suppressions()" in messages and listings.  0, or
 * -1 with "PATH: EXE's __lsan_default_suppressions():LINE: reason" in err.
 * Then, when a snapshot is a Python process's, CPython's known leaks
 * (cpysupp.c, CPYSUPP_NAME). */
int supp_add_snaps(struct supp_set **ss, const struct snap *snaps, char *const *paths, int n,
                   char *err, size_t errlen);

/* The first suppression that matches a record of this kind with these
 * frames (innermost first, wrappers included; site = the allocation site's
 * index), or -1.  Nothing is counted: see supp_charge. */
int supp_match(const struct supp_set *ss, enum lossrec_kind kind, const struct frame *const *fr,
               int n, int site);

/* What a heapsnap:LeakedRef suppression matches a Python object with
 * leaked references against. */
struct supp_pyobj {
    const char *type;              /* its type's name ("float") */
    long excess;                   /* its refcount minus the references found */
    const char *path;              /* pypath_of's, "" when none */
    const struct frame *const *fr; /* its stack from the first frame shown */
    int n;
};

/* The first heapsnap:LeakedRef suppression of ss (NULL: none) that
 * matches o, or -1.  Nothing is counted: see supp_charge. */
int supp_match_pyobj(const struct supp_set *ss, const struct supp_pyobj *o);

/* supp_match_pyobj of block b of s, a Python object with leaked
 * references (its block_refcnt nonzero): its type, counts, path and
 * stack as `leaks` shows them. */
int supp_match_pyref(const struct supp_set *ss, const struct snap *s, uint64_t b);

/* Whether any suppression of ss (NULL: none) may match a record of kind. */
int supp_has_kind(const struct supp_set *ss, enum lossrec_kind kind);

/* Counts one suppressed record against suppression i. */
void supp_charge(struct supp_set *ss, int i, uint64_t bytes, uint64_t blocks);

/* The suppressions to list: all of them but the built-in ones that
 * matched nothing; the i-th of them (i < supp_count). */
size_t supp_count(const struct supp_set *ss);
const struct supp_info *supp_get(const struct supp_set *ss, size_t i);
/* Suppression i as supp_match returned it (a finding's). */
const struct supp_info *supp_matched(const struct supp_set *ss, int i);

struct json;
/* Writes "suppressions": [{name, syntax, kind, file, line, records, bytes,
 * blocks, stale}] (docs/json.md) into the open object of j; an empty array when ss
 * is NULL.  Shared by `leaks --format json` and the gate's JSON. */
void supp_json(struct json *j, const struct supp_set *ss);

#endif
