/*
 * snapshot.c - the sections of a .hsnap file (grammar in hsnap_format.h)
 * and the order they are gathered in:
 *
 *   header | META | MODULES | TRACES | STATS | BLOCKS? | TIMELINE | LEAKS? |
 *   RETAINERS? | PEAK? | SITELINE? | TEMPS | PYCODE? | SUPPRESSIONS? | FAILED? |
 *   ... | PYGCFREED? | END
 *
 * Without stopping the world: the module map first (the loader lock, no
 * shim lock held), then the blocks, then the traces under the intern lock
 * (every trace a block names exists by then).  BLOCKS and TRACES are never
 * held whole: they go to the file as they are made (snapblocks.c, into
 * the side file; snap_put_traces).  With the leak check, BLOCKS, LEAKS and
 * RETAINERS are leakrun.c's.  snap_take serialises snapshots and checks
 * and advances the birth epoch; with fatal set every lock is tried a
 * bounded number of times: never hang.
 */
#include <errno.h>
#include <fcntl.h>
#include <link.h>
#include <sched.h>
#include <signal.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "leak.h"
#include "pylayout.h"
#include "pyleakref.h"
#include "pyretain.h"
#include "python.h"
#include "pyobjects.h"
#include "pywrap.h"
#include "snapshot.h"

/* A snapshot smaller than this, by estimate, is not compressed: 2048
 * blocks (24 B each in BLOCKS), or 96 traces (a Python stack of 48 frames
 * is about 512 B in TRACES and STATS). */
#define SNAP_ZMIN_BYTES (2048u * 24u)
#define SNAP_TRACE_BYTES 512u
#define SNAP_DOC_KEEP (64u * 1024u) /* a state document's buffers this small are kept */

/* snap_write's phases, timed for HEAPSNAP_VERBOSE: the live blocks (BLOCKS,
 * with the leak check when there is one), the stacks (TRACES, STATS,
 * PEAK, TEMPS, SITELINE), the Python sections (the objects' types, graph
 * and retained sizes), the file (the sections compressed and written). */
enum { SNAP_PH_BLOCKS, SNAP_PH_STACKS, SNAP_PH_PYTHON, SNAP_PH_FILE, SNAP_PHASES };

static struct {
    lock_t lock;              /* one snapshot at a time; guards seq and name */
    _Atomic uint32_t epoch;   /* birth epoch of new blocks */
    uint32_t seq;             /* next %n */
    uint32_t fork_epoch;      /* a fork child's first own epoch (inh_fork_epoch), or 0 */
    atomic_int warned;        /* a write failure was reported */
    int fail_err;             /* errno of this snapshot's failure (snapshot lock) */
    int hold_full;            /* a full disk's warning waits: the write may be tried again */
    char name[NAME_MAX_PATH]; /* the name being written */
    char tmp[NAME_MAX_PATH + 32];
    atomic_int waiters;       /* in snap_lock: a fork's prepare, an API query */
    const struct snap_live *stats_lv; /* STATS' live sums (its sbuf holds the count only) */
    uint64_t phase[SNAP_PHASES + 1];  /* HEAPSNAP_VERBOSE: when snap_write's phases began */
    int exit_written;         /* the exit snapshot is written: the helper's come no more */
} snap;

struct snap_run snap_run; /* snapshot.h; guarded by snap.lock */
const struct snap_host *snap_host; /* snapshot.h; snap_set_host: set once at start-up */

void snap_set_host(const struct snap_host *host)
{
    snap_host = host;
}

/* The lock for a snapshot or a check, after any snap_lock caller: with
 * snapshots requested back to back (a signal every few ms, each snapshot
 * longer than that), a thread in fork's prepare handler could otherwise
 * wait for good, since the helper drops the lock and takes it again
 * before a yielding waiter runs. */
void snap_take_lock(void)
{
    for (unsigned spins = 0; atomic_load_explicit(&snap.waiters, memory_order_relaxed); spins++)
        lock_wait(NULL, spins + 65);
    lock_take(&snap.lock);
}

/* ---------------- META ---------------- */

/* str := u32 len, bytes.  cmdline: NULs between arguments become spaces. */
static void snap_put_strings(struct sbuf *b)
{
    struct sbuf cmd = {0};
    char exe[NAME_MAX_PATH];
    sbuf_file(&cmd, "/proc/self/cmdline");
    while (cmd.len && !cmd.p[cmd.len - 1])
        cmd.len--;
    for (size_t i = 0; i < cmd.len; i++)
        if (!cmd.p[i])
            cmd.p[i] = ' ';
    sbuf_u32(b, (uint32_t)cmd.len);
    sbuf_put(b, cmd.p, cmd.len);
    sbuf_free(&cmd);
    size_t n = name_exe(exe, sizeof exe);
    sbuf_u32(b, (uint32_t)n);
    sbuf_put(b, exe, n);
}

static void snap_meta(struct sbuf *b, unsigned reason, uint32_t seq, uint64_t blocks,
                      uint32_t flags, uint64_t shim_bytes)
{
    struct hsnap_meta m = {0};
    m.pid = (uint32_t)getpid();
    m.ppid = (uint32_t)getppid();
    m.time_ns = clock_now_ns();
    m.start_ns = clock_start_ns();
    m.reason = reason;
    m.seq = seq;
    m.depth = (uint32_t)opt_int(OPT_DEPTH);
    m.epoch = snap_epoch();
    m.sample_interval = (uint64_t)opt_int(OPT_SAMPLE);
    trace_totals(&m.current_bytes, &m.peak_bytes);
    m.live_blocks = blocks;
    trace_alloc_counts(&m.total_allocs, &m.total_frees);
    /* blocks other threads hold back (pend_hold) are freed: the walk left
     * them out, and the sums count them so */
    m.current_bytes -= m.current_bytes > snap_run.left.bytes ? snap_run.left.bytes : m.current_bytes;
    /* a fork child's inherited blocks, summed apart (INHERITED): as freed */
    m.current_bytes -= m.current_bytes > inh_bytes() ? inh_bytes() : m.current_bytes;
    m.total_frees += inh_blocks();
    m.total_frees += snap_run.left.blocks;
    m.foreign_frees = atomic_load(&trace_counters.foreign_frees);
    m.shim_bytes = shim_bytes;
    m.flags = (degrade_is_on() ? HSNAP_META_DEGRADED : 0) |
              (clock_is_late() ? HSNAP_META_ATTACHED : 0) |
              flags;
    m.file_maps = reg_file_maps();
    sbuf_put(b, &m, sizeof m);
    snap_put_strings(b);
}

