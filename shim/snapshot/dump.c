/*
 * dump.c - the live blocks handed to the process itself (heapsnap_dump),
 * without a file: what the Python package builds tracemalloc's Snapshot
 * from, in the process, at the cost of a walk of the table.
 *
 * A dump is one item per live block (or, for the per-trace kinds, one per
 * trace with something live: now, or at the peak's capture), the traces
 * the items name with their frames (native return addresses, and Python
 * frames as HSNAP_PY_TAG words with their lines read from the copied line
 * tables once per word: a memo), their Python frames again apart (a
 * Snapshot's tracebacks; HEAPSNAP_DUMP_PYTHON_ONLY leaves the native ones
 * out), and the names of the code objects copied since the caller's last
 * dump (code ids only grow and a code's record never changes, so a caller
 * keeps the names it was given).  Everything is in the shim's own mappings
 * (sbufs), never the host's malloc, and goes with heapsnap_dump_free.  No
 * snapshot lock: the table's stripes are locked one at a time by
 * pend_foreach, then the code table (a hook's lock order: pycode) while
 * the frames are read; traces' frames never change.
 */
#include <string.h>

#include "heapsnap.h"
#include "hsnap_pyformat.h"
#include "python.h"
#include "pywrap.h"
#include "snapshot.h"

enum { DUMP_SIZES, DUMP_COUNTS, DUMP_TRACES, DUMP_IDS, DUMP_AT, DUMP_FRAMES, DUMP_LINES,
       DUMP_PY_AT, DUMP_PY, DUMP_NAMES, DUMP_PTRS, DUMP_DOMAINS, DUMP_PY_TOTAL, DUMP_NBUF };

/* Lines already read, by frame word: a module's code has a long line
 * table, and its frames are in thousands of traces. */
struct dump_memo {
    uint64_t *keys;  /* 0: empty */
    int32_t *lines;
    uint32_t slots, used;
};

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
    struct dump_memo memo;
    int domains;             /* blocks' addresses kept, for their domains */
};

static void dump_memo_free(struct dump_memo *m)
{
    if (m->keys) {
        arena_unmap(m->keys, (size_t)m->slots * sizeof *m->keys);
        arena_unmap(m->lines, (size_t)m->slots * sizeof *m->lines);
    }
    *m = (struct dump_memo){0};
}

static void dump_memo_put(struct dump_memo *m, uint64_t w, int32_t line);

/* Room for one more word (the table at most half full); -1: no memory. */
static int dump_memo_room(struct dump_memo *m)
{
    if ((m->used + 1) * 2 <= m->slots)
        return 0;
    struct dump_memo big = {0, 0, m->slots ? m->slots * 2 : 1u << 14, 0};
    big.keys = arena_map((size_t)big.slots * sizeof *big.keys);
    big.lines = big.keys ? arena_map((size_t)big.slots * sizeof *big.lines) : NULL;
    if (!big.lines) {
        if (big.keys)
            arena_unmap(big.keys, (size_t)big.slots * sizeof *big.keys);
        return -1;
    }
    for (uint32_t i = 0; i < m->slots; i++)
        if (m->keys[i])
            dump_memo_put(&big, m->keys[i], m->lines[i]);
    dump_memo_free(m);
    *m = big;
    return 0;
}

static uint32_t dump_memo_slot(const struct dump_memo *m, uint64_t w)
{
    uint32_t s = (uint32_t)((w * 0x9e3779b97f4a7c15ull) >> 32) & (m->slots - 1);
    while (m->keys[s] && m->keys[s] != w)
        s = (s + 1) & (m->slots - 1);
    return s;
}

static void dump_memo_put(struct dump_memo *m, uint64_t w, int32_t line)
{
    uint32_t s = dump_memo_slot(m, w);
    m->used += !m->keys[s];
    m->keys[s] = w;
    m->lines[s] = line;
}

