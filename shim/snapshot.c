/*
 * snapshot.c - the sections of a .hsnap file (grammar in hsnap_format.h)
 * and the order they are gathered in:
 *
 *   header | META | MODULES | TRACES | STATS | BLOCKS? | TIMELINE | LEAKS? |
 *   RETAINERS? | PEAK? | SITELINE? | TEMPS | PYCODE? | SUPPRESSIONS? | END
 *
 * Without stopping the world: the module map first (the loader lock; no shim
 * lock held), then the blocks, then the traces under the intern lock (every
 * trace a block names exists by then).  BLOCKS is never held whole: it goes
 * into a side file as it is made (blockstream.c hands the blocks on in
 * address order for 8 bytes a block), and the kernel copies it into the
 * snapshot in its place.  Nor is TRACES: its frames are copied out of
 * frametree.c's tree into the file as it is written (snap_put_traces).  With
 * the leak check the world is stopped until a fork of the process is made
 * (leak/fork.c), whose child copies, sorts and
 * classifies the blocks, writes BLOCKS, LEAKS and RETAINERS into the side
 * file and leaves the live sums in a shared mapping; where no fork can be
 * made (HEAPSNAP_LEAK_FORK=0, seccomp) the world stays stopped around the
 * copy and the model in place.  snap_take serialises snapshots and
 * advances the birth epoch; with fatal set (a crashing thread's handler)
 * every lock is tried a bounded number of times: never hang.  Buffers are
 * sbuf.c's, names and the temporary files snapname.c's, the MODULES
 * section modules.c's.
 */
#include <errno.h>
#include <fcntl.h>
#include <link.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>
#include <zlib.h>

#include "shim.h"
#include "python/python.h"

#define SNAP_FATAL_TRIES 2000
#define SNAP_TRACES_FLUSH (32u * 1024u) /* TRACES goes to the file in pieces of this */

static struct {
    lock_t lock;              /* one snapshot at a time; guards seq and name */
    _Atomic uint32_t epoch;   /* birth epoch of new blocks */
    uint32_t seq;             /* next %n */
    atomic_int warned;        /* a write failure was reported */
    char name[NAME_MAX_PATH]; /* the name being written */
    char tmp[NAME_MAX_PATH + 32];
    struct pend_left left;    /* held blocks the last walk left out */
    int64_t unreachable;      /* the last leak check's leaked blocks */
    atomic_int waiters;       /* in snap_lock: a fork's prepare, an API query */
    uint64_t traces_len;      /* TRACES' payload (its sbuf holds the count only) */
} snap;

/* The lock for a snapshot or a check, after any snap_lock caller: with
 * snapshots requested back to back (a signal every few ms, each snapshot
 * longer than that), a thread in fork's prepare handler could otherwise
 * wait for good, since the helper drops the lock and takes it again
 * before a yielding waiter runs. */
static void snap_take_lock(void)
{
    while (atomic_load_explicit(&snap.waiters, memory_order_relaxed))
        sched_yield();
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
    m.time_ns = life_now_ns();
    m.start_ns = life_start_ns();
    m.reason = reason;
    m.seq = seq;
    m.depth = (uint32_t)opt_int(OPT_DEPTH);
    m.epoch = snap_epoch();
    m.sample_interval = (uint64_t)opt_int(OPT_SAMPLE);
    trace_totals(&m.current_bytes, &m.peak_bytes);
    m.live_blocks = blocks;
    trace_alloc_counts(&m.total_allocs, &m.total_frees);
    /* blocks other threads hold back (pending.c) are freed: the walk left
     * them out, and the sums count them so */
    m.current_bytes -= m.current_bytes > snap.left.bytes ? snap.left.bytes : m.current_bytes;
    m.total_frees += snap.left.blocks;
    m.foreign_frees = atomic_load(&trace_counters.foreign_frees);
    m.shim_bytes = shim_bytes;
    m.flags = (life_degraded() ? HSNAP_META_DEGRADED : 0) | flags;
    sbuf_put(b, &m, sizeof m);
    snap_put_strings(b);
}

/* ---------------- BLOCKS ---------------- */

struct snap_blocks {
    struct hsnap_block *out;
    uint64_t n, cap;
};

static int snap_block(const struct tbl_entry *e, void *arg)
{
    struct snap_blocks *sb = arg;
    if (sb->n == sb->cap)
        return 1; /* overflow: retry with more room */
    sb->out[sb->n++] = (struct hsnap_block){
        .addr = e->ptr, .size = e->size, .trace = e->trace, .epoch = e->epoch};
    return 0;
}

