/*
 * serve.h - the fleet agent's room (`heapsnap serve`, docs/fleet.md): the
 * profiled processes of the host found and followed (procs.c), what is
 * served about them over HTTP: Prometheus' exposition (metrics.c), Go's
 * pprof heap profile (heapprof.c), Prometheus' HTTP service discovery
 * (sdtargets.c), and the HTTP server that routes to them (httpd.c).
 * report/commands/serve.c parses the options and opens the socket.
 */
#ifndef REPORT_SERVE_H
#define REPORT_SERVE_H

#include <stddef.h>
#include <stdint.h>
#include <signal.h>
#include <stdio.h>
#include <sys/types.h>

#include "snap.h"
#include "stateread.h"

/* --- procs.c: the processes whose shim keeps a state file ---------------- */

struct proc {
    pid_t pid;
    uint64_t start_ticks;   /* /proc/PID/stat's starttime: the pid's identity */
    uid_t uid;              /* its effective uid, which owns its state file */
    int fd;                 /* its state file, opened once (-1: none) */
    dev_t dev;              /* ... and the mapping it was found by */
    ino_t ino;
    char comm[64];          /* /proc/PID/comm */
    char exe[512];          /* as started: a symlink's name where it is the
                               very file /proc/PID/exe is, else that ("" when
                               unreadable) */
    char service[40];       /* HEAPSNAP_SERVICE from the state's header */
    unsigned seen;          /* the scan that saw it last */
    unsigned checked;       /* the scan that read its maps last */
    dev_t exe_dev;          /* what /proc/PID/exe was then */
    ino_t exe_ino;
    uint64_t limit;         /* its cgroup's memory.max (procs_limit) */
    unsigned limit_scan;    /* the scan that read it (0: not yet) */
    struct psites *sites;   /* its traces' sites, kept by metrics_write (NULL: none) */
};

/* A process looked at and found without a state file of ours: not looked
 * at again for PROCS_RECHECK scans while it is the same image. */
struct pskip {
    pid_t pid;
    uint64_t start_ticks;
    dev_t exe_dev;          /* what /proc/PID/exe is: an exec changes it */
    ino_t exe_ino;
    unsigned checked;       /* the scan that read its maps */
};

/* A process whose state file could not be opened or read: counted while
 * it runs (procs_error). */
struct perr {
    pid_t pid;
    uint64_t start_ticks;
    uint64_t count;         /* its errors so far */
    char comm[64];
    char exe[512];          /* as started (procs_started) */
};

struct procs {
    struct proc *v;
    size_t n, cap;
    struct pskip *skip, *fresh; /* the last scan's, sorted by pid; this scan's */
    size_t nskip, capskip, nfresh, capfresh;
    unsigned scan;          /* scans so far */
    uid_t uid;              /* the user served; (uid_t)-1: every user */
    uint64_t scanned_ns;    /* CLOCK_MONOTONIC of the last scan */
    struct perr *rerr;      /* the running processes with read errors */
    size_t nrerr, caprerr;
    uint64_t loads;         /* state files read whole (procs_load) */
    uint64_t read_bytes;    /* what one whole read may allocate (--read-limit) */
    uint64_t sums;          /* ... and their live sums alone (procs_sums) */
};

/* Which processes the table keeps: uid's, or every user's with
 * (uid_t)-1. */
void procs_init(struct procs *ps, uid_t uid);
void procs_fini(struct procs *ps);

/* /proc read again: processes that mapped a state file (a `.state` mapping
 * whose file holds the magic, owned by the process's user) are added,
 * those that ended or dropped it removed, an exec's new file reopened.
 * Not more than once per min_ms (0: now).  The processes kept. */
size_t procs_scan(struct procs *ps, unsigned min_ms);

/* The process pid in the table, or NULL. */
struct proc *procs_find(struct procs *ps, pid_t pid);

/* Its state read as a snapshot (state_load on its descriptor): 0, or -1
 * with the reason in err (counted against p, logged once: ps->rerr). */
