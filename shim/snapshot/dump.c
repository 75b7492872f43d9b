/*
 * dump.c - the live blocks handed to the process itself (heapsnap_dump),
 * without a file: what the Python package builds tracemalloc's Snapshot
 * from, in the process, at the cost of a walk of the table.
 *
 * A dump is one item per live block (or, for the per-trace kinds, one per
 * trace with something live: now, or at the peak's capture), the traces
 * the items name with their frames (native return addresses, and Python
 * frames as HSNAP_PY_TAG words with their lines already read from the
 * copied line tables), and the names of the code objects copied since the
 * caller's last dump (code ids only grow and a code's record never
 * changes, so a caller keeps the names it was given).  Everything is in
 * the shim's own mappings (sbufs), never the host's malloc, and goes with
 * heapsnap_dump_free.  No snapshot lock: the table's stripes are locked one
 * at a time by pend_foreach, then the code table (a hook's lock order:
 * pycode) while the frames are read; traces' frames never change.
 */
#include <string.h>

#include "heapsnap.h"
#include "python.h"
#include "snapshot.h"

enum { DUMP_SIZES, DUMP_COUNTS, DUMP_TRACES, DUMP_IDS, DUMP_AT, DUMP_FRAMES, DUMP_LINES,
       DUMP_NAMES, DUMP_NBUF };

/* The mapping behind a dump: the public part first (its address is the
 * caller's handle), then the buffers its arrays point into. */
struct dump_owned {
    struct heapsnap_dump pub;
    struct sbuf b[DUMP_NBUF];
};

struct dump_walk {
    struct dump_owned *d;
    uint32_t since;          /* blocks born in this epoch or later */
    uintptr_t block;         /* DUMP_BLOCK: the one block wanted */
    uint64_t *seen;          /* a bit per trace id named */
    uint32_t nseen;          /* ids it has room for */
};

static void dump_mark(struct dump_walk *w, uint32_t id)
{
    if (id < w->nseen)
        w->seen[id >> 6] |= 1ull << (id & 63);
}

static int dump_block(const struct tbl_entry *e, void *arg)
{
    struct dump_walk *w = arg;
    if (e->epoch < w->since || (w->block && e->ptr != w->block))
        return 0;
    sbuf_u64(&w->d->b[DUMP_SIZES], e->size);
    sbuf_u32(&w->d->b[DUMP_TRACES], e->trace);
    dump_mark(w, e->trace);
    return 0;
}

/* The per-trace kinds: one item per trace of live[0..n) with blocks. */
static void dump_sums(struct dump_walk *w, const struct trace_live *live, uint32_t n)
{
    uint64_t half = 1u << 15;
    for (uint32_t id = 0; id < n; id++) {
        uint64_t blocks = (live[id].count + half) >> 16;
        if ((int64_t)live[id].count <= 0 || (int64_t)live[id].bytes <= 0 || !blocks)
            continue;
        sbuf_u64(&w->d->b[DUMP_SIZES], live[id].bytes);
        sbuf_u64(&w->d->b[DUMP_COUNTS], blocks);
        sbuf_u32(&w->d->b[DUMP_TRACES], id);
        dump_mark(w, id);
    }
}

static int dump_items(struct dump_walk *w, int what)
{
    struct tbl_entry e;
    if (what == HEAPSNAP_DUMP_BLOCK && tbl_find(w->block, &e)) /* else fresh: walk */
        return dump_block(&e, w);
    if (what == HEAPSNAP_DUMP_BLOCKS || what == HEAPSNAP_DUMP_BLOCK)
        return pend_foreach(dump_block, w, 0, NULL) < 0 ? -1 : 0;
    size_t len = (size_t)w->nseen * sizeof(struct trace_live);
    struct trace_live *live = w->nseen ? arena_map(len) : NULL;
    if (w->nseen && !live)
        return -1;
    uint32_t n = what == HEAPSNAP_DUMP_PEAK ? peak_kept(live, w->nseen) : w->nseen;
    if (what == HEAPSNAP_DUMP_LIVE && n)
        peak_live(live, n);
    dump_sums(w, live, n);
    if (live)
        arena_unmap(live, len);
    return 0;
}

