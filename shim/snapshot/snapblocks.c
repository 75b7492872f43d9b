/*
 * snapblocks.c - a snapshot's BLOCKS section: the leak check's (on a fork
 * of the process or in place, leakrun.c), the sorted copy on the fatal
 * path, or else streamed into the side file (blockstream.c's walk in
 * address order, or in sorted runs when packed and no Python objects are
 * typed; a chunk at a time, packed: hsnap_packed.h), with each trace's
 * live sums counted on the way.  Callers hold the snapshot lock.
 */
#include <string.h>

#include "leak.h" /* COLLECT_UNSTOPPED */
#include "python.h"
#include "pyobjects.h"
#include "snapshot.h"

#define SNAP_EXIT_INPLACE 16384u /* blocks: at exit, a check of so few runs in place */

/* Room in *lv for trace id (a trace born while the blocks are written);
 * 0, or -1 (the block goes uncounted in STATS). */
static int snap_live_grow(struct snap_live *lv, uint32_t id)
{
    uint32_t n = id + 1 > 2 * lv->n ? id + 1 : 2 * lv->n;
    struct trace_live *live = arena_map((size_t)n * sizeof *live);
    if (!live)
        return -1;
    memcpy(live, lv->live, (size_t)lv->n * sizeof *live);
    snap_live_drop(lv);
    *lv = (struct snap_live){live, n, (size_t)n * sizeof *live, NULL};
    return 0;
}

/* BLOCKS streamed (bstream_blocks): a chunk of blocks at a time, in a
 * buffer mapped for the section (in .bss it was 64 KiB of the shim's fixed
 * address space, and resident from the first snapshot on). */
#define SNAP_CHUNK 512 /* 16 KiB */
static struct {
    struct side_file *f;
    struct snap_live *lv;
    uint64_t n;
    unsigned k;
    int types;            /* the blocks typed as they pass (snap_run.pytypes) */
    struct hsnap_block *buf; /* SNAP_CHUNK */
} snap_stream; /* one snapshot at a time: the snapshot lock */

static void snap_stream_block(const struct hsnap_block *b, void *arg)
{
    if (b->trace >= snap_stream.lv->n)
        snap_live_grow(snap_stream.lv, b->trace);
    trace_live_add(snap_stream.lv->live, snap_stream.lv->n, b->trace, b->size);
    snap_stream.buf[snap_stream.k++] = *b;
    snap_stream.n++;
    if (snap_stream.types)
        py_types_block(b->addr, b->size);
    if (snap_stream.k == SNAP_CHUNK) {
        side_out(snap_stream.f, snap_stream.buf, SNAP_CHUNK * sizeof *snap_stream.buf);
        snap_stream.k = 0;
    }
}

/* A run of blocks in address order (bstream_runs): counted, then into the
 * section straight from the run's buffer (packed: no copy). */
static void snap_stream_run(const struct hsnap_block *a, uint32_t n, void *arg)
{
    (void)arg;
    struct snap_live *lv = snap_stream.lv;
    for (uint32_t i = 0; i < n; i++) {
        if (a[i].trace >= lv->n)
            snap_live_grow(lv, a[i].trace);
        trace_live_add(lv->live, lv->n, a[i].trace, a[i].size);
    }
    snap_stream.n += n;
    side_out(snap_stream.f, a, (size_t)n * sizeof *a);
}

/* The blocks' count comes before them, and is known after them: its room
 * is reserved, and its crc combined with theirs (side_sec_end). */