/* ---------------- TRACES, STATS, TIMELINE ---------------- */

static int snap_live_block(const struct tbl_entry *e, void *arg)
{
    struct snap_live *lv = arg;
    if (inh_skip(e, 1))
        return 0;
    trace_live_add(lv->live, lv->n, e->trace, e->size);
    return 0;
}

int snap_live_init(struct snap_live *lv, uint32_t n)
{
    lv->n = n;
    lv->len = (size_t)n * sizeof *lv->live;
    lv->map = NULL;
    /* left lazy (not trace_live_ready): a snapshot, the exit's above all,
     * is often the process's peak, and live blocks crowd into some of the
     * traces: populated, torchtrain.py's `run --leaks` peaked 9 MiB higher */
    return !n || (lv->live = arena_map(lv->len)) ? 0 : -1;
}

/* META's live blocks: the live counts STATS gives the traces of lv
 * (trace_read_stat's rounding), summed - the blocks and the mapped ranges
 * the sums hold, with sampled weights too - so that a walk (snap_write),
 * the lines (snap_state_doc) and the readers of a state file, who sum its
 * STATS (st_patch, /metrics), give one number, and allocations less frees
 * are it (trace_recut).  BLOCKS' own count is the malloc blocks recorded. */
static uint64_t snap_live_blocks(const struct snap_live *lv)
{
    uint64_t blocks = 0, half = 1u << 15;
    for (uint32_t id = 0; id < lv->n; id++)
        blocks += (lv->live[id].count + half) >> 16;
    return blocks;
}

/* The live sums' array given back (lv unmade, or made: either). */
void snap_live_drop(struct snap_live *lv)
{
    arena_unmap(lv->map ? lv->map : lv->live, lv->len);
    *lv = (struct snap_live){0};
}

/* The mapped ranges (reg_foreach: never in BLOCKS) into the live sums. */
static void snap_live_range(uint32_t trace, uint64_t bytes, void *arg)
{
    struct snap_live *lv = arg;
    trace_live_add(lv->live, lv->n, trace, bytes);
}

/* Without BLOCKS: the sums from a walk of the table. */
static int snap_live(struct snap_live *lv, int fatal)
{
    if (snap_live_init(lv, trace_count()) != 0)
        return -1;
    if (!lv->n)
        return 0;
    int r = pend_foreach(snap_live_block, lv, fatal ? SNAP_FATAL_TRIES : 0, &snap_run.left);
    return r < 0 ? -1 : 0;
}

/* The counts of STATS and TRACES: TRACES' frames, some MiB for a Python
 * program's stacks, go straight from the tree into the file
 * (snap_put_traces, which counts their length then, with no lock: a
 * trace's frames never change); STATS too, from lv (kept till then) and
 * the records' totals (snap_put_stats): 16 bytes a trace held instead of
 * 32.  FAILED (fl) under the same lock, for the same traces. */
static int snap_traces(struct sbuf *tr, struct sbuf *st, struct sbuf *fl,
                       const struct snap_live *lv, int fatal, uint32_t limit, uint32_t *count)
{
    if (fatal ? !trace_lock_bounded(SNAP_FATAL_TRIES) : (trace_lock(), 0))
        return -1;
    uint32_t n = trace_count();
    if (n > limit)
        n = limit;
    sbuf_u32(tr, n);
    sbuf_u32(st, n);
    snap.stats_lv = lv;
    trace_fail_put(fl, n);
    trace_unlock();
    *count = n;
    if (fl->err) /* out of memory: a snapshot without FAILED */
        sbuf_free(fl);
    return tr->err || st->err ? -1 : 0;
}

/* SITELINE: sl_sample's points and one of this snapshot, whose trace ids
 * are within the TRACES just written. */
static int snap_siteline(struct sbuf *sec, const struct snap_live *lv, int fatal)
{
    uint32_t ntraces;
    memcpy(&ntraces, sec[SEC_TRACES].p, sizeof ntraces);
    if (!fatal && !snap_run.lines) /* a state document's sums are the lines already */
        sl_check(lv->live, lv->n);
    return sl_put(&sec[SEC_SITELINE], &sec[SEC_MAPLINE], lv->live, lv->n, ntraces, fatal);
}

static int snap_timeline(struct sbuf *b, int fatal)
{
    if (fatal ? !timeline_lock_bounded(SNAP_FATAL_TRIES) : (timeline_lock(), 0))
        return -1;
    unsigned n = timeline_copy(NULL, 0);
    if (sbuf_reserve(b, 4 + (size_t)n * sizeof(struct hsnap_point)) == 0) {
        sbuf_u32(b, n);
        timeline_copy((struct hsnap_point *)(b->p + 4), n);
        b->len += (size_t)n * sizeof(struct hsnap_point);
    }
    timeline_unlock();
    return b->err ? -1 : 0;
}

