/*
 * stats.h - grouping live memory by a key, like tracemalloc's
 * Snapshot.statistics(key_type, cumulative) and Snapshot.compare_to().
 */
#ifndef REPORT_STATS_H
#define REPORT_STATS_H

#include <stdint.h>
#include <stdio.h>
#include <uthash.h>

#include "frames.h"
#include "snap.h"

/* Birth epochs as BLOCKS carries them: the live table saturates there. */
#define HSNAP_EPOCH_MAX 65535u

/* KEY_TYPE: Python objects by type alone (PYTYPES); another key with
 * stats_opts.by_type: per key and type. */
/* KEY_THREAD: the thread that allocated (THREADS), named by stats_thread_label. */
enum stats_key { KEY_LINENO, KEY_FILENAME, KEY_FUNCTION, KEY_MODULE, KEY_TRACEBACK, KEY_TYPE,
                 KEY_THREAD };

/* top --sort: live memory (tracemalloc's order and lines, the default), or
 * allocations since the start by count or by bytes (STATS' total_count,
 * total_bytes: heaptrack's "most allocations" views). */
enum stats_sort { SORT_LIVE, SORT_ALLOCATIONS, SORT_ALLOCATED };
extern const char *const stats_sort_names[]; /* "live", "allocations", "allocated" */
extern const char *const stats_key_names[];  /* "lineno", ... "type", "thread" */

struct stats_opts {
    enum stats_key key;
    int by_type;          /* --key KEY,type: groups per key and Python type */
    int garbage;          /* --garbage: Python objects only the collector frees */
    int owner;            /* --owner: a block an object owns (PYOWNED) is
                             charged to the object's trace and type */
    int cumulative;       /* add a trace to every distinct key of its frames */
    int leaked;           /* --leaked: direct, indirect and cycle blocks only */
    int born;             /* --born-since given: */
    uint32_t born_since;  /* only blocks of this birth epoch or later */
    int born_upto;        /* (by type: trend's ages) and only blocks of */
    uint32_t born_until;  /* this birth epoch or earlier */
    int retainers;        /* top --retainers: retainers_print's view */
    int retained;         /* top --retained: pyretained_groups' view */
    int peak;             /* --peak: what each trace held at the peak (PEAK) */
    int temporary;        /* top --temporary: sites by temporary allocations */
    int failed;           /* top --failed: sites of failed allocations (FAILED):
                             count = calls, size = the largest size asked */
    int collected;        /* top/diff --collected: objects the cycle collector
                             freed per site over the run (PYGCFREED):
                             count = objects, size = their bytes */
    long pid;             /* top --pid: only this process's snapshots (0 = all) */
    const char *exe;      /* top --exe: only this executable's (path or basename) */
    int by_process;       /* top --by-process: each process's groups apart */
    long limit;           /* -n: lines to print, 0 = all */
    enum stats_sort sort; /* top --sort */
    int json;             /* --format json (docs/json.md) */
    int totals;           /* the allocation totals are shown whatever the sort
                             and format (the live view's column) */
    int python_only;      /* --python-only: a Python stack is its Python frames */
    int native_site;      /* a Python stack's group is its native site, as under
                             --native (the HTML report's view) */
    int fold;             /* with python_only: the start-up and importlib's frames
                             folded away (pyfold_site; the HTML report's tables) */
    struct frames_filter filter; /* --include, --exclude, --all-frames */
    int kind;             /* --kind: SNAP_KIND_* */
    const char *thread;   /* --thread: only traces of threads it names (stats_thread_kept) */
};

struct stat_entry {
    char *id;                 /* identity of the key (stats.c's index key) */
    size_t idlen;             /* strlen(id), where stats.c made it */
    int nframes;              /* 1 except for KEY_TRACEBACK (0: KEY_TYPE) */
    char *type;               /* KEY_TYPE, by_type: the Python type's name
                                 (STATS_NO_OBJECT: blocks of no object) */
    const struct frame *const *frames; /* the key's frames (frames_get owns them) */
    int head;                 /* frames[head] names the group: the allocation site
                                 (KEY_TRACEBACK: C under a Python site comes first) */
    int64_t size, count;
    int64_t alloc_size, alloc_count; /* allocated since the start (total_*) */
    int64_t size_diff, count_diff; /* filled by stats_compare */
    int seen;                 /* stats_compare: matched in the new snapshot */
    int live;                 /* a trace charged to it held something (here or,
                                 after stats_compare, in the older snapshot) */
    int mmap;                 /* its traces are of the mmap kind (kept apart
                                 from malloc ones with the same key) */
    int64_t resident;         /* mmap kind: bytes of its ranges resident at the
                                 snapshot (MAPPED's mincore), summed */
    int residency;            /* 1: every trace charged had it measured (stats_add
                                 with MAPPED); -1: one had not */
    uint64_t stamp;           /* last trace charged (cumulative dedupe) */
    char *thread;             /* KEY_THREAD: stats_thread_label's text */
    struct hsnap_thread thr;  /* ... and its record (index HSNAP_THREAD_NONE: */
                              /* a trace of no one thread) */
};

struct stats;