/* BLOCKS payload into b (the copy the leak check scans and the fatal
 * path writes): u64 count, then the blocks sorted by address. */
static int snap_blocks(struct sbuf *b, int fatal)
{
    uint64_t cap = pend_live_count();
    for (cap += cap / 4 + 1024;; cap *= 2) {
        b->len = 0;
        if (sbuf_reserve(b, 8 + cap * sizeof(struct hsnap_block)) != 0)
            return -1;
        struct snap_blocks sb = {(struct hsnap_block *)(b->p + 8), 0, cap};
        int r = pend_foreach(snap_block, &sb, fatal ? SNAP_FATAL_TRIES : 0, &snap.left);
        if (r < 0)
            return -1;
        if (r > 0)
            continue;
        memcpy(b->p, &sb.n, 8);
        b->len = 8 + sb.n * sizeof(struct hsnap_block);
        bsort_blocks(sb.out, sb.n);
        return 0;
    }
}

/* ---------------- TRACES, STATS, TIMELINE ---------------- */

/* Live sums per trace, derived here rather than kept on the hot path:
 * from the blocks as BLOCKS is written when there is one, else from a
 * walk of the table (one stripe locked at a time).  Traces born after the
 * array was sized get zero live sums in this snapshot (BLOCKS grows it). */
struct snap_live {
    struct trace_live *live;
    uint32_t n;
    size_t len;
};

static int snap_live_block(const struct tbl_entry *e, void *arg)
{
    struct snap_live *lv = arg;
    trace_live_add(lv->live, lv->n, e->trace, e->size);
    return 0;
}

/* The array, for n traces (and slack: traces born while the blocks are
 * written); 0 or -1. */
static int snap_live_init(struct snap_live *lv, uint32_t n)
{
    lv->n = n;
    lv->len = (size_t)n * sizeof *lv->live;
    return !n || (lv->live = arena_map(lv->len)) ? 0 : -1;
}

/* Without BLOCKS: the sums from a walk of the table. */
static int snap_live(struct snap_live *lv, int fatal)
{
    if (snap_live_init(lv, trace_count()) != 0)
        return -1;
    if (!lv->n)
        return 0;
    int r = pend_foreach(snap_live_block, lv, fatal ? SNAP_FATAL_TRIES : 0, &snap.left);
    return r < 0 ? -1 : 0;
}

/* STATS, and TRACES' count and length: its frames, some MiB for a
 * Python program's stacks, go straight from the tree into the file
 * (snap_put_traces); a trace's frames never change. */
static int snap_traces(struct sbuf *tr, struct sbuf *st, const struct snap_live *lv, int fatal)
{
    if (fatal ? !trace_lock_bounded(SNAP_FATAL_TRIES) : (trace_lock(), 0))
        return -1;
    uint32_t n = trace_count();
    sbuf_u32(tr, n);
    sbuf_u32(st, n);
    snap.traces_len = sizeof n;
    for (uint32_t id = 0; id < n; id++) {
        unsigned flags, depth = trace_stack(id, NULL, 0, &flags);
        struct hsnap_stat s;
        snap.traces_len += 4 * sizeof(uint16_t) + (uint64_t)depth * sizeof(uint64_t);
        trace_read_stat(id, id < lv->n ? &lv->live[id] : NULL, &s);
        sbuf_put(st, &s, sizeof s);
    }
    trace_unlock();
    return tr->err || st->err ? -1 : 0;
}

/* TRACES into fd: the traces of the count in b, through a buffer of
 * SNAP_TRACES_FLUSH bytes and a stack's; the section's header is written
 * again with the checksum at the end.  0 or -1. */
