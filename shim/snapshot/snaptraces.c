/*
 * snaptraces.c - TRACES, STATS and TEMPS as snap_emit writes them:
 * straight from the tree of frames, the trace records and the peak's
 * temporary counts into the file, never held whole.  In a compressed
 * snapshot (format 5) a trace keeps only
 * the frames it does not share with the trace before (hsnap_format.h,
 * TRACES' shared), found by walking the tree out from its innermost node
 * until a node the trace before had; STATS goes to the compressor in byte
 * planes.  Callers hold the snapshot lock.  Prefix snap_.
 */
#include <errno.h>
#include <string.h>

#include "snapshot.h"

#define SNAP_TRACES_FLUSH (32u * 1024u) /* TRACES goes to the file in pieces of this */

/* Trace id's frames that the trace before does not share, innermost
 * first, into ip; *depth its depth, *flags its flags; how many.  node[h]
 * holds the trace before's node at height h from the outermost (prev of
 * them) and is left holding this one's (*depth): a node stands for every
 * frame from it out (ftree_walk_in), so the walk out from the innermost
 * stops at the first node the trace before had at that height, and a
 * trace costs its own frames, not its depth. */
static unsigned snap_own_frames(uint32_t id, uint32_t *node, unsigned prev, uintptr_t *ip,
                                unsigned *depth, unsigned *flags)
{
    uint32_t n;
    unsigned d = trace_node(id, &n, flags), i = 0;
    if (d > TRACE_DEPTH_MAX) /* never: HEAPSNAP_DEPTH's bound */
        d = TRACE_DEPTH_MAX;
    for (unsigned h = d; h-- > 0; i++) {
        if (h < prev && node[h] == n)
            break;
        node[h] = n;
        ip[i] = ftree_frame(n, &n);
    }
    *depth = d;
    return i;
}

/* TRACES' payload raw, all frames of traces [0, n): read from the
 * records with no lock (a record's depth never changes), here where it is
 * written rather than under the intern lock, which every new stack waits
 * for (1.1 M records, 35 MiB, at torchtrain.py's end). */
static uint64_t snap_traces_len(uint32_t n)
{
    uint64_t len = sizeof n;
    for (uint32_t id = 0; id < n; id++) {
        unsigned flags, depth = trace_stack(id, NULL, 0, &flags);
        len += 4 * sizeof(uint16_t) + (uint64_t)depth * sizeof(uint64_t);
    }
    return len;
}

/* TRACES into the file: the traces of the count in b, through a buffer
 * of SNAP_TRACES_FLUSH bytes and a stack's.  Compressed (a format 5
 * file), a trace stores only the frames it does not share with the trace
 * before, from the outermost in (hsnap_format.h): traces are numbered as
 * they are met, so neighbours share most of their callers, and a Python
 * start-up's 15 MiB of frames become 2.  Raw (format 2), every frame: len
 * bytes (snap_traces_len), known in advance.  0 or -1. */
int snap_put_traces(struct side_file *f, const struct sbuf *b)
{
    uint32_t n;
    memcpy(&n, b->p, sizeof n);
    uint64_t len = snap_traces_len(n);
    struct sbuf out = {0};
    int share = f->level > 0;
    f->hint = len / 4; /* about what sharing leaves */
    side_sec_begin(f, 0, share ? ZSEC_UNKNOWN : len);
    sbuf_u32(&out, n);
    uintptr_t ip[TRACE_DEPTH_MAX];
    uint32_t node[TRACE_DEPTH_MAX];
    unsigned prev = 0; /* the trace before's depth */
    for (uint32_t id = 0; !f->err && id <= n; id++) {
        if (id == n || out.len >= SNAP_TRACES_FLUSH) {
            if (out.err)
                errno = ENOMEM, side_fail(f);
            side_out(f, out.p, out.len);
            out.len = 0;
        }
        if (id == n)
            break;
        unsigned flags, depth, mine;
        if (share)
            mine = snap_own_frames(id, node, prev, ip, &depth, &flags);
        else
            mine = depth = trace_stack(id, ip, TRACE_DEPTH_MAX, &flags);
        uint16_t head[4] = {(uint16_t)depth, (uint16_t)flags, (uint16_t)(depth - mine), 0};
        sbuf_put(&out, head, sizeof head);
        sbuf_put(&out, ip, mine * sizeof *ip);
        prev = depth;
    }
    sbuf_free(&out);
    /* never: frames do not change */
    if (!f->err && (share ? f->raw > len : f->raw != len))
        errno = EIO, side_fail(f);
    side_sec_end(f, HSNAP_SEC_TRACES, NULL, 0);
    return f->err ? -1 : 0;
}

