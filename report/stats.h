/*
 * stats.h - grouping live memory by a key, like tracemalloc's
 * Snapshot.statistics(key_type, cumulative) and Snapshot.compare_to().
 */
#ifndef REPORT_STATS_H
#define REPORT_STATS_H

#include <stdint.h>
#include <stdio.h>
#include <uthash.h>

#include "snap.h"
#include "sym.h"

enum stats_key { KEY_LINENO, KEY_FILENAME, KEY_FUNCTION, KEY_MODULE, KEY_TRACEBACK };

#define STATS_MAX_FILTERS 64

struct stats_opts {
    enum stats_key key;
    int cumulative;       /* add a trace to every distinct key of its frames */
    int all_frames;       /* filters look at every frame, not only the site */
    int leaked;           /* --leaked: direct, indirect and cycle blocks only */
    int retainers;        /* top --retainers: report/retainers.c's view */
    long limit;           /* -n: lines to print, 0 = all */
    int ninclude, nexclude;
    const char *include[STATS_MAX_FILTERS]; /* fnmatch patterns */
    const char *exclude[STATS_MAX_FILTERS];
};

/* One frame of a group's key, as printed. */
struct stat_frame {
    char *file;    /* shown path (relative to the cwd when below it) */
    int line;
    char *func;
};

struct stat_entry {
    char *id;                 /* identity of the key (hash key) */
    int nframes;              /* 1 except for KEY_TRACEBACK */
    struct stat_frame *frames;
    int64_t size, count;
    int64_t size_diff, count_diff; /* filled by stats_compare */
    int seen;                 /* stats_compare: matched in the new snapshot */
    uint64_t stamp;           /* last trace charged (cumulative dedupe) */
    UT_hash_handle hh;        /* stats.c: groups by id */
};

struct stats;

/* 1 if f is an allocator wrapper (a frame in the shim, libc, libstdc++ or
 * libgcc_s, or a malloc-, operator new- or strdup-like function anywhere):
 * the allocation site is the first frame that is not one. */
int stats_is_wrapper(const struct sym_frame *f);

/* The allocation site among n frames (innermost first) of any frame type:
 * the index of the first frame that is not an allocator wrapper, else the
 * outermost one's (n - 1; -1 for n == 0).  is_wrapper(frames, i) says
 * whether frame i is one; the rule itself lives only here, for `top`,
 * `diff`, `trend` and the loss records of `leaks` and `gate` alike. */
long stats_site(const void *frames, size_t n, int (*is_wrapper)(const void *frames, size_t i));

/* Parses top/diff's options (getopt_long over argv) into o.  Returns -1 to
 * go on (operands start at optind), or an exit code: 0 after --help (usage()
 * was called), 2 with err filled. */
int stats_getopt(const char *cmd, int argc, char **argv, struct stats_opts *o,
                 void (*usage)(void), char *err, size_t errlen);
extern const char stats_help[];

struct stats *stats_new(const struct stats_opts *o);
void stats_free(struct stats *st);

/* Adds every live trace of s (symbolized through z). -1 when out of memory. */
int stats_add(struct stats *st, const struct snap *s, struct symbolizer *z);

/* stats_add with per-trace values (ntraces of them) in place of s->stats:
 * callers group other quantities by the same keys (leaked blocks of one
 * class, blocks of one age).  Traces whose values are 0 are skipped. */
int stats_add_values(struct stats *st, const struct snap *s, struct symbolizer *z,
                     const struct hsnap_stat *values);

/* stats_add through a symbolizer kept by st and shared by snapshots with the
 * same module map; s must outlive st.  With o.leaked, sums the leaked blocks
 * of BLOCKS instead of STATS.  -1 with "PATH: out of memory", or "PATH: no
 * leak check in this snapshot (...)" for o.leaked without LEAKS. */
int stats_add_snap(struct stats *st, const struct snap *s, const char *path, char *err,
                   size_t errlen);

/* tracemalloc's compare_to: newer gets size/count diffs against older;
 * groups only in older are moved into newer with size 0, count 0. */
int stats_compare(struct stats *newer, struct stats *older);

/* The groups in print order (see stats_print), *n of them; owned by st and
 * valid until the next stats_sort/stats_print.  NULL when out of memory. */
struct stat_entry **stats_sort(struct stats *st, int diff, size_t *n);

/* The group whose identity is id (stat_entry.id), or NULL. */
struct stat_entry *stats_find(struct stats *st, const char *id);

/* Sorts (Statistic order, or StatisticDiff order when diff) and prints
 * at most o->limit groups (0 = all). */
int stats_print(struct stats *st, FILE *out, int diff);

#endif