static const uint32_t snap_types[SEC_N] = {HSNAP_SEC_META,     HSNAP_SEC_MODULES,
                                           HSNAP_SEC_TRACES,   HSNAP_SEC_STATS,
                                           HSNAP_SEC_BLOCKS,   HSNAP_SEC_TIMELINE,
                                           HSNAP_SEC_LEAKS,    HSNAP_SEC_RETAINERS,
                                           HSNAP_SEC_PEAK,     HSNAP_SEC_SITELINE,
                                           HSNAP_SEC_TEMPS,    HSNAP_SEC_PYCODE,
                                           HSNAP_SEC_SUPPRESSIONS, HSNAP_SEC_FAILED,
                                           HSNAP_SEC_UNLOADED, HSNAP_SEC_STATE,
                                           HSNAP_SEC_MAPLINE,  HSNAP_SEC_PYTYPES,
                                           HSNAP_SEC_PYOWNED, HSNAP_SEC_PYRETAIN,
                                           HSNAP_SEC_PYGCFREED, HSNAP_SEC_PYCAPPED,
                                           HSNAP_SEC_PYUNREAD, HSNAP_SEC_MAPPED,
                                           HSNAP_SEC_THREADS, HSNAP_SEC_HOLDERS,
                                           HSNAP_SEC_INHERITED};

/* PYGCFREED, for the traces TRACES has. */
static void snap_gcfreed(struct sbuf *sec)
{
    uint32_t n = 0;
    if (sec[SEC_TRACES].len >= 4)
        memcpy(&n, sec[SEC_TRACES].p, 4);
    pyw_gcf_put(&sec[SEC_PYGCFREED], n);
    if (sec[SEC_PYGCFREED].err) /* out of memory: a snapshot without it */
        sbuf_free(&sec[SEC_PYGCFREED]);
}

/* PEAK streamed into the side file as peak_write reads the capture: the
 * head as it is, then the items in planes (side_sink_*). */
static void snap_peak_end(void *arg)
{
    side_sec_end(arg, HSNAP_SEC_PEAK, NULL, 0); /* its error: the caller's look */
}

/* PEAK and TEMPS (peak_put, snap_temps): the capture, or these live sums
 * if nearer the peak; the temporary counts of the traces STATS has.  No
 * PEAK when off.  side: PEAK's section written there now, from the
 * capture (peak_write), not held in sec (NULL: a state document, the
 * fatal path, a snapshot without a side file). */
static int snap_peak(struct sbuf *sec, const struct snap_live *lv, int fatal,
                     struct side_file *side)
{
    uint32_t n = 0;
    if (sec[SEC_STATS].len >= 4)
        memcpy(&n, sec[SEC_STATS].p, 4);
    /* a state document's sums are the lines' (held frees in): peak_put
     * looks at those itself, less the held bytes */
    const struct trace_live *live = snap_run.lines ? NULL : lv->live;
    unsigned tries = fatal ? SNAP_FATAL_TRIES : 0;
    if (side) {
        const struct sec_sink s = {side_sink_planes, side_sink_run, side_sink_put, snap_peak_end,
                                   side};
        (void)peak_write(&s, live, lv->n, n, tries, snap_run.left.bytes);
    } else if (peak_put(&sec[SEC_PEAK], live, lv->n, n, tries, snap_run.left.bytes) != 0) {
        sbuf_free(&sec[SEC_PEAK]);
    }
    return snap_temps(&sec[SEC_TEMPS], n);
}

/* Whether section i is written: from a side file, or its sbuf (BLOCKS
 * only from the side file; LEAKS and RETAINERS only when the model ran). */
static int snap_sec_present(const struct sbuf *sec, int i, const struct side_index *sd)
{
    uint32_t t = snap_types[i];
    if (sd[0].len[t] || sd[1].len[t])
        return 1;
    return !(i == SEC_BLOCKS || (i >= SEC_LEAKS && !sec[i].len));
}

/* The sections, then END, then the header again with the file's size
 * (known once the sections are: they are compressed as written), a
 * section made in a side file (side[0]; side[1]: the second thread's,
 * snap_apart_start) copied from there.  Without compression the file is
 * format 2, which readers older than format 3 take. */
static int snap_emit(int fd, struct sbuf *sec, const int side[2], int level)
{
    struct hsnap_header h = {HSNAP_MAGIC, level ? HSNAP_VERSION : 2, sizeof h, 0};
    struct hsnap_section end = {HSNAP_SEC_END, 0, 0};
    struct side_file f = {.fd = fd, .level = level};
    struct side_index sd[2];
    if (side_index(side[0], &sd[0]) != 0 || side_index(side[1], &sd[1]) != 0 ||
        sbuf_write_all(fd, &h, sizeof h) != 0)
        return -1;
    for (int i = 0; i < SEC_N && !f.err; i++) {
        uint32_t t = snap_types[i];
        if (!snap_sec_present(sec, i, sd))
            continue;
        int k = sd[0].len[t] ? 0 : 1;
        if (sd[k].len[t]) {
            if (side_copy(fd, side[k], sd[k].at[t], sd[k].len[t]) != 0)
                return -1;
        } else if (i == SEC_TRACES) {
            if (sec[i].len) /* none: the state file's document (snap_state_doc) */
                snap_put_traces(&f, &sec[i]);
        } else if (i == SEC_STATS) {
            snap_put_stats(&f, &sec[i], snap.stats_lv);
        } else if (i == SEC_TEMPS) {
            snap_put_temps(&f, &sec[i]);
        } else if (i == SEC_THREADS) {
            snap_put_threads(&f, &sec[i]);
        } else {
            f.level = i == SEC_META ? 0 : level; /* META: read first, kept plain */
            side_sec_whole(&f, t, sec[i].p, sec[i].len);
        }
    }
    if (f.err) {
        errno = f.err;
        return -1;
    }
    off_t size = lseek(fd, 0, SEEK_CUR);
    if (size < 0 || sbuf_write_all(fd, &end, sizeof end) != 0)
        return -1;
    h.file_size = (uint64_t)size + sizeof end;
    return pwrite(fd, &h, sizeof h, 0) == (ssize_t)sizeof h ? 0 : -1;
}