/* STATS into the file: the traces of the count in b, their live sums
 * from lv, their totals read now (records never move; the
 * totals only grow), SNAP_STATS_RUN at a time; compressed, in planes
 * (mostly zero and alike from one trace to the next: zstd's input then
 * shrinks faster, and to about half).  0 or -1. */
#define SNAP_STATS_RUN 64u
int snap_put_stats(struct side_file *f, const struct sbuf *b, const struct snap_live *lv)
{
    uint32_t n;
    memcpy(&n, b->p, sizeof n);
    struct hsnap_stat run[SNAP_STATS_RUN];
    side_sec_begin_planes(f, sizeof n, (uint64_t)n * sizeof *run, sizeof *run);
    for (uint32_t id = 0; !f->err && id < n;) {
        unsigned k = 0;
        for (; k < SNAP_STATS_RUN && id < n; k++, id++)
            trace_read_stat(id, lv && id < lv->n ? &lv->live[id] : NULL, &run[k]);
        side_out(f, run, k * sizeof *run);
    }
    side_sec_end(f, HSNAP_SEC_STATS, &n, sizeof n);
    return f->err ? -1 : 0;
}

/* TEMPS' counts as snap_peak reads them, before STATS' totals (a count is
 * at most its trace's total, which only grows), kept until snap_emit
 * writes the section: the traces with a count, (u32 id, u32 0, u64
 * count) each, after a head (u32 n, u32 SNAP_TEMPS_SPARSE); where more
 * than a quarter of the traces have one, every count (u32 n, u32
 * SNAP_TEMPS_DENSE, u64 count[n]).  Most traces have none: a million-trace
 * Python program's exit held 9 MiB of zeros through its objects' passes,
 * and each state document made them again.  0, or -1 (out of memory). */
#define SNAP_TEMPS_SPARSE 0u
#define SNAP_TEMPS_DENSE 1u
#define SNAP_TEMPS_RUN 256u
int snap_temps(struct sbuf *b, uint32_t n)
{
    uint64_t v[SNAP_TEMPS_RUN];
    uint32_t kept = 0, k;
    sbuf_u32(b, n);
    sbuf_u32(b, SNAP_TEMPS_SPARSE);
    for (uint32_t id = 0; id < n && kept <= n / 4; id += k) {
        k = n - id < SNAP_TEMPS_RUN ? n - id : SNAP_TEMPS_RUN;
        peak_temps(id, k, v);
        for (uint32_t i = 0; i < k; i++)
            if (v[i]) {
                uint32_t pair[2] = {id + i, 0};
                sbuf_put(b, pair, sizeof pair);
                sbuf_u64(b, v[i]);
                kept++;
            }
    }
    if (kept > n / 4) { /* dense: from the start again */
        b->len = 4;
        sbuf_u32(b, SNAP_TEMPS_DENSE);
        if (sbuf_reserve_all(b, (size_t)n * sizeof *v) == 0)
            for (uint32_t id = 0; id < n; id += k) {
                k = n - id < SNAP_TEMPS_RUN ? n - id : SNAP_TEMPS_RUN;
                peak_temps(id, k, v);
                sbuf_put(b, v, (size_t)k * sizeof *v);
            }
    }
    return b->err ? -1 : 0;
}

/* TEMPS into the file from what snap_temps kept in b: u32 n, u32 0, u64
 * temps[n], SNAP_TEMPS_RUN counts at a time.  0 or -1. */
int snap_put_temps(struct side_file *f, const struct sbuf *b)
{
    uint32_t head[2];
    uint64_t run[SNAP_TEMPS_RUN];
    if (b->len < sizeof head)
        return -1;
    memcpy(head, b->p, sizeof head);
    uint32_t n = head[0];
    const uint8_t *at = (const uint8_t *)b->p + sizeof head, *end = (const uint8_t *)b->p + b->len;
    side_sec_begin(f, 0, 8 + (uint64_t)n * 8);
    side_out(f, (uint32_t[2]){n, 0}, 8);
    if (head[1] == SNAP_TEMPS_DENSE) {
        side_out(f, at, (size_t)(end - at));
    } else { /* the pairs, ascending by id, spread over runs of zeros */
        for (uint32_t id = 0; id < n && !f->err;) {
            uint32_t k = n - id < SNAP_TEMPS_RUN ? n - id : SNAP_TEMPS_RUN, pid;
            memset(run, 0, (size_t)k * sizeof *run);
            for (; at + 16 <= end && (memcpy(&pid, at, sizeof pid), pid - id < k); at += 16)
                memcpy(&run[pid - id], at + 8, sizeof *run);
            side_out(f, run, (size_t)k * sizeof *run);
            id += k;
        }
    }
    side_sec_end(f, HSNAP_SEC_TEMPS, NULL, 0);
    return f->err ? -1 : 0;
}