/* Python frame word w's line, read once per dump; code lock held. */
static int32_t dump_line(struct dump_memo *m, uint64_t w)
{
    if (m->slots) {
        uint32_t s = dump_memo_slot(m, w);
        if (m->keys[s])
            return m->lines[s];
    }
    int32_t line = pyfr_frame_line(w);
    if (dump_memo_room(m) == 0)
        dump_memo_put(m, w, line);
    return line;
}

static void dump_mark(struct dump_walk *w, uint32_t id)
{
    if (id < w->nseen)
        w->seen[id >> 6] |= 1ull << (id & 63);
}

static int dump_block(const struct tbl_entry *e, void *arg)
{
    struct dump_walk *w = arg;
    /* a trace born during the walk past nseen's margin could not be named */
    if (e->epoch < w->since || (w->block && e->ptr != w->block) || e->trace >= w->nseen)
        return 0;
    sbuf_u64(&w->d->b[DUMP_SIZES], e->size);
    sbuf_u32(&w->d->b[DUMP_TRACES], e->trace);
    if (w->domains)
        sbuf_u64(&w->d->b[DUMP_PTRS], e->ptr);
    dump_mark(w, e->trace);
    return 0;
}

/* The blocks' tracemalloc domains (PyTraceMalloc_Track), read after the
 * walk: the domains' lock is taken alone (the lock order of root.h). */