/* "cannot write PATH: desc" once: desc, else err's description. */
static void snap_warn_why(const char *path, int err, const char *desc)
{
    snap.fail_err = err ? err : ENOMEM; /* for heapsnap run (name_manifest) */
    if ((snap.hold_full && (err == ENOSPC || err == EDQUOT)) || atomic_exchange(&snap.warned, 1) != 0)
        return;
    char why[96] = ": ";
    if (!desc && err == EFBIG)
        desc = "the file size limit (RLIMIT_FSIZE, ulimit -f) is reached";
    if (!desc)
        desc = err ? strerrordesc_np(err) : "a step of the snapshot failed";
    strncat(why, desc ? desc : "unknown error", sizeof why - 3);
    opt_warn("cannot write ", path, why);
}

static void snap_warn_failure(const char *path, int err)
{
    snap_warn_why(path, err, NULL);
}

/* A device, FIFO or socket at path (dest_kind's kind): written in place
 * from a scratch file the snapshot is made in; 0 or -1 (warned). */
static int snap_to_stream(const char *path, int kind, struct sbuf *sec, const int side[2],
                          int level)
{
    const char *why = NULL;
    int fd = dest_scratch(), err = 0;
    if (fd < 0 || snap_emit(fd, sec, side, level) != 0 || dest_write(path, kind, fd, &why) != 0)
        err = errno ? errno : EIO;
    if (fd >= 0)
        close(fd);
    if (err)
        snap_warn_why(path, err, why);
    return err ? -1 : 0;
}

/* Writes everything to path via a temporary file (name_open_tmp), or in
 * place where path is a device or FIFO (snap_to_stream); 0 or -1
 * (warned). */
static int snap_to_file(char *path, struct sbuf *sec, const int side[2], int level)
{
    const char *why = NULL;
    int kind = dest_kind(path, &why);
    if (kind < 0) {
        snap_warn_why(path, 0, why);
        return -1;
    }
    if (kind != DEST_RENAME)
        return snap_to_stream(path, kind, sec, side, level);
    char *t = snap.tmp;
    int fd = name_open_tmp(t, path), err = 0;
    if (fd < 0) {
        snap_warn_failure(path, errno);
        return -1;
    }
    if (fchmod(fd, name_mode()) != 0 || snap_emit(fd, sec, side, level) != 0)
        err = errno ? errno : EIO;
    if (close(fd) != 0 && !err)
        err = errno;
    if (!err && name_commit(t, path) != 0)
        err = errno;
    if (err) {
        unlink(t);
        snap_warn_failure(path, err);
        return -1;
    }
    return 0;
}

/* HEAPSNAP_COMPRESS's level for a snapshot of about blocks live blocks and
 * traces traces, or 0 (plain, format 2) when the file would be small
 * anyway: under SNAP_ZMIN_BYTES the bytes compression saves are a few KiB,
 * and the compressor's code and context, once touched, add to the
 * process's peak RSS more than they save (docs/performance.md).  By size,
 * not blocks alone: a Python program's exit leaves few blocks and tens of
 * thousands of long stacks. */
static int snap_level(uint64_t blocks, uint64_t traces)
{
    return blocks * 24 + traces * SNAP_TRACE_BYTES < SNAP_ZMIN_BYTES ? 0 : zsec_level();
}

/* The snapshot's first step: what the program no longer needs handed to
 * the snapshot's buffers (a table sized for a peak long gone; at exit,
 * the frames' and traces' indexes), this run's counts reset, MODULES,
 * GONE and MAPPED put.  The shim's memory as the program had it (not this
 * snapshot's own buffers). */
static uint64_t snap_begin(struct sbuf *sec, unsigned reason, int fatal, int has_blocks,
                           uint64_t blocks)
{
    if (!fatal)
        tbl_shrink(); /* a table sized for a peak long gone: its pages serve the buffers */
    if (reason == HSNAP_REASON_EXIT && !fatal) { /* so do the frames' index's */
        sl_end(1); /* and the helper's points: this one takes its own */
        trace_lock();
        ftree_index_drop();
        trace_index_drop();
        trace_unlock();
    }
    uint64_t shim_bytes = arena_mapped();
    snap_run.left = (struct pend_left){0, 0};
    snap_run.lines = 0;
    snap_run.leaks_skipped = 0;
    snap_run.pytyped = 0;
    snap_run.pytypes = has_blocks && !fatal && blocks <= (uint64_t)opt_int(OPT_PYTHON_OBJECTS)
                           ? &sec[SEC_PYTYPES]
                           : NULL; /* typed as BLOCKS streams, if it does */
    snap_run.pytypes_early = reason == HSNAP_REASON_EXIT;
    mod_section(&sec[SEC_MODULES], &sec[SEC_GONE]);
    /* before the leak check, whose scan of the mapped ranges (roots) would
     * make every page of them resident */
    if (!fatal && snap_mapped(&sec[SEC_MAPPED], trace_count()) != 0)
        sbuf_free(&sec[SEC_MAPPED]); /* out of memory: a snapshot without it */
    if (!fatal) /* before 3.13, reused objects at tracemalloc's lines (pyw_tml_pass) */
        pyw_tml_pass();
    return shim_bytes;
}

/* The stacks and what is summed by them, after the live sums lv: TRACES,
 * STATS and FAILED, THREADS, the peak's TEMPS, SITELINE and TIMELINE.  0,
 * or -1 with *what naming the step that failed. */
static int snap_stacks(struct sbuf *sec, struct snap_live *lv, int fatal,
                       struct side_file *side, const char **what)
{
    uint32_t ntraces = 0;
    if (snap_traces(&sec[SEC_TRACES], &sec[SEC_STATS], &sec[SEC_FAILED], lv, fatal, UINT32_MAX,
                    &ntraces) != 0) {
        *what = "the stacks (TRACES, STATS) could not be listed";
        return -1;
    }
    if (snap_threads(&sec[SEC_THREADS], ntraces, !fatal) != 0)
        sbuf_free(&sec[SEC_THREADS]); /* out of memory: a snapshot without it */
    if (snap_peak(sec, lv, fatal, side->fd >= 0 && !fatal && !side->err ? side : NULL) != 0) {
        *what = "the peak's temporaries (TEMPS) could not be listed";
        return -1;
    }
    if (snap_siteline(sec, lv, fatal) != 0) {
        *what = "the sites' series (SITELINE) could not be made";
        return -1;
    }
    if (!side->err && snap_timeline(&sec[SEC_TIMELINE], fatal) != 0) {
        *what = "the timeline (TIMELINE) could not be copied";
        return -1;
    }
    return 0;
}