static int snap_put_traces(int fd, const struct sbuf *b)
{
    uint32_t n;
    memcpy(&n, b->p, sizeof n);
    off_t at = lseek(fd, 0, SEEK_CUR);
    struct hsnap_section s = {HSNAP_SEC_TRACES, (uint32_t)crc32_z(0, Z_NULL, 0), snap.traces_len};
    struct sbuf out = {0};
    uint64_t len = 0;
    int r = at < 0 || sbuf_write_all(fd, &s, sizeof s) != 0 ? -1 : 0;
    sbuf_u32(&out, n);
    for (uint32_t id = 0; r == 0 && id <= n; id++) {
        if (id == n || out.len >= SNAP_TRACES_FLUSH) {
            r = out.err || sbuf_write_all(fd, out.p, out.len) != 0 ? -1 : 0;
            s.crc32 = (uint32_t)crc32_z(s.crc32, (const Bytef *)out.p, out.len);
            len += out.len;
            out.len = 0;
        }
        if (id == n)
            break;
        uintptr_t ip[TRACE_DEPTH_MAX];
        unsigned flags, depth = trace_stack(id, ip, TRACE_DEPTH_MAX, &flags);
        uint16_t head[4] = {(uint16_t)depth, (uint16_t)flags, 0, 0};
        sbuf_put(&out, head, sizeof head);
        sbuf_put(&out, ip, depth * sizeof *ip);
    }
    sbuf_free(&out);
    if (r == 0 && len != snap.traces_len) /* never: frames do not change */
        errno = EIO, r = -1;
    if (r == 0 && pwrite(fd, &s, sizeof s, at) != (ssize_t)sizeof s)
        r = -1;
    return r;
}

/* SITELINE: siteline.c's points and one of this snapshot, whose trace ids
 * are within the TRACES just written. */
static int snap_siteline(struct sbuf *b, const struct sbuf *traces, const struct snap_live *lv,
                         int fatal)
{
    uint32_t ntraces;
    memcpy(&ntraces, traces->p, sizeof ntraces);
    return sl_put(b, lv->live, lv->n, ntraces, fatal);
}

static int snap_timeline(struct sbuf *b, int fatal)
{
    if (fatal ? !life_timeline_lock_bounded(SNAP_FATAL_TRIES) : (life_timeline_lock(), 0))
        return -1;
    unsigned n = life_timeline_copy(NULL, 0);
    if (sbuf_reserve(b, 4 + (size_t)n * sizeof(struct hsnap_point)) == 0) {
        sbuf_u32(b, n);
        life_timeline_copy((struct hsnap_point *)(b->p + 4), n);
        b->len += (size_t)n * sizeof(struct hsnap_point);
    }
    life_timeline_unlock();
    return b->err ? -1 : 0;
}

enum { SEC_META, SEC_MODULES, SEC_TRACES, SEC_STATS, SEC_BLOCKS, SEC_TIMELINE, SEC_LEAKS,
       SEC_RETAINERS, SEC_PEAK, SEC_SITELINE, SEC_TEMPS, SEC_PYCODE /* shim/python */, SEC_SUPP,
       SEC_N };
static const uint32_t snap_types[SEC_N] = {HSNAP_SEC_META,     HSNAP_SEC_MODULES,
                                           HSNAP_SEC_TRACES,   HSNAP_SEC_STATS,
                                           HSNAP_SEC_BLOCKS,   HSNAP_SEC_TIMELINE,
                                           HSNAP_SEC_LEAKS,    HSNAP_SEC_RETAINERS,
                                           HSNAP_SEC_PEAK,     HSNAP_SEC_SITELINE,
                                           HSNAP_SEC_TEMPS,    HSNAP_SEC_PYCODE,
                                           HSNAP_SEC_SUPPRESSIONS};

/* PEAK and TEMPS (peak.c): the capture, or these live sums if nearer the
 * peak; the temporary counts of the traces STATS has.  No PEAK when off. */
static int snap_peak(struct sbuf *sec, const struct snap_live *lv, int fatal)
{
    uint32_t n = 0;
    if (sec[SEC_STATS].len >= 4)
        memcpy(&n, sec[SEC_STATS].p, 4);
    if (peak_put(&sec[SEC_PEAK], lv->live, lv->n, fatal ? SNAP_FATAL_TRIES : 0) != 0)
        sbuf_free(&sec[SEC_PEAK]);
    return peak_put_temps(&sec[SEC_TEMPS], n);
}

/* Section i's bytes with its header: from the side file, or its sbuf
 * (BLOCKS only from the side file; LEAKS and RETAINERS only when the model
 * ran); 0 when absent. */
static uint64_t snap_sec_size(const struct sbuf *sec, int i, const struct side_index *sd)
{
    uint32_t t = snap_types[i];
    if (t <= HSNAP_SEC_RETAINERS && sd->len[t])
        return sd->len[t];
    if (i == SEC_BLOCKS || (i >= SEC_LEAKS && !sec[i].len))
        return 0;
    return sizeof(struct hsnap_section) + (i == SEC_TRACES ? snap.traces_len : sec[i].len);
}