static void dump_domains(struct dump_walk *w)
{
    struct sbuf *b = w->d->b;
    const uint64_t *ptr = (const uint64_t *)b[DUMP_PTRS].p, *size = (const uint64_t *)b[DUMP_SIZES].p;
    size_t n = b[DUMP_PTRS].len / sizeof(uint64_t);
    for (size_t i = 0; i < n; i++)
        sbuf_u32(&b[DUMP_DOMAINS], pyw_domain_of((uintptr_t)ptr[i], size[i]));
    sbuf_free(&b[DUMP_PTRS]);
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
    if (what == HEAPSNAP_DUMP_BLOCK && tbl_find(w->block, &e)) { /* else fresh: walk */
        dump_block(&e, w);
        if (w->domains)
            dump_domains(w);
        return 0;
    }
    if (what == HEAPSNAP_DUMP_BLOCKS || what == HEAPSNAP_DUMP_BLOCK) {
        if (pend_foreach(dump_block, w, 0, NULL) < 0)
            return -1;
        if (w->domains)
            dump_domains(w);
        return 0;
    }
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
static void dump_frames(struct dump_walk *w, uint32_t code_from, int py_only, unsigned py_max)
{
    struct sbuf *b = w->d->b;
    uintptr_t ip[TRACE_DEPTH_MAX];
    uint32_t at = 0, py_at = 0;
    pyfr_code_lock();
    for (uint32_t id = 0; id < w->nseen; id++) {
        if (!(w->seen[id >> 6] >> (id & 63) & 1))
            continue;
        unsigned flags, depth = trace_stack(id, ip, TRACE_DEPTH_MAX, &flags);
        if (depth > TRACE_DEPTH_MAX)
            depth = TRACE_DEPTH_MAX;
        sbuf_u32(&b[DUMP_IDS], id);
        sbuf_u32(&b[DUMP_AT], at);
        sbuf_u32(&b[DUMP_PY_AT], py_at);
        uint32_t had = py_at, npy = 0;
        for (unsigned k = 0; k < depth; k++) {
            if (!HSNAP_IS_PYFRAME(ip[k]) || (py_max && npy++ >= py_max))
                continue;
            int32_t line = dump_line(&w->memo, ip[k]);
            sbuf_u64(&b[DUMP_PY], (ip[k] & ~HSNAP_PY_TAG_MASK) >> HSNAP_PY_CODE_SHIFT << 32 |
                                      (uint32_t)line);
            py_at++;
        }
        if (py_max)
            sbuf_u32(&b[DUMP_PY_TOTAL], npy);
        if (py_only && py_at > had)
            continue; /* its native frames are not wanted */
        for (unsigned k = 0; k < depth; k++) {
            sbuf_u64(&b[DUMP_FRAMES], ip[k]);
            sbuf_u32(&b[DUMP_LINES], HSNAP_IS_PYFRAME(ip[k]) ? (uint32_t)dump_line(&w->memo, ip[k])
                                                             : 0);
        }
        at += depth;
    }
    sbuf_u32(&b[DUMP_AT], at);
    sbuf_u32(&b[DUMP_PY_AT], py_at);
    w->d->pub.code_from = code_from;
    w->d->pub.code_to = code_from < pyfr_code_count() ? pyfr_put_names(&b[DUMP_NAMES], code_from)
                                                    : code_from;
    pyfr_code_unlock();
}

/* HEAPSNAP_DUMP_PLACES: each item's trace id becomes its trace's place in
 * DUMP_IDS, the number of named ids below it (dump_frames lists the named
 * ids ascending): a count of the seen bits before it, from a prefix count
 * per 64 ids. */
static int dump_places(struct dump_walk *w)
{
    uint32_t words = (w->nseen + 63) / 64;
    size_t len = (size_t)words * sizeof(uint32_t);
    uint32_t *before = arena_map(len);
    if (!before)
        return -1;
    for (uint32_t k = 0, n = 0; k < words; k++) {
        before[k] = n;
        n += (uint32_t)hs_popcount64(w->seen[k]);
    }
    struct sbuf *b = &w->d->b[DUMP_TRACES];
    uint32_t *t = (uint32_t *)b->p;
    for (size_t i = 0, n = b->len / sizeof(uint32_t); i < n; i++) {
        uint32_t id = t[i]; /* < nseen: dump_block named it */
        uint64_t below = w->seen[id >> 6] & ((1ull << (id & 63)) - 1);
        t[i] = before[id >> 6] + (uint32_t)hs_popcount64(below);
    }
    arena_unmap(before, len);
    return 0;
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
    p->py_at = (const uint32_t *)b[DUMP_PY_AT].p;
    p->py_frames = (const uint64_t *)b[DUMP_PY].p;
    p->names = b[DUMP_NAMES].p;
    p->names_len = b[DUMP_NAMES].len;
    p->domains = (const uint32_t *)b[DUMP_DOMAINS].p; /* NULL: all 0 */
    p->py_total = (const uint32_t *)b[DUMP_PY_TOTAL].p; /* NULL: no limit */
    p->py_version = pyfr_version();
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
    int py_only = what & HEAPSNAP_DUMP_PYTHON_ONLY;
    int places = what & HEAPSNAP_DUMP_PLACES;
    unsigned py_max = (unsigned)what >> 16 & 0xffffu;
    what &= 0xff;
    if (what < HEAPSNAP_DUMP_BLOCKS || what > HEAPSNAP_DUMP_BLOCK)
        return NULL;
    struct dump_owned *d = arena_map(sizeof *d);
    if (!d)
        return NULL;
    struct dump_walk w = {d, what == HEAPSNAP_DUMP_BLOCKS || what == HEAPSNAP_DUMP_BLOCK
                                 ? since : 0,
                          what == HEAPSNAP_DUMP_BLOCK ? (uintptr_t)block : 0, NULL, 0, {0}, 0};
    w.nseen = trace_count() + 1024; /* and traces born during the walk */
    w.domains = pyw_domain_any();
    size_t seen_len = ((size_t)w.nseen + 63) / 64 * sizeof(uint64_t);
    w.seen = arena_map(seen_len);
    int bad = !w.seen || dump_items(&w, what) != 0;
    if (!bad)
        dump_frames(&w, code_from, py_only, py_max);
    if (!bad && places)
        bad = dump_places(&w) != 0;
    if (w.seen)
        arena_unmap(w.seen, seen_len);
    dump_memo_free(&w.memo);
    for (int i = 0; i < DUMP_NBUF; i++)
        bad |= d->b[i].err;
    if (bad) {
        dump_free(&d->pub);
        return NULL;
    }
    dump_publish(d);
    return &d->pub;
}