/* STATS and TEMPS into the side file now (PEAK went there as it was
 * read: snap_peak), and what they were made from let go: the live sums by
 * trace and TEMPS' buffer.  The Python sections' passes that follow need
 * none of them, and their own tables (a big heap's objects) came on top
 * of them at the process's peak (docs/performance-python.md, "What the
 * exit snapshot holds at once").  The file takes the sections from the
 * side file where it has them (snap_emit).  The totals STATS reads are read
 * here, before the Python passes, not after them.  0, or -1 (the side
 * file could not take them). */
static int snap_stacks_out(struct sbuf *sec, struct side_file *side, struct snap_live *lv)
{
    snap_put_stats(side, &sec[SEC_STATS], lv);
    if (sec[SEC_TEMPS].len)
        snap_put_temps(side, &sec[SEC_TEMPS]);
    zsec_release();
    if (side->err)
        return -1;
    sbuf_free(&sec[SEC_TEMPS]);
    snap.stats_lv = NULL;
    snap_live_drop(lv);
    return 0;
}

/* Whether the Python objects' sections are made: under the objects' cap. */
static int snap_objects_wanted(int has_blocks, int fatal, uint64_t blocks)
{
    return has_blocks && !fatal && blocks <= (uint64_t)opt_int(OPT_PYTHON_OBJECTS);
}

/* PYTYPES, PYOWNED and PYRETAIN, made into side (snap_pytypes); 0, or -1
 * when the side file could not take them. */
static int snap_objects(struct sbuf *sec, struct side_file *side, int leaks)
{
    pyr_retain_refs(leaks);
    int typed = snap_pytypes(side, &sec[SEC_PYTYPES], &sec[SEC_PYOWNED]);
    pyr_retain_put(typed ? &sec[SEC_PYRETAIN] : NULL);
    return side->err ? -1 : 0;
}

/* The CPUs this thread may run on (its affinity mask): auto's second
 * thread only where two may run at once, else it only takes turns. */
static int snap_cpus(void)
{
    cpu_set_t set;
    return sched_getaffinity(0, sizeof set, &set) == 0 ? CPU_COUNT(&set) : 1;
}

/* The Python objects' sections on a second thread (snap_host's job: the
 * root's helper_job), into a side file of their own, while this one makes
 * the stacks' sections: those passes (the objects' graph, owners and
 * retained sizes) were half of a big Python process's exit snapshot, on
 * one core (docs/performance-python.md, "The objects' sections beside the
 * stacks'").  Only where the objects are typed already (as BLOCKS
 * streamed, or on the parent while the leak check's fork ran): a typing
 * pass of their own would walk the table beside the stacks' sums
 * (test_python_typed_early).  Nothing the two threads write
 * is shared: the objects' passes own the Python room's tables and page
 * cache (handed over: py_types_hand_off), snap_run's typing and BLOCKS'
 * list, their sbufs and side file; the stacks' own the live sums and the
 * rest.  The memory the stacks' sections hold (the live sums, STATS and
 * TEMPS until written) is then held beside the objects' tables. */
#define SNAP_APART_BLOCKS 32768u /* HEAPSNAP_PYTHON_OBJECTS_THREAD=auto: at least */

struct snap_apart {
    struct sbuf *sec;
    struct side_file side;
    int leaks, rc, on;
};

static void snap_apart_run(void *arg)
{
    struct snap_apart *a = arg;
    py_types_take_on();
    a->rc = snap_objects(a->sec, &a->side, a->leaks);
    zsec_release(); /* this thread's compressor */
}

/* a started when the objects' sections are wanted, BLOCKS went to the
 * side file and HEAPSNAP_PYTHON_OBJECTS_THREAD says so (opt_auto's
 * choice); 1, or 0: snap_python makes them in turn. */
static int snap_apart_start(struct snap_apart *a, struct sbuf *sec, const struct side_file *side,
                            const char *path, int has_blocks, int fatal, int leaks,
                            uint64_t blocks)
{
    int v = opt_auto(OPT_OBJECTS_THREAD);
    *a = (struct snap_apart){sec, {.fd = -1, .level = side->level}, leaks, 0, 0};
    if (side->fd < 0 || side->err || !snap_objects_wanted(has_blocks, fatal, blocks) ||
        (v >= 0 ? !v : blocks < SNAP_APART_BLOCKS || snap_cpus() < 2) || !snap_run.pytyped ||
        (a->side.fd = name_open_side(path)) < 0)
        return 0;
    a->on = 1;
    py_types_hand_off(); /* the objects' reads are the second thread's now */
    if (snap_host->job(snap_apart_run, a))
        opt_debug("python: the objects' sections made on a second thread", "", "");
    return 1;
}

/* The second thread's end waited for: 0, or -1 with its side file's
 * error in side's (the snapshot's warning names it). */
static int snap_apart_join(struct snap_apart *a, struct side_file *side)
{
    if (!a->on)
        return 0;
    snap_host->job_wait();
    if (a->rc == 0 && !a->side.err)
        return 0;
    if (!side->err)
        side->err = a->side.err ? a->side.err : EIO;
    return -1;
}

/* The Python sections, after TRACES (PYCODE holds every code object they
 * name): PYCODE, the collector's freed objects, PYUNREAD, and under the
 * objects' cap PYTYPES, PYOWNED and PYRETAIN (over it, PYCAPPED says so)
 * unless the second thread makes them (apart).  0, or -1 when the side file
 * could not take the objects. */