static int snap_put_section(int fd, uint32_t type, const struct sbuf *b)
{
    struct hsnap_section s = {type, 0, b ? b->len : 0};
    if (b && b->len)
        s.crc32 = (uint32_t)crc32_z(crc32_z(0, Z_NULL, 0), (const Bytef *)b->p, b->len);
    if (sbuf_write_all(fd, &s, sizeof s) != 0)
        return -1;
    return b && b->len ? sbuf_write_all(fd, b->p, b->len) : 0;
}

static int snap_emit(int fd, struct sbuf *sec, int side)
{
    struct hsnap_header h = {HSNAP_MAGIC, HSNAP_VERSION, sizeof h, sizeof h};
    struct side_index sd;
    if (side_index(side, &sd) != 0)
        return -1;
    for (int i = 0; i < SEC_N; i++)
        h.file_size += snap_sec_size(sec, i, &sd);
    h.file_size += sizeof(struct hsnap_section);
    if (sbuf_write_all(fd, &h, sizeof h) != 0)
        return -1;
    for (int i = 0; i < SEC_N; i++) {
        uint32_t t = snap_types[i];
        if (!snap_sec_size(sec, i, &sd))
            continue;
        if (t <= HSNAP_SEC_RETAINERS && sd.len[t] ? side_copy(fd, side, sd.at[t], sd.len[t])
            : i == SEC_TRACES                     ? snap_put_traces(fd, &sec[i])
                                                  : snap_put_section(fd, t, &sec[i]))
            return -1;
    }
    return snap_put_section(fd, HSNAP_SEC_END, NULL);
}

static void snap_warn_failure(const char *path, int err)
{
    if (atomic_exchange(&snap.warned, 1) != 0)
        return;
    char why[96] = ": ";
    const char *desc = err ? strerrordesc_np(err) : "out of memory";
    strncat(why, desc ? desc : "unknown error", sizeof why - 3);
    opt_warn("cannot write ", path, why);
}

/* Writes everything to path via a temporary file (name_open_tmp); 0 or -1
 * (warned). */