/* The named traces' frames (and the Python frames' lines), then the code
 * names from code_from on. */
static void dump_frames(struct dump_walk *w, uint32_t code_from)
{
    struct sbuf *b = w->d->b;
    uintptr_t ip[TRACE_DEPTH_MAX];
    uint32_t at = 0;
    py_code_lock();
    for (uint32_t id = 0; id < w->nseen; id++) {
        if (!(w->seen[id >> 6] >> (id & 63) & 1))
            continue;
        unsigned flags, depth = trace_stack(id, ip, TRACE_DEPTH_MAX, &flags);
        if (depth > TRACE_DEPTH_MAX)
            depth = TRACE_DEPTH_MAX;
        sbuf_u32(&b[DUMP_IDS], id);
        sbuf_u32(&b[DUMP_AT], at);
        for (unsigned k = 0; k < depth; k++) {
            sbuf_u64(&b[DUMP_FRAMES], ip[k]);
            sbuf_u32(&b[DUMP_LINES], HSNAP_IS_PYFRAME(ip[k]) ? (uint32_t)py_frame_line(ip[k]) : 0);
        }
        at += depth;
    }
    sbuf_u32(&b[DUMP_AT], at);
    w->d->pub.code_from = code_from;
    w->d->pub.code_to = code_from < py_code_count() ? py_put_names(&b[DUMP_NAMES], code_from)
                                                    : code_from;
    py_code_unlock();
}

static void dump_publish(struct dump_owned *d)
{
    struct heapsnap_dump *p = &d->pub;
    struct sbuf *b = d->b;
    p->nitems = b[DUMP_SIZES].len / sizeof(uint64_t);
    p->sizes = (const uint64_t *)b[DUMP_SIZES].p;
    p->counts = (const uint64_t *)b[DUMP_COUNTS].p; /* NULL for blocks: one each */
    p->traces = (const uint32_t *)b[DUMP_TRACES].p;
    p->ntraces = (uint32_t)(b[DUMP_IDS].len / sizeof(uint32_t));
    p->trace_ids = (const uint32_t *)b[DUMP_IDS].p;
    p->frame_at = (const uint32_t *)b[DUMP_AT].p;
    p->frames = (const uint64_t *)b[DUMP_FRAMES].p;
    p->lines = (const int32_t *)b[DUMP_LINES].p;
    p->names = b[DUMP_NAMES].p;
    p->names_len = b[DUMP_NAMES].len;
    p->py_version = py_version();
}

void dump_free(struct heapsnap_dump *pub)
{
    struct dump_owned *d = (struct dump_owned *)pub;
    if (!d)
        return;
    for (int i = 0; i < DUMP_NBUF; i++)
        sbuf_free(&d->b[i]);
    arena_unmap(d, sizeof *d);
}

struct heapsnap_dump *dump_take(int what, unsigned since, const void *block,
                                unsigned code_from)
{
    if (what < HEAPSNAP_DUMP_BLOCKS || what > HEAPSNAP_DUMP_BLOCK)
        return NULL;
    struct dump_owned *d = arena_map(sizeof *d);
    if (!d)
        return NULL;
    struct dump_walk w = {d, what == HEAPSNAP_DUMP_BLOCKS || what == HEAPSNAP_DUMP_BLOCK
                                 ? since : 0,
                          what == HEAPSNAP_DUMP_BLOCK ? (uintptr_t)block : 0, NULL, 0};
    w.nseen = trace_count() + 1024; /* and traces born during the walk */
    size_t seen_len = ((size_t)w.nseen + 63) / 64 * sizeof(uint64_t);
    w.seen = arena_map(seen_len);
    int bad = !w.seen || dump_items(&w, what) != 0;
    if (!bad)
        dump_frames(&w, code_from);
    if (w.seen)
        arena_unmap(w.seen, seen_len);
    for (int i = 0; i < DUMP_NBUF; i++)
        bad |= d->b[i].err;
    if (bad) {
        dump_free(&d->pub);
        return NULL;
    }
    dump_publish(d);
    return &d->pub;
}