static int snap_python(struct sbuf *sec, struct side_file *side, int has_blocks, int fatal,
                       int leaks, uint64_t blocks, int apart)
{
    pyfr_put_codes(&sec[SEC_PYCODE], fatal);
    snap_gcfreed(sec);
    pylay_unread_put(&sec[SEC_PYUNREAD]); /* a CPython found, native frames only */
    if (apart)
        return 0;
    if (snap_objects_wanted(has_blocks, fatal, blocks))
        return snap_objects(sec, side, leaks); /* -1: nothing more */
    if (snap_run.pytyped) { /* more blocks than the estimate: none */
        py_types_drop(&sec[SEC_PYTYPES]);
        snap_run.pytyped = 0;
    }
    if (has_blocks && !fatal) /* over the cap: said, not silent */
        snap_pycapped(&sec[SEC_PYCAPPED], blocks);
    return 0;
}

/* What a snapshot's making holds past its sections, let go: the objects
 * typed as BLOCKS streamed (PYTYPES), the list of what was written, the
 * compressor and the live sums (after STATS: snap_put_stats).  At the end
 * of snap_write, and where BLOCKS is given up (snap_blocks_given_up). */
static void snap_let_go(struct sbuf *sec, struct snap_live *lv)
{
    if (snap_run.pytyped)
        py_types_drop(&sec[SEC_PYTYPES]);
    snap_run.pytyped = 0;
    snap_written_drop();
    zsec_release();
    snap_live_drop(lv);
}

/* BLOCKS could not be gathered (out of memory: a program at its
 * address-space limit leaves the shim none), on a path that is not the
 * fatal one: what the try left goes (the side file, the live sums, the
 * objects typed), and the snapshot is made as without BLOCKS (the sums from
 * a walk of the table), said once, rather than none: the sites and the
 * peak are what the program's user came for.  0, or -1 when that walk
 * fails too. */
static int snap_blocks_given_up(struct side_file *side, struct sbuf *sec, struct snap_live *lv,
                                int *leaks, int *has_blocks)
{
    side_abandon(side);
    snap_let_go(sec, lv);
    if (*leaks)
        snap_run.leaks_skipped = SNAP_SKIP_FAILED;
    *leaks = 0;
    *has_blocks = 0;
    if (snap_live(lv, 0) != 0)
        return -1;
    opt_warn("out of memory for the live blocks (BLOCKS): this snapshot has the sites and the "
             "peak without them (no block list, no leak check)", "", "");
    return 0;
}

/* Writes one snapshot to path, with the leak check when leaks is set; 0
 * or -1 (warned once).  Call with the snapshot lock held and guard_on
 * set. */
static int snap_write(char *path, unsigned reason, uint32_t seq, int fatal, int leaks,
                      unsigned flags)
{
    struct sbuf sec[SEC_N] = {{0}};
    struct snap_live lv = {0};
    struct snap_apart ap = {.side = {.fd = -1}}; /* the objects' thread, if any */
    int has_blocks = opt_int(OPT_BLOCKS) != 0 || leaks, ret = -1, r;
    const char *what = "a step of the snapshot failed"; /* the warning's, when no errno says */
    uint64_t blocks = pend_live_count();
    struct side_file side = {.fd = -1, .level = snap_level(blocks, trace_count())};
    inh_begin(leaks, snap.fork_epoch); /* a fork child sums what it inherited apart */
    uint64_t shim_bytes = snap_begin(sec, reason, fatal, has_blocks, blocks);
    if (has_blocks && (side.fd = name_open_side(path)) < 0) {
        snap_warn_failure(path, errno);
        return -1;
    }
    memset(snap.phase, 0, sizeof snap.phase);
    snap.phase[SNAP_PH_BLOCKS] = clock_mono_ns();
    r = has_blocks ? snap_put_blocks(&side, sec, reason, fatal, &leaks, &lv, &blocks)
                   : snap_live(&lv, fatal);
    if (r != 0 && has_blocks && !fatal && !side.err)
        r = snap_blocks_given_up(&side, sec, &lv, &leaks, &has_blocks);
    if (r != 0)
        what = has_blocks ? "the live blocks (BLOCKS) could not be gathered"
                          : "the live sums (a walk of the table) could not be made";
    snap_run.pytypes = NULL;
    zsec_release(); /* BLOCKS' compressor is not held through the Python sections */
    if (!leaks) {
        sec[SEC_LEAKS].len = sec[SEC_RETAINERS].len = sec[SEC_HOLDERS].len = 0;
    } else {
        size_t n;
        const char *supp = snap_host->suppressions(&n);
        if (n)
            sbuf_put(&sec[SEC_SUPP], supp, n);
    }
    if (r == 0 && lv.n) /* the fatal path may leave them out: never hang */
        reg_foreach(snap_live_range, &lv, fatal ? SNAP_FATAL_TRIES : 0);
    if (r == 0 && side.err)
        r = -1; /* the side file could not be written (a full disk): nothing more */
    if (r == 0 && !fatal) /* THREADS' names: read before the objects' reads go apart */
        py_thread_names();
    /* joined below before any way out */
    int apart = r == 0 && snap_apart_start(&ap, sec, &side, path, has_blocks, fatal, leaks, blocks);
    snap.phase[SNAP_PH_STACKS] = clock_mono_ns();
    if (r == 0)
        r = snap_stacks(sec, &lv, fatal, &side, &what);
    uint64_t live_blocks = r == 0 ? snap_live_blocks(&lv) : 0; /* lv may be unmade */
    if (r == 0 && side.fd >= 0 && !fatal && snap_stacks_out(sec, &side, &lv) != 0)
        r = -1; /* side.err says why */
    snap.phase[SNAP_PH_PYTHON] = clock_mono_ns();
    if (r == 0 && !side.err &&
        snap_python(sec, &side, has_blocks, fatal, leaks, blocks, apart) != 0)
        r = -1;
    if (apart && r == 0 && !side.err) /* TRACES' frames compressed beside the objects' */
        snap_put_traces(&side, &sec[SEC_TRACES]);
    if (snap_apart_join(&ap, &side) != 0 || r != 0 || side.err)
        goto out;
    snap.phase[SNAP_PH_FILE] = clock_mono_ns();
    pyl_lc_drop(); /* the check's classes, when no scan heard them */
    stop_kept_drop(); /* the stopped threads' registers: heard, or too old now */
    snap_host->state_use(&sec[SEC_STATE]);
    inh_put(&sec[SEC_INHERITED]);
    snap_meta(&sec[SEC_META], reason, seq, live_blocks,
              flags | (has_blocks ? HSNAP_META_HAS_BLOCKS : 0) |
                  (leaks ? HSNAP_META_HAS_LEAKS : 0) |
                  (snap_run.leaks_skipped ? HSNAP_META_LEAKS_SKIPPED : 0) |
                  (snap_run.leaks_skipped == SNAP_SKIP_FAILED ? HSNAP_META_LEAKS_FAILED : 0) |
                  (reason == HSNAP_REASON_FATAL && fatal > 1 && fatal < 128
                       ? (uint32_t)fatal << HSNAP_META_SIG_SHIFT : 0),
              shim_bytes);
    for (int i = 0; i < SEC_N; i++)
        if (sec[i].err) {
            what = "out of memory for a section's buffer";
            goto out;
        }
    ret = snap_to_file(path, sec, (const int[2]){side.fd, ap.side.fd}, side.level) == 0 ? 0 : -2;
    snap.phase[SNAP_PHASES] = clock_mono_ns();
out:
    inh_begin(1, 0); /* other walks (a query, a check without a file) see every block */
    snap_let_go(sec, &lv);
    snap.stats_lv = NULL;
    if (ret == -1) /* what failed, named: a step without errno says what it was */
        snap_warn_why(path, side.err, side.err ? NULL : what);
    if (side.fd >= 0)
        close(side.fd);
    if (ap.side.fd >= 0)
        close(ap.side.fd);
    for (int i = 0; i < SEC_N; i++)
        sbuf_free(&sec[i]);
    return ret == 0 ? 0 : -1;
}