static int snap_to_file(char *path, struct sbuf *sec, int side)
{
    char *t = snap.tmp;
    int fd = name_open_tmp(t, path), err = 0;
    if (fd < 0) {
        snap_warn_failure(path, errno);
        return -1;
    }
    if (fchmod(fd, name_mode()) != 0 || snap_emit(fd, sec, side) != 0)
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

/* ---------------- BLOCKS into the file ---------------- */

/* Room in *lv for trace id (a trace born while the blocks are written);
 * 0, or -1 (the block goes uncounted in STATS). */
static int snap_live_grow(struct snap_live *lv, uint32_t id)
{
    uint32_t n = id + 1 > 2 * lv->n ? id + 1 : 2 * lv->n;
    struct trace_live *live = arena_map((size_t)n * sizeof *live);
    if (!live)
        return -1;
    memcpy(live, lv->live, lv->len);
    arena_unmap(lv->live, lv->len);
    lv->live = live;
    lv->n = n;
    lv->len = (size_t)n * sizeof *live;
    return 0;
}

/* BLOCKS from a sorted array (the leak check's copy, the fatal path's),
 * and the live sums. */
static void snap_blocks_put(struct side_file *f, const struct hsnap_block *b, uint64_t n,
                            struct snap_live *lv)
{
    for (uint64_t i = 0; i < n; i++)
        trace_live_add(lv->live, lv->n, b[i].trace, b[i].size);
    if (f->fd < 0)
        return;
    side_sec_begin(f, 0);
    side_out(f, &n, sizeof n);
    side_out(f, b, n * sizeof *b);
    side_sec_end(f, HSNAP_SEC_BLOCKS, NULL, 0);
}

/* BLOCKS streamed (blockstream.c): a chunk of blocks at a time. */
#define SNAP_CHUNK 2048 /* 64 KiB */
static struct {
    struct side_file *f;
    struct snap_live *lv;
    uint64_t n;
    unsigned k;
    struct hsnap_block buf[SNAP_CHUNK];
} snap_stream; /* one snapshot at a time: the snapshot lock */

static void snap_stream_block(const struct hsnap_block *b, void *arg)
{
    if (b->trace >= snap_stream.lv->n)
        snap_live_grow(snap_stream.lv, b->trace);
    trace_live_add(snap_stream.lv->live, snap_stream.lv->n, b->trace, b->size);
    snap_stream.buf[snap_stream.k++] = *b;
    snap_stream.n++;
    if (snap_stream.k == SNAP_CHUNK) {
        side_out(snap_stream.f, snap_stream.buf, sizeof snap_stream.buf);
        snap_stream.k = 0;
    }
}

/* The blocks' count comes before them, and is known after them: its room
 * is reserved, and its crc combined with theirs (side_sec_end). */
static int snap_blocks_stream(struct side_file *f, struct snap_live *lv, uint64_t *count)
{
    if (snap_live_init(lv, trace_count() + 1024) != 0)
        return -1;
    snap_stream.f = f;
    snap_stream.lv = lv;
    snap_stream.n = snap_stream.k = 0;
    side_sec_begin(f, 8);
    if (bstream_blocks(snap_stream_block, NULL, &snap.left) != 0)
        return -1;
    side_out(f, snap_stream.buf, snap_stream.k * sizeof *snap_stream.buf);
    side_sec_end(f, HSNAP_SEC_BLOCKS, &snap_stream.n, 8);
    *count = snap_stream.n;
    return 0;
}

/* ---------------- the leak check ---------------- */

/* heapsnap_collect and LSan's checks; else HEAPSNAP_LEAKS, but not for a
 * crashing process, nor at exit after __lsan_do_leak_check or when the
 * program's __lsan_is_turned_off() says so (lsan.c: *why gets which, for
 * META).  Not under a lock: the exit's answer may come from the program's
 * code. */
static int snap_leaks_wanted(unsigned reason, int fatal, unsigned *why)
{
    *why = 0;
    if (fatal)
        return 0;
    if (reason == HSNAP_REASON_COLLECT || reason == HSNAP_REASON_LSAN)
        return 1;
    int wanted = opt_int(OPT_LEAKS) && reason != HSNAP_REASON_FATAL;
    if (reason == HSNAP_REASON_EXIT)
        *why = lsan_exit_check(wanted);
    return wanted && !*why;
}

/* The leak room's callback for the live blocks: the sorted copy, built
 * while the world is stopped (or in the check's fork). */
struct snap_check {
    struct sbuf *blocks;
    int fatal, called, r; /* r: snap_blocks' result, once called */
};

static int snap_check_blocks(void *ctx, struct hsnap_block **b, uint64_t *n)
{
    struct snap_check *c = ctx;
    c->called = 1;
    if ((c->r = snap_blocks(c->blocks, c->fatal)) != 0)
        return -1;
    memcpy(n, c->blocks->p, 8);
    *b = (struct hsnap_block *)(c->blocks->p + 8);
    return 0;
}

/* The check in place (collect_check), or the copy alone when *leaks is 0
 * or the check could not run (then *leaks is cleared): BLOCKS, with
 * classes and refcounts after a check, into the file, and LEAKS and
 * RETAINERS into their sbufs.  The copy is released before the rest of
 * the snapshot is built. */
static int snap_check_inplace(struct side_file *f, struct sbuf *sec, int fatal, int *leaks,
                              struct snap_live *lv, uint64_t *count)
{
    struct sbuf blocks = {0};
    struct snap_check c = {&blocks, fatal, 0, -1};
    struct leak_answer a;
    if (*leaks && collect_check(snap_check_blocks, &c, &a) == 0) {
        sec[SEC_LEAKS] = (struct sbuf){a.leaks, a.leaks_len, a.leaks_cap, 0};
        sec[SEC_RETAINERS] = (struct sbuf){a.retainers, a.ret_len, a.ret_cap, 0};
        snap.unreachable = a.unreachable;
    } else {
        *leaks = 0;
    }
    int r = c.called ? c.r : snap_blocks(&blocks, fatal);
    if (r == 0 && snap_live_init(lv, trace_count()) != 0)
        r = -1;
    if (r == 0) {
        memcpy(count, blocks.p, 8);
        snap_blocks_put(f, (const struct hsnap_block *)(blocks.p + 8), *count, lv);
    }
    sbuf_free(&blocks);
    return r;
}

/* What the check's fork leaves its parent, in a shared mapping. */
struct snap_reply {
    uint64_t count;         /* blocks in BLOCKS */
    struct pend_left left;  /* held blocks the copy left out */
    int64_t unreachable;    /* direct + indirect + cycle blocks */
    uint32_t ntraces;       /* live[]'s room */
    struct trace_live live[];
};

struct snap_fork {
    struct snap_check c;    /* first: snap_check_blocks' ctx */
    struct side_file *f;
    struct snap_reply *reply;
};

/* In the fork: BLOCKS, LEAKS and RETAINERS into the file, the rest into
 * the reply (nothing here may allocate but by mmap). */
static int snap_fork_report(void *ctx, const struct hsnap_block *b, uint64_t n,
                            const struct leak_answer *a)
{
    struct snap_fork *sf = ctx;
    struct snap_reply *r = sf->reply;
    struct snap_live lv = {r->live, r->ntraces, 0};
    r->count = n;
    r->left = snap.left;
    r->unreachable = a->unreachable;
    snap_blocks_put(sf->f, b, n, &lv);
    if (sf->f->fd >= 0) {
        side_sec_whole(sf->f, HSNAP_SEC_LEAKS, a->leaks, a->leaks_len);
        if (a->ret_len)
            side_sec_whole(sf->f, HSNAP_SEC_RETAINERS, a->retainers, a->ret_len);
    }
    return sf->f->err ? -1 : 0;
}

/* The check on a fork of the process (collect_check_fork): 0 (BLOCKS,
 * LEAKS and RETAINERS are in the file, *lv and *count filled), -1 (it
 * failed, warned: the file is as it was), or COLLECT_NOFORK. */
static int snap_check_forked(struct side_file *f, struct snap_live *lv, uint64_t *count)
{
    uint32_t nt = 2 * trace_count() + 4096; /* traces born before the stop */
    size_t len = sizeof(struct snap_reply) + (size_t)nt * sizeof(struct trace_live);
    struct snap_reply *r = mmap(NULL, len, PROT_READ | PROT_WRITE, MAP_SHARED | MAP_ANONYMOUS,
                                -1, 0);
    if (r == MAP_FAILED)
        return COLLECT_NOFORK;
    r->ntraces = nt;
    struct sbuf blocks = {0}; /* the child's */
    /* fatal set: the child's walk tries each lock a bounded number of
     * times, so that a lock some vanished thread held cannot hang it */
    struct snap_fork sf = {{&blocks, 1, 0, -1}, f, r};
    off_t at = f->fd >= 0 ? lseek(f->fd, 0, SEEK_CUR) : 0;
    int rc = collect_check_fork(snap_check_blocks, snap_fork_report, &sf);
    if (rc == 0 && snap_live_init(lv, nt) == 0) {
        memcpy(lv->live, r->live, lv->len);
        *count = r->count;
        snap.left = r->left;
        snap.unreachable = r->unreachable;
    } else if (rc == 0) {
        rc = -1;
    }
    if (rc < 0 && f->fd >= 0 && (lseek(f->fd, at, SEEK_SET) != at || ftruncate(f->fd, at) != 0))
        side_fail(f); /* what the child wrote goes */
    munmap(r, len);
    return rc;
}

/* BLOCKS into the file, the live sums into *lv, the blocks written into
 * *count; with the leak check (*leaks), LEAKS and RETAINERS too, or into
 * their sbufs (in place); *leaks cleared when it could not run.  0 or -1. */
static int snap_put_blocks(struct side_file *f, struct sbuf *sec, int fatal, int *leaks,
                           struct snap_live *lv, uint64_t *count)
{
    if (*leaks && opt_int(OPT_LEAK_FORK)) {
        int rc = snap_check_forked(f, lv, count);
        if (rc == 0)
            return 0;
        if (rc < 0)
            *leaks = 0; /* warned: a snapshot without it */
    }
    if (*leaks || fatal)
        return snap_check_inplace(f, sec, fatal, leaks, lv, count);
    return f->fd < 0 ? 0 : snap_blocks_stream(f, lv, count);
}

/* Writes one snapshot to path, with the leak check when leaks is set; 0
 * or -1 (warned once).  Call with the snapshot lock held and hook_guard
 * set. */
static int snap_write(char *path, unsigned reason, uint32_t seq, int fatal, int leaks,
                      unsigned flags)
{
    struct sbuf sec[SEC_N] = {{0}};
    struct side_file side = {.fd = -1};
    struct snap_live lv = {0};
    int has_blocks = opt_int(OPT_BLOCKS) != 0 || leaks, ret = -1, r;
    uint64_t blocks = pend_live_count();
    /* the shim's memory as the program had it: not this snapshot's own
     * buffers */
    uint64_t shim_bytes = arena_mapped();
    snap.left = (struct pend_left){0, 0};
    mod_section(&sec[SEC_MODULES]);
    if (has_blocks && (side.fd = name_open_side(path)) < 0) {
        snap_warn_failure(path, errno);
        return -1;
    }
    r = has_blocks ? snap_put_blocks(&side, sec, fatal, &leaks, &lv, &blocks)
                   : snap_live(&lv, fatal);
    if (!leaks) {
        sec[SEC_LEAKS].len = sec[SEC_RETAINERS].len = 0;
    } else {
        size_t n;
        const char *supp = lsan_suppressions(&n);
        if (n)
            sbuf_put(&sec[SEC_SUPP], supp, n);
    }
    if (r == 0 && side.err)
        r = -1; /* the side file could not be written (a full disk): nothing more */
    if (r == 0)
        r = snap_traces(&sec[SEC_TRACES], &sec[SEC_STATS], &lv, fatal);
    if (r == 0)
        r = snap_peak(sec, &lv, fatal);
    if (r == 0)
        r = snap_siteline(&sec[SEC_SITELINE], &sec[SEC_TRACES], &lv, fatal);
    arena_unmap(lv.live, lv.len);
    if (r != 0 || side.err || snap_timeline(&sec[SEC_TIMELINE], fatal) != 0)
        goto out;
    py_put_codes(&sec[SEC_PYCODE], fatal); /* after TRACES: every code they name */
    if (!has_blocks)
        blocks -= blocks > snap.left.blocks ? snap.left.blocks : blocks;
    snap_meta(&sec[SEC_META], reason, seq, blocks,
              flags | (has_blocks ? HSNAP_META_HAS_BLOCKS : 0) |
                  (leaks ? HSNAP_META_HAS_LEAKS : 0),
              shim_bytes);
    for (int i = 0; i < SEC_N; i++)
        if (sec[i].err)
            goto out;
    ret = snap_to_file(path, sec, side.fd) == 0 ? 0 : -2;
out:
    if (ret == -1)
        snap_warn_failure(path, side.err);
    if (side.fd >= 0)
        close(side.fd);
    for (int i = 0; i < SEC_N; i++)
        sbuf_free(&sec[i]);
    return ret == 0 ? 0 : -1;
}

/* Takes one snapshot: to path, or to HEAPSNAP_OUTPUT's expansion when path
 * is NULL.  Serialised with every other snapshot; advances the epoch.
 * found (may be NULL): the leaked blocks the check found, -1 without one. */
static int snap_take_found(unsigned reason, const char *path, int fatal, int64_t *found)
{
    int saved_errno = errno, ret;
    if (!hook_guard && !fatal)
        pend_settle(); /* this thread's held frees came before the snapshot */
    unsigned why;
    int leaks = snap_leaks_wanted(reason, fatal, &why);
    if (leaks)
        lsan_read_suppressions(); /* the program's code: before any lock */
    int saved_guard = guard_enter();
    if (fatal ? !lock_take_bounded(&snap.lock, SNAP_FATAL_TRIES) : (snap_take_lock(), 0)) {
        guard_leave(saved_guard);
        return -1;
    }
    uint32_t seq = snap.seq++;
    name_choose(snap.name, path, reason, seq);
    snap.unreachable = -1;
    ret = snap_write(snap.name, reason, seq, fatal, leaks, why);
    if (found)
        *found = snap.unreachable;
    if (ret == 0) {
        name_manifest(snap.name);
        opt_debug("wrote ", snap.name, "");
    }
    atomic_fetch_add(&snap.epoch, 1);
    lock_drop(&snap.lock);
    guard_leave(saved_guard);
    errno = saved_errno;
    return ret;
}

int snap_take(unsigned reason, const char *path, int fatal)
{
    return snap_take_found(reason, path, fatal, NULL);
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

/* heapsnap_collect: the leak check now; with a path, a snapshot too (whose
 * name is taken literally).  Advances the epoch like a snapshot; the last
 * check's leaked blocks, or -1. */
int64_t snap_collect(const char *path)
{
    if (path)
        return snap_take(HSNAP_REASON_COLLECT, path, 0) == 0 ? snap.unreachable : -1;
    int saved_errno = errno, leaks = 1;
    int64_t ret = -1;
    struct sbuf sec[SEC_N] = {{0}};
    struct side_file f = {.fd = -1};
    struct snap_live lv = {0};
    uint64_t n;
    int saved_guard = guard_enter();
    snap_take_lock();
    if (snap_put_blocks(&f, sec, 0, &leaks, &lv, &n) == 0 && leaks)
        ret = snap.unreachable;
    arena_unmap(lv.live, lv.len);
    for (int i = 0; i < SEC_N; i++)
        sbuf_free(&sec[i]);
    atomic_fetch_add(&snap.epoch, 1);
    lock_drop(&snap.lock);
    guard_leave(saved_guard);
    errno = saved_errno;
    return ret;
}

/* LSan's checks: a snapshot with the leak check to HEAPSNAP_OUTPUT's next
 * name; the leaked blocks it found, or -1 when the check did not run. */
int64_t snap_check(unsigned reason)
{
    int64_t found;
    snap_take_found(reason, NULL, 0, &found);
    return found;
}

/* The query's callback: the live blocks, copied and sorted into a fresh
 * mapping (the caller's sbuf). */
static int snap_query_blocks(void *ctx, struct hsnap_block **b, uint64_t *n)
{
    struct sbuf *s = ctx;
    if (snap_blocks(s, 0) != 0)
        return -1;
    memcpy(n, s->p, 8);
    *b = (struct hsnap_block *)(s->p + 8);
    return 0;
}

/* heapsnap_refcount, _referrers, _referents: one query of the leak room on
 * the live heap (its target set by collect_target). */
long snap_query(int referents, struct heapsnap_ref *out, size_t max)
{
    struct sbuf blocks = {0};
    int saved_errno = errno, saved_guard = guard_enter();
    snap_lock();
    long ret = collect_query(snap_query_blocks, &blocks, referents, out, max);
    sbuf_free(&blocks);
    snap_unlock();
    guard_leave(saved_guard);
    errno = saved_errno;
    return ret;
}

/* The live block that holds p inside it (a walk: the table is keyed by
 * start addresses). */
struct snap_holder {
    uintptr_t p;
    struct tbl_entry e;
    int found;
};

static int snap_holder_of(const struct tbl_entry *e, void *arg)
{
    struct snap_holder *h = arg;
    if (h->p > e->ptr && h->p - e->ptr < e->size) {
        h->e = *e;
        h->found = 1;
        return 1;
    }
    return 0;
}

/* heapsnap_ignore and __lsan_ignore_object: the live block holding p (its
 * start, or, as LSan allows, a pointer into it: found by a walk of the
 * table) is ignored by later checks; 0, or -1 when p is in no live traced
 * block. */
int snap_ignore(const void *p)
{
    struct snap_holder h = {(uintptr_t)p, {0}, 0};
    int ret = -1;
    int saved = guard_enter();
    snap_lock();
    if (tbl_find(h.p, &h.e) || pend_find_fresh(h.p, &h.e))
        h.found = 1;
    else if (h.p)
        pend_foreach(snap_holder_of, &h, 0, NULL);
    if (h.found)
        ret = collect_ignore(h.e.ptr, h.e.trace, h.e.epoch);
    snap_unlock();
    guard_leave(saved);
    return ret;
}

/* The recorder's locks, in shim.h's order, around the leak check's stop. */
static void snap_lock_world(void)
{
    trace_lock();
    tbl_lock_all();
    arena_lock();
}

static void snap_unlock_world(void)
{
    arena_unlock();
    tbl_unlock_all();
    trace_unlock();
}

const struct leak_host snap_leak_host = {
    .map = arena_map,
    .unmap = arena_unmap,
    .warn = opt_warn,
    .debug = opt_debug,
    .loader_enter = life_loader_enter,
    .loader_leave = life_loader_leave,
    .lock_all = snap_lock_world,
    .unlock_all = snap_unlock_world,
    .sigaction = sig_install,
    .trace_lock = trace_lock,
    .trace_unlock = trace_unlock,
    .trace_count = trace_count,
    .trace_stack = trace_stack,
};

/* The child of fork numbers its own snapshots from 0. */
void snap_after_fork_child(void)
{
    name_after_fork_child();
    snap.seq = 0;
    atomic_store(&snap.warned, 0);
    /* threads of the parent that were waiting in snap_lock are not here:
     * their count would make every snapshot of the child wait for good */
    atomic_store(&snap.waiters, 0);
}