static int snap_blocks_stream(struct side_file *f, struct snap_live *lv, uint64_t *count)
{
    const size_t room = SNAP_CHUNK * sizeof *snap_stream.buf;
    if (snap_live_init(lv, trace_count() + 1024) != 0 || !(snap_stream.buf = arena_map(room)))
        return -1;
    snap_stream.f = f;
    snap_stream.lv = lv;
    snap_stream.n = snap_stream.k = 0;
    /* the Python objects' types from the same walk: no second one */
    snap_stream.types = snap_run.pytypes && py_types_begin(snap_run.pytypes) == 0;
    snap_run.pytyped = snap_stream.types;
    f->hint = pend_live_count() * sizeof(struct hsnap_block);
    side_sec_begin_packed(f, 8, ZSEC_UNKNOWN);
    /* in address order for the types; else in runs (packed BLOCKS: the reader sorts) */
    int r = snap_stream.types || !f->packed
                ? bstream_blocks(snap_stream_block, NULL, &snap_run.left)
                : bstream_runs(snap_stream_run, NULL, &snap_run.left);
    if (r == 0)
        side_out(f, snap_stream.buf, snap_stream.k * sizeof *snap_stream.buf);
    if (snap_stream.types)
        py_types_blocks_end();
    arena_unmap(snap_stream.buf, room);
    snap_stream.buf = NULL;
    if (r != 0)
        return -1;
    side_sec_end(f, HSNAP_SEC_BLOCKS, &snap_stream.n, 8);
    *count = snap_stream.n;
    return 0;
}

/* Whether the leak check of a snapshot taken for reason runs on a fork
 * (HEAPSNAP_LEAK_FORK, opt_auto's choice).  auto forks but for the exit snapshot of a small
 * heap: the fork is there so that a running program's threads need not
 * wait for the scan, and at exit nothing is left to wait for.  In place,
 * the check of a small heap costs less than the clone and the wait for
 * the child, and the process's own peak RSS grows by its copy instead of
 * the child's, a few hundred KiB under this bound (docs/performance.md, the exit
 * check).  Without a stop
 * signal (HEAPSNAP_STOP_SIGNAL=off) threads still running at exit would
 * move pointers under an in-place scan: the fork's image stands still. */
static int snap_leak_fork(unsigned reason)
{
    int v = opt_auto(OPT_LEAK_FORK);
    if (v >= 0)
        return v;
    return reason != HSNAP_REASON_EXIT || pend_live_count() > SNAP_EXIT_INPLACE ||
           !snap_host->can_hold();
}

/* BLOCKS: the leak check's (lchk_collect), on a fork of the process or in
 * place, the sorted copy on the fatal path, else streamed. */
int snap_put_blocks(struct side_file *f, struct sbuf *sec, unsigned reason, int fatal,
                    int *leaks, struct snap_live *lv, uint64_t *count)
{
    int forked = 0;
    if (*leaks && snap_leak_fork(reason)) {
        int rc = snap_host->leak_forked(f, lv, count);
        forked = 1;
        if (rc == 0) {
            opt_debug("leak check: on a fork", "", "");
            return 0;
        }
        if (rc < 0) /* warned: a snapshot without it */
            *leaks = 0, snap_run.leaks_skipped = SNAP_SKIP_FAILED;
    }
    if (*leaks)
        opt_debug("leak check: in place", "", "");
    if (*leaks || fatal) {
        int rc = snap_host->leak_inplace(f, sec, fatal, leaks, lv, count);
        if (rc != COLLECT_UNSTOPPED)
            return rc;
        /* A thread that cannot be stopped (it blocks the stop signal)
         * would change memory under an in-place scan: the fork's image
         * stands still.  Without one (HEAPSNAP_LEAK_FORK=0, or no fork
         * could be made), no check: the snapshot says so. */
        if (!forked && opt_auto(OPT_LEAK_FORK) != 0 && snap_host->leak_forked(f, lv, count) == 0) {
            opt_debug("leak check: on a fork (a thread could not be stopped)", "", "");
            return 0;
        }
        opt_warn("leak check skipped: a thread could not be stopped and the check cannot "
                 "run on a fork", "", "");
        *leaks = 0;
        snap_run.leaks_skipped = SNAP_SKIP_UNSTOPPED;
        return snap_host->leak_inplace(f, sec, fatal, leaks, lv, count);
    }
    return f->fd < 0 ? 0 : snap_blocks_stream(f, lv, count);
}