/* snap_write to snap.name; the last snapshot (exit, a fatal signal, a
 * detach), when the disk is full, is written again once the state file's
 * blocks are given back (the file goes at a clean end anyway, and on a
 * small disk it can be what leaves no room).  Call as snap_write. */
static int snap_write_last(unsigned reason, uint32_t seq, int fatal, int leaks, unsigned why)
{
    int last = reason == HSNAP_REASON_EXIT || reason == HSNAP_REASON_FATAL ||
               reason == HSNAP_REASON_DETACH;
    snap.hold_full = last;
    int ret = snap_write(snap.name, reason, seq, fatal, leaks, why);
    snap.hold_full = 0;
    if (ret == 0 || !last || (snap.fail_err != ENOSPC && snap.fail_err != EDQUOT))
        return ret;
    int err = snap.fail_err;
    if (snap_host->state_yield() != 0) {
        snap_warn_failure(snap.name, err); /* the warning held */
        return ret;
    }
    snap.fail_err = 0;
    opt_debug("the disk is full: the state file gave its room to ", snap.name, "");
    return snap_write(snap.name, reason, seq, fatal, leaks, why);
}

/* HEAPSNAP_VERBOSE: "snapshot: milliseconds: blocks 2742, stacks 170,
 * python 293, file 138" (each phase's, to the next's start). */
static void snap_note_phases(void)
{
    static const char *const name[SNAP_PHASES] = {"blocks", "stacks", "python", "file"};
    char line[128];
    opt_fmt_phases(line, sizeof line, name, snap.phase, SNAP_PHASES);
    opt_debug("snapshot: milliseconds: ", line, "");
}

/* Takes one snapshot: to path, or to HEAPSNAP_OUTPUT's expansion when path
 * is NULL.  Serialised with every other snapshot; advances the epoch.
 * SIGXFSZ is held meanwhile (sighold_take): past RLIMIT_FSIZE the write
 * fails with EFBIG, its temporary goes, and one warning says so. */
int snap_take_found(unsigned reason, const char *path, int fatal, int64_t *found)
{
    int saved_errno = errno, ret;
    if (cred_secure()) /* an API call under AT_SECURE: nothing is written */
        return -1;
    if (!snap_host || !snap_host->own_process())
        return -1; /* its tables may be half changed by threads it does not have */
    if (!guard_on && !fatal)
        pend_settle(); /* this thread's held frees came before the snapshot */
    unsigned why;
    int leaks = snap_host->leak_wanted(reason, fatal, &why);
    if (leaks)
        snap_host->read_suppressions(); /* the program's code: before any lock */
    int saved_guard = guard_enter();
    if (fatal ? !lock_take_bounded(&snap.lock, SNAP_FATAL_TRIES) : (snap_take_lock(), 0)) {
        guard_leave(saved_guard);
        snap_warn_why("the snapshot at the signal", 0, "another snapshot held its lock");
        return -1;
    }
    /* an interval or HEAPSNAP_SIGNAL snapshot that waited for the lock while
     * the exit one was written: the teardown that follows has no tables
     * left to write from (life_exit_early), and a series would end with it */
    if (snap.exit_written && (reason == HSNAP_REASON_INTERVAL || reason == HSNAP_REASON_SIGNAL)) {
        lock_drop(&snap.lock);
        guard_leave(saved_guard);
        return -1;
    }
    uint32_t seq = snap.seq++;
    struct sighold fsz; /* a file size limit fails the write, never the host */
    sighold_take(&fsz, SIGXFSZ);
    name_choose(snap.name, path, reason, seq);
    snap_run.unreachable = -1;
    snap.fail_err = 0;
    uint64_t t0 = clock_mono_ns();
    ret = snap_write_last(reason, seq, fatal, leaks, why);
    uint64_t t1 = clock_mono_ns();
    if (found)
        *found = snap_run.unreachable;
    name_manifest(snap.name, ret == 0 ? 0 : snap.fail_err ? snap.fail_err : EIO,
                  reason == HSNAP_REASON_EXIT);
    sighold_drop(&fsz);
    if (ret == 0 && reason == HSNAP_REASON_EXIT)
        snap.exit_written = 1;
    if (ret == 0) {
        opt_debug("wrote ", snap.name, "");
        opt_debug_count("snapshot: microseconds to write it: ", (t1 - t0) / 1000);
        snap_note_phases();
    }
    snap_drop_lock();
    guard_leave(saved_guard);
    errno = saved_errno;
    return ret;
}