int procs_load(struct procs *ps, const struct proc *p, struct snap *s, struct state_info *info,
               char *err, size_t errlen);

/* Its state's live sums (state_sums_read on its descriptor; the document's
 * counters when its identity is not doc_seen): 0, or -1 with the reason in
 * err (not counted as an error: the caller falls back to procs_load). */
int procs_sums(struct procs *ps, const struct proc *p, uint64_t doc_seen, struct state_sums *sums,
               char *err, size_t errlen);

/* Its resident set in bytes from /proc/PID/statm (0: unreadable), and the
 * memory limit of its cgroup (cgroup v2 memory.max; 0: none). */
uint64_t procs_rss(pid_t pid);
uint64_t procs_limit(pid_t pid);

/* procs_limit of p, read again only every PROCS_RECHECK scans (a limit
 * seldom moves, and costs two opens). */
uint64_t procs_limit_of(const struct procs *ps, struct proc *p);

/* --- metrics.c: Prometheus' text exposition ------------------------------ */

struct serve_stats {
    uint64_t scrapes;       /* /metrics requests answered */
    uint64_t requests;      /* every request */
    uint64_t errors;        /* answers of 4xx or 5xx */
    double last_scrape_s;   /* the last /metrics' time to build */
    uint64_t late;          /* connections closed at their deadline (httpd_run) */
    uint64_t evicted;       /* ... closed for a newer one, their head not in */
};

struct metrics_opts {
    int openmetrics;        /* OpenMetrics 1.0 (counters' _total, # EOF) */
    int top;                /* sites per process (--top) */
    int self;               /* the agent's own figures */
    int procs;              /* the processes' */
};

/* The families of the processes which[0..n) (all when which is NULL, n
 * ignored) into out when o->procs, and the agent's own when o->self. */
void metrics_write(FILE *out, struct procs *ps, const pid_t *which, size_t n,
                   const struct metrics_opts *o, const struct serve_stats *st);

/* p's kept sites released (it ended, or is another image). */
void metrics_forget(struct proc *p);

/* A label value escaped as both formats want it (backslash, quote, new
 * line; bytes that are not UTF-8 as '?'). */
void metrics_label(FILE *out, const char *v);

/* --- heapprof.c: Go's pprof heap profile of one process ----------------- */

enum { HEAPPROF_HEAP, HEAPPROF_ALLOCS };

/* The gzip'd profile of snapshot s (of p) into *buf / *len (malloc'd): the
 * state now, or with base (a load of the same process N seconds before)
 * the change since.  kind: HEAPPROF_HEAP (no default type, as Go's
 * heap) or HEAPPROF_ALLOCS (alloc_space).  0, or -1 with err. */
int heapprof_build(const struct snap *s, const struct snap *base, int kind, uint8_t **buf,
                   size_t *len, char *err, size_t errlen);

/* --- sdtargets.c: Prometheus' HTTP service discovery --------------------- */

/* One target group per process, each targeting addr (host:port: the
 * agent as the client reached it), with an instance label of its own
 * (addr?pid=N), __param_pid (so that the scrape asks for that process
 * alone) and the process's labels as __meta_heapsnap_*. */
void targets_write(FILE *out, const struct procs *ps, const char *addr);

/* --- httpd.c: the server ------------------------------------------------- */

struct serve_cfg {
    int listen_fd;          /* bound and listening */
    int is_unix;
    const char *addr;       /* host:port as /targets names it */
    int top;                /* --top */
    unsigned max_conns;     /* simultaneous connections */
    unsigned timeout_s;     /* an idle connection's bound */
};

#define SERVE_MAX_SECONDS 60 /* ?seconds=N's bound */
#define SERVE_READ_MIB 128 /* --read-limit's default: what one state read may
                              allocate (procs_load), so that the agent's memory
                              is its own bound, not the largest process's */

/* Serves until *stop is set: 0, or -1 with err when the server cannot
 * start. */
int httpd_run(const struct serve_cfg *cfg, struct procs *ps, volatile sig_atomic_t *stop, char *err,
              size_t errlen);

#endif