/* An mmap-kind group holding bytes, none of them resident at the snapshot
 * (MAPPED known for all its traces): address space nothing touched, such
 * as an arena mapped and never used.  top lists it after the others,
 * tagged " [untouched]", so that it is not the program's first line. */
int stats_untouched(const struct stat_entry *e);

/* The bytes a group ranks by in top: an mmap-kind group's resident bytes
 * where MAPPED measured them for all its traces (a 64 MiB mapping with 4
 * MiB touched ranks as 4 MiB), its size otherwise. */
int64_t stats_rank_size(const struct stat_entry *e);

/* An mmap-kind group with some but not all of its bytes resident at the
 * snapshot (measured for all its traces): top shows resident/mapped. */
int stats_partly_resident(const struct stat_entry *e);

#define STATS_NO_OBJECT "[no object]" /* --key type's group of other blocks */

/* A group's key as top prints it: "file.c:12" (lineno, and traceback's
 * site), "file.c:0" (filename), the function, or the module; a frame
 * without a source file shows "[module]" for its file.  With a type:
 * "file.c:12 (dict)"; KEY_TYPE: the type alone ("app.Node"). */
void stats_key(enum stats_key key, const struct stat_entry *e, char *buf, size_t n);

struct stats *stats_new(const struct stats_opts *o);
void stats_free(struct stats *st);

/* Adds every live trace of s. -1 when out of memory. */
int stats_add(struct stats *st, const struct snap *s);

/* stats_add with per-trace values (ntraces of them) in place of s->stats:
 * callers group other quantities by the same keys (leaked blocks of one
 * class, blocks of one age).  Traces whose values are 0 are skipped. */
int stats_add_values(struct stats *st, const struct snap *s, const struct hsnap_stat *values);

/* Mapped traces' resident bytes (ntraces, or NULL: unknown) for the values
 * added next by stats_add_values/stats_add_traces (the peak's, from
 * peak_resident): their groups rank and are tagged by them, as stats_add
 * does with the snapshot's own.  st keeps the pointer until reset to NULL. */
void stats_residency(struct stats *st, const uint64_t *resident);

/* stats_add_values over traces[0..n) of s alone (each once), each with
 * values[its id]: a caller that adds a snapshot's traces in parts. */
int stats_add_traces(struct stats *st, const struct snap *s, const struct hsnap_stat *values,
                     const uint32_t *traces, size_t n);

/* The group trace ti of s is charged to (with the Python type's name, or
 * NULL), made with nothing in it when new; NULL when its frames are
 * filtered out or out of memory.  Not with --cumulative. */
struct stat_entry *stats_group_of(struct stats *st, const struct snap *s, uint32_t ti,
                                  const char *type);

/* stats_add, or with o.leaked, sums the leaked blocks
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

/* stats_sort's first k groups (fewer when st has fewer: *n), without
 * ordering the others; owned by st as stats_sort's.  NULL when out of
 * memory. */
struct stat_entry **stats_top(struct stats *st, int diff, size_t k, size_t *n);

/* statorder.c: the comparison of two groups (pointers to stat_entry
 * pointers) in o's print order, its qsort_r argument in *arg. */
typedef int (*stats_order_fn)(const void *, const void *, void *);
stats_order_fn stats_order(struct stats_opts *o, int diff, void **arg);
/* A frame's printed parts under key: its name (into buf, of KEY_PART_MAX
 * bytes, when it must be built) and line (-1: none to print); stats_key's
 * and the order's. */
#define KEY_PART_MAX 4096 /* a key's name: a demangled C++ function and its module */
const char *stats_key_part(enum stats_key key, const struct frame *f, char *buf, size_t n,
                           int *line);
/* Whether f has no line but a function name, so that --key lineno (and
 * traceback) names it "func (module)" (stats_key_by_function). */
int stats_key_by_function(enum stats_key key, const struct frame *f);

/* statkey.c: thread t's name as top shows it: "NAME [tid N]" (", main"
 * for the main thread's), "[tid N]" without a name, "[other threads]"
 * for the threads past the shim's table, "[no thread]" for t NULL. */
void stats_thread_label(const struct hsnap_thread *t, char *buf, size_t n);
/* Whether thread t is one --thread WHAT names: WHAT all digits, its tid;
 * else an fnmatch pattern of its name.  t NULL: never. */
int stats_thread_kept(const char *what, const struct hsnap_thread *t);

/* The group whose identity is id (stat_entry.id), or NULL. */
struct stat_entry *stats_find(struct stats *st, const char *id);

/* Sorts (Statistic order, or StatisticDiff order when diff; by allocations
 * under --sort allocations/allocated) and prints at most o->limit groups
 * (0 = all): tracemalloc's lines, or under --sort allocations/allocated
 * "KEY: allocations=C, allocated=S, average=A (live: size=S, count=C)". */
int stats_print(struct stats *st, FILE *out, int diff);

/* --failed's largest size as printed: fmt_size's, or "overflow" (INT64_MAX). */
void stats_failed_size(char *buf, size_t n, int64_t size);

/* The options st was made with. */
const struct stats_opts *stats_opts(const struct stats *st);

#endif