int snap_take(unsigned reason, const char *path, int fatal)
{
    return snap_take_found(reason, path, fatal, NULL);
}

int snap_fail_err(void)
{
    return snap.fail_err;
}

void snap_written_drop(void)
{
    if (snap_run.written)
        arena_unmap(snap_run.written, snap_run.written_len); /* arena_map_sparse's */
    snap_run.written = NULL;
    snap_run.nwritten = 0;
    snap_run.written_len = 0;
}

void snap_drop_lock(void)
{
    atomic_fetch_add(&snap.epoch, 1);
    lock_drop(&snap.lock);
}

uint32_t snap_epoch_advance(void)
{
    return atomic_fetch_add(&snap.epoch, 1) + 1;
}

uint32_t snap_epoch(void)
{
    return atomic_load_explicit(&snap.epoch, memory_order_relaxed);
}

void snap_lock(void)
{
    atomic_fetch_add(&snap.waiters, 1);
    lock_take(&snap.lock);
    atomic_fetch_sub(&snap.waiters, 1);
}

void snap_unlock(void)
{
    lock_drop(&snap.lock);
}

/* The state file's document (state_beat_now): a snapshot without BLOCKS nor
 * TRACES (the state file appends the stacks apart), with MAPPED (the
 * reserved total serve's /metrics reads, the residency a killed process's
 * state keeps) of lv->n traces, whose
 * live sums are lv's (peak_live's lines, not a walk of the table), reason
 * killed and cut short, as a reader after a kill takes it, into fd from
 * its start; compressed (HEAPSNAP_COMPRESS) from as many traces as a
 * snapshot is from live blocks, unless it takes at most raw_room bytes
 * raw: a document is written every few beats and read only after a kill,
 * and its copy into the state file costs less than compressing it (a
 * Python start-up's, 2 MiB, took 30 M instructions of zstd).  The
 * snapshot lock is only tried: 0 written, 1 busy (a snapshot is being
 * written), -1 failed.  Small section buffers stay for the next one
 * (mapping and unmapping each costs a small program's document more than
 * the document does). */
int snap_state_doc(int fd, struct snap_live *lv, uint64_t raw_room)
{
    static struct sbuf sec[SEC_N]; /* under the snapshot lock */
    uint64_t blocks = snap_live_blocks(lv);
    int r;
    if (!lock_try(&snap.lock))
        return 1;
    for (int i = 0; i < SEC_N; i++)
        sec[i].len = 0, sec[i].err = 0;
    /* no walk here: the held frees' bytes, which the lines still count
     * (META's current size, the peak: peak_put) */
    snap_run.left = (struct pend_left){0, pend_held_bytes()};
    snap_run.lines = 1;
    mod_section(&sec[SEC_MODULES], &sec[SEC_GONE]);
    uint32_t ntraces = 0;
    r = snap_traces(&sec[SEC_TRACES], &sec[SEC_STATS], &sec[SEC_FAILED], lv, 0, lv->n, &ntraces);
    if (r == 0 && snap_threads(&sec[SEC_THREADS], ntraces, 0) != 0) /* names as last read */
        sec[SEC_THREADS].len = 0, sec[SEC_THREADS].err = 0;
    if (r == 0)
        r = snap_peak(sec, lv, 0, NULL);
    if (r == 0)
        r = snap_siteline(sec, lv, 0);
    if (r == 0)
        r = snap_timeline(&sec[SEC_TIMELINE], 0);
    if (r == 0 && snap_mapped(&sec[SEC_MAPPED], lv->n) != 0) /* serve's reserved total */
        sec[SEC_MAPPED].len = 0, sec[SEC_MAPPED].err = 0;   /* out of memory: none */
    if (r == 0) {
        pyfr_put_codes(&sec[SEC_PYCODE], 0);
        snap_gcfreed(sec);
        snap_meta(&sec[SEC_META], HSNAP_REASON_KILLED, snap.seq, blocks, HSNAP_META_CUT_SHORT,
                  arena_mapped());
        for (int i = 0; i < SEC_N; i++)
            r |= sec[i].err ? -1 : 0;
    }
    sec[SEC_TRACES].len = 0; /* the state file keeps the stacks apart, appended */
    /* STATS, streamed; TEMPS and THREADS' arrays by trace too */
    uint64_t raw = (uint64_t)lv->n * (sizeof(struct hsnap_stat) + 8 + 2);
    for (int i = 0; i < SEC_N; i++)
        raw += sec[i].len + sizeof(struct hsnap_section);
    if (r == 0 && (lseek(fd, 0, SEEK_SET) != 0 || ftruncate(fd, 0) != 0 ||
                   snap_emit(fd, sec, (const int[2]){-1, -1},
                             raw <= raw_room ? 0 : snap_level(lv->n, 0)) != 0))
        r = -1;
    zsec_release();
    snap.stats_lv = NULL;
    for (int i = 0; i < SEC_N; i++)
        if (sec[i].cap > SNAP_DOC_KEEP)
            sbuf_free(&sec[i]);
    lock_drop(&snap.lock);
    return r;
}

/* The child of fork numbers its own snapshots from 0. */
void snap_after_fork_child(void)
{
    name_after_fork_child();
    snap.fork_epoch = inh_fork_epoch(); /* beside seq: a page written anyway */
    snap.seq = 0;
    snap.exit_written = 0; /* the parent's */
    sl_end(0); /* a child forked after its parent's exit snapshot began */
    atomic_store(&snap.warned, 0);
    /* threads of the parent that were waiting in snap_lock are not here:
     * their count would make every snapshot of the child wait for good */
    atomic_store(&snap.waiters, 0);
}
