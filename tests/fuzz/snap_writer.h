/*
 * snap_writer.h - a tiny, deliberately independent .hsnap writer for tests:
 * test_snap.c builds valid and damaged snapshots with it, mkcorpus.c writes
 * the fuzzer's seed files.  It follows shim/hsnap_format.h's grammar by hand
 * (not the shim's writer) so that the reader is checked against the spec.
 * The knobs in struct wopts produce one specific damage each.
 */
#ifndef SNAP_WRITER_H
#define SNAP_WRITER_H

#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <zlib.h>

#include "hsnap_format.h"
#include "hsnap_pyformat.h"

struct wbuf {
    uint8_t *p;
    size_t len, cap;
    size_t bounds[32]; /* offsets of every section header, then the end */
    int nbounds;
};

struct wopts {
    uint32_t version;          /* 0 = HSNAP_VERSION */
    int with_blocks;           /* BLOCKS + TIMELINE sections */
    int unknown_section;       /* add a section of type 99 before END */
    int omit_end;              /* no END section */
    int set_trace_count;       /* TRACES count = trace_count instead */
    uint32_t trace_count;
    int set_block_count;       /* BLOCKS count = block_count instead */
    uint64_t block_count;
    uint32_t block_trace;      /* trace id of block 1 (default 1) */
    int stats_short;           /* one STATS entry fewer than traces */
    int module_backwards;      /* module 1 has lo > hi */
    int one_module;            /* module 0 only: trace 1's ip is outside every module */
    int unsorted_blocks;       /* blocks 0 and 1 swapped */
    int with_leaks;            /* the leak heap below: classified BLOCKS + LEAKS */
    int leaks_extra_byte;      /* LEAKS one byte longer than its counts say */
    int leaks_bad_root;        /* record 0's root = block count */
    int leaks_bad_member;      /* member 1 = block count */
    int leaks_bad_cls;         /* record 0's class = INDIRECT */
    int leaks_members_over;    /* the last cycle's members run past member[] */
    int leaks_no_blocks;       /* LEAKS but no BLOCKS section */
    int ret_bad_trace;         /* RETAINERS item 2's target = trace count */
    int ret_bad_kind;          /* RETAINERS item 0's source kind = 9 */
    int ret_unsorted;          /* RETAINERS items 1 and 2 swapped */
    int hold_bad_from;         /* HOLDERS item 3's from = block count */
    int hold_bad_kind;         /* HOLDERS range 0's kind = 9 */
    int hold_short;            /* HOLDERS one item fewer than blocks */
    const char *cmdline;       /* META's strings and module 0's path, when */
    const char *exe;           /* set (hostile names: control characters, */
    const char *module0;       /* invalid UTF-8) */
    uint64_t stats_bytes;      /* when set: every trace's live and total
                                  bytes (a crafted overflow) */
    int empty_trace2;          /* trace 2 recorded without frames (depth 0) */
    int shared2;               /* trace 2 shares this many outer frames with
                                  trace 1 (format 5's shared; 1: its outermost
                                  is trace 1's only ip, 2: more than trace 1 has) */
    /* SITELINE (format 2): three points of two site slots over the traces */
    int with_siteline;
    int with_pytypes;          /* PYTYPES (block 0x1000 a list, graph) and PYOWNED
                                  (0x2000 the list's): needs with_blocks */
    int pyowned_bad_owner;     /* PYOWNED's owner = PYTYPES' object count */
    int pyretain_below_own;    /* PYRETAIN (with with_pytypes): 0x1000 retains
                                  50 bytes, less than its own 100 */
    int with_gcfreed;          /* PYGCFREED: traces 0 and 2 collected (7 and 2
                                  objects, 448 and 96 B), the interpreter 12 */
    int with_threads;          /* THREADS: trace 0 thread 1 (tid 101 "main", main),
                                  trace 1 thread 2 (tid 102 "worker", ended),
                                  trace 2 none */
    int threads_bad_index;     /* ... trace 1 names thread 7, which has no record */
    int with_inherited;        /* INHERITED: a fork child of pid 4241 that still
                                  holds 123 inherited blocks, 45678 bytes */
    int inherited_short;       /* ... its payload 8 bytes short */
    int sl_bad_trace;          /* point 1's first site names trace 3 */
    int sl_bad_sum;            /* point 2's other one byte short */
    int sl_backwards;          /* point 2 earlier than point 1 */
    int sl_nsites;             /* head.nsites instead of 2 (0: 2) */
    uint32_t pid;              /* META's pid (0: 4242) */
};

/* The leak heap (with_leaks): 14 blocks over the three traces.  Records:
 *   A root 0  direct  16 B, owns blocks 1,2 (indirect, 32 B)
 *   B root 3  direct  24 B
 *   C root 4  cycle   4 -> 5 -> 6 (24 B)
 *   D root 10 direct  32 B, owns the cycle 11,12 (16 B, indirect to D)
 *   E root 13 cycle   a self-reference (40 B): a cycle of one, which the
 *                     model no longer writes (it is direct) but an old
 *                     snapshot may hold; the CLI shows what it holds
 * Totals: direct 72 B/3, indirect 32/2, cycle 80/6, possible 100/1,
 * reachable 4103/2.  Traces: 0 = A B 6 9 11 12, 1 = 7 8, 2 = the rest. */
#define W_NLEAK_BLOCKS 14
static const struct hsnap_block w_leak_blocks[W_NLEAK_BLOCKS] = {
    {0x1000, 16, 0, 0, 0, HSNAP_CLASS_DIRECT, 0, 0},
    {0x1100, 16, 2, 0, 1, HSNAP_CLASS_INDIRECT, HSNAP_BLOCK_START, 0},
    {0x1200, 16, 2, 0, 1, HSNAP_CLASS_INDIRECT, HSNAP_BLOCK_START, 0},
    {0x2000, 24, 0, 0, 0, HSNAP_CLASS_DIRECT, 0, 0},
    {0x3000, 8, 2, 1, 1, HSNAP_CLASS_CYCLE, HSNAP_BLOCK_START, 0},
    {0x3100, 8, 2, 1, 1, HSNAP_CLASS_CYCLE, HSNAP_BLOCK_START, 0},
    {0x3200, 8, 0, 1, 2, HSNAP_CLASS_CYCLE, HSNAP_BLOCK_START, 0},
    {0x4000, 100, 1, 1, 1, HSNAP_CLASS_POSSIBLE, HSNAP_BLOCK_INTERIOR, 0},
    {0x5000, 4096, 1, 1, 1, HSNAP_CLASS_REACHABLE, HSNAP_BLOCK_START | HSNAP_BLOCK_ROOTREF, 0},
    {0x6000, 7, 0, 2, 3, HSNAP_CLASS_REACHABLE, HSNAP_BLOCK_START | HSNAP_BLOCK_ROOTREF, 0},
    {0x7000, 32, 2, 2, 0, HSNAP_CLASS_DIRECT, 0, 0},
    {0x7100, 8, 0, 2, 2, HSNAP_CLASS_CYCLE, HSNAP_BLOCK_START, 0},
    {0x7200, 8, 0, 2, 1, HSNAP_CLASS_CYCLE, HSNAP_BLOCK_START, 0},
    {0x8000, 40, 2, 2, 1, HSNAP_CLASS_CYCLE, HSNAP_BLOCK_START | HSNAP_BLOCK_SELF, 0},
};
static const struct hsnap_leak_record w_leak_records[5] = {
    {0, HSNAP_CLASS_DIRECT, 0, 0, 16, 1, 32, 2, 0, 0},
    {3, HSNAP_CLASS_DIRECT, 0, 0, 24, 1, 0, 0, 0, 0},
    {4, HSNAP_CLASS_CYCLE, 0, 3, 24, 3, 0, 0, 1, 2},
    {10, HSNAP_CLASS_DIRECT, 0, 0, 32, 1, 16, 2, 0, 0},
    {13, HSNAP_CLASS_CYCLE, 3, 1, 40, 1, 0, 0, 1, 1},
};
static const uint32_t w_leak_members[4] = {4, 5, 6, 13};

/* Who keeps the leak heap's live blocks: block 9 (trace 0, 7 B) from module
 * data; block 8 (trace 1, 4096 B) from a stack, block 7 (trace 1, possible)
 * through an interior pointer from a trace-0 block. */
static const struct hsnap_retainer w_retainers[3] = {
    {0, HSNAP_RET_DATA, 0, 0, 2, 1, 7},
    {1, HSNAP_RET_BLOCK, 0, 0, 1, 0, 0},
    {1, HSNAP_RET_STACK, 0, 0, 1, 1, 4096},
};

static void w_put(struct wbuf *w, const void *d, size_t n)
{
    if (w->len + n > w->cap) {
        w->cap = (w->len + n) * 2 + 256;
        w->p = realloc(w->p, w->cap);
    }
    memcpy(w->p + w->len, d, n);
    w->len += n;
}
static void w_u16(struct wbuf *w, uint16_t v) { w_put(w, &v, 2); }
static void w_u32(struct wbuf *w, uint32_t v) { w_put(w, &v, 4); }
static void w_u64(struct wbuf *w, uint64_t v) { w_put(w, &v, 8); }
static void w_str(struct wbuf *w, const char *s)
{
    w_u32(w, (uint32_t)strlen(s));
    w_put(w, s, strlen(s));
}

static size_t w_sec_begin(struct wbuf *w, uint32_t type)
{
    struct hsnap_section sh = {type, 0, 0};
    size_t at = w->len;
    w->bounds[w->nbounds++] = at;
    w_put(w, &sh, sizeof(sh));
    return at;
}

static void w_sec_end(struct wbuf *w, size_t at)
{
    struct hsnap_section sh;
    memcpy(&sh, w->p + at, sizeof(sh));
    sh.length = w->len - at - sizeof(sh);
    sh.crc32 = (uint32_t)crc32(0L, w->p + at + sizeof(sh), (uInt)sh.length);
    memcpy(w->p + at, &sh, sizeof(sh));
}

/* The test program's three traces (ids 0..2): depths 2, 1, 3. */
static const uint64_t w_ips[] = {0x401010, 0x401020, 0x7f0000001000, 0x401030, 0x401040,
                                 0x401050};
static const uint16_t w_depths[] = {2, 1, 3};

static void w_meta(struct wbuf *w, const struct wopts *o)
{
    struct hsnap_meta m;
    memset(&m, 0, sizeof(m));
    m.pid = o->pid ? o->pid : 4242;
    m.ppid = 1;
    m.time_ns = 1700000000000000000ull;
    m.start_ns = 1699999999000000000ull;
    m.reason = HSNAP_REASON_EXIT;
    m.depth = 64;
    m.current_bytes = 4096 + 100 + 7;
    m.peak_bytes = 9000;
    m.live_blocks = 4;
    m.total_allocs = 10;
    m.total_frees = 6;
    if (o->with_pytypes) /* as the shim writes it with BLOCKS (merge keeps them) */
        m.flags |= HSNAP_META_HAS_BLOCKS;
    size_t at = w_sec_begin(w, HSNAP_SEC_META);
    w_put(w, &m, sizeof(m));
    w_str(w, o->cmdline ? o->cmdline : "./prog --flag");
    w_str(w, o->exe ? o->exe : "/nonexistent/prog");
    w_sec_end(w, at);
}

static void w_modules(struct wbuf *w, const struct wopts *o)
{
    const char *paths[] = {o->module0 ? o->module0 : "/nonexistent/prog",
                           "/nonexistent/libc.so.6"};
    static const uint64_t lo[] = {0x400000, 0x7f0000000000}, hi[] = {0x402000, 0x7f0000100000};
    static const uint8_t bid[4] = {0xde, 0xad, 0xbe, 0xef};
    size_t at = w_sec_begin(w, HSNAP_SEC_MODULES);
    w_u32(w, o->one_module ? 1 : 2);
    for (int i = 0; i < (o->one_module ? 1 : 2); i++) {
        int back = o->module_backwards && i == 1;
        w_u64(w, i ? lo[i] : 0);
        w_u64(w, back ? hi[i] : lo[i]);
        w_u64(w, back ? lo[i] : hi[i]);
        w_u16(w, (uint16_t)strlen(paths[i]));
        w_u16(w, 4);
        w_u32(w, 0);
        w_put(w, paths[i], strlen(paths[i]));
        w_put(w, bid, 4);
    }
    w_sec_end(w, at);
}

static void w_traces(struct wbuf *w, const struct wopts *o)
{
    size_t at = w_sec_begin(w, HSNAP_SEC_TRACES), k = 0;
    w_u32(w, o->set_trace_count ? o->trace_count : 3);
    for (int t = 0; t < 3; t++) {
        int depth = o->empty_trace2 && t == 2 ? 0 : w_depths[t];
        int shared = t == 2 ? o->shared2 : 0;
        w_u16(w, (uint16_t)depth);
        w_u16(w, 0);
        w_u16(w, (uint16_t)shared);
        w_u16(w, 0);
        for (int d = 0; d < depth - shared; d++)
            w_u64(w, w_ips[k + d]);
        k += w_depths[t];
    }
    w_sec_end(w, at);
    at = w_sec_begin(w, HSNAP_SEC_STATS);
    int n = o->stats_short ? 2 : 3;
    w_u32(w, (uint32_t)n);
    for (int t = 0; t < n; t++) {
        struct hsnap_stat s = {t == 2 ? 0 : (uint64_t)(t + 1), t == 0 ? 100 : t == 1 ? 4103 : 0,
                               (uint64_t)(t + 3), 5000};
        if (o->stats_bytes)
            s.live_bytes = s.total_bytes = o->stats_bytes;
        if (o->with_leaks) {
            s.live_count = s.live_bytes = 0;
            for (int b = 0; b < W_NLEAK_BLOCKS; b++)
                if (w_leak_blocks[b].trace == (uint32_t)t) {
                    s.live_count++;
                    s.live_bytes += w_leak_blocks[b].size;
                }
        }
        w_put(w, &s, sizeof(s));
    }
    w_sec_end(w, at);
}

static void w_blocks(struct wbuf *w, const struct wopts *o)
{
    struct hsnap_block b[3] = {
        {0x1000, 100, 0, 0, 0, 0, 0, 0},
        {0x2000, 4096, o->block_trace ? o->block_trace : 1, 1, 0, 0, 0, 0},
        {0x3000, 7, 1, 1, 0, 0, 0, 0},
    };
    if (o->unsorted_blocks) {
        struct hsnap_block t = b[0];
        b[0] = b[1];
        b[1] = t;
    }
    size_t at = w_sec_begin(w, HSNAP_SEC_BLOCKS);
    w_u64(w, o->set_block_count ? o->block_count : 3);
    w_put(w, b, sizeof(b));
    w_sec_end(w, at);
    at = w_sec_begin(w, HSNAP_SEC_TIMELINE);
    w_u32(w, 2);
    struct hsnap_point pts[2] = {{0, 0}, {1000000, 4203}};
    w_put(w, pts, sizeof(pts));
    w_sec_end(w, at);
}

/* PYTYPES: the block at 0x1000 is a list (the graph built, no links);
 * PYOWNED: the block at 0x2000 is its item array. */
static void w_pytypes(struct wbuf *w, const struct wopts *o)
{
    struct hsnap_pytypes_head h = {.ntypes = 1, .flags = HSNAP_PYTYPES_GRAPH,
                                   .nobjects = 1, .names_len = 4};
    struct hsnap_pyobj ob = {0x1000, 0, 16, HSNAP_PYOBJ_TRACKED | HSNAP_PYOBJ_EXTERNAL};
    struct hsnap_pytype t = {0, 4, HSNAP_PYTYPE_GC, 0};
    struct hsnap_pyowned own = {0x2000, o->pyowned_bad_owner ? 1 : 0, 0};
    size_t at = w_sec_begin(w, HSNAP_SEC_PYTYPES);
    w_put(w, &h, sizeof(h));
    w_put(w, &ob, sizeof(ob));
    w_put(w, &t, sizeof(t));
    w_put(w, "list", 4);
    w_sec_end(w, at);
    at = w_sec_begin(w, HSNAP_SEC_PYOWNED);
    w_u64(w, 1);
    w_put(w, &own, sizeof(own));
    w_sec_end(w, at);
    if (o->pyretain_below_own) {
        struct hsnap_pyretain r = {0x1000, 50, HSNAP_PYRETAIN_ROOT, HSNAP_PYRETAIN_HELD, 0, 0};
        at = w_sec_begin(w, HSNAP_SEC_PYRETAIN);
        w_put(w, &r, sizeof(r));
        w_sec_end(w, at);
    }
}

/* HOLDERS for the leak heap: the indirect and cycle blocks under their
 * records' roots; 0x4000 (possibly lost) held +24 into it from 0x5000,
 * held from the stack of thread 77 ("worker"); 0x6000 from the data
 * range; the rest none.  One module's TLS. */
static void w_holders(struct wbuf *w, const struct wopts *o)
{
    static const uint32_t from[W_NLEAK_BLOCKS] = {
        HSNAP_HOLD_NONE, 0, 0, HSNAP_HOLD_NONE, 4, 4, 4, 8, HSNAP_HOLD_ROOT,
        HSNAP_HOLD_ROOT, HSNAP_HOLD_NONE, 10, 10, HSNAP_HOLD_NONE};
    uint32_t n = W_NLEAK_BLOCKS - (o->hold_short ? 1 : 0);
    struct hsnap_holders_head h = {n, 2, 1, 2, 1, 0};
    struct hsnap_hold_range r[2] = {{0x601000, 0x602000, 0, HSNAP_RET_DATA, 0, ""},
                                    {0x7ff000, 0x800000, 0x7fe000, HSNAP_RET_STACK, 77, "worker"}};
    struct hsnap_hold_tls t = {0, 0x80, 0x40};
    uint64_t at[2] = {0x7ff100, 0x601010}; /* blocks 8, 9 */
    struct hsnap_hold_in in = {7, 24};
    if (o->hold_bad_kind)
        r[0].kind = 9;
    size_t a = w_sec_begin(w, HSNAP_SEC_HOLDERS);
    w_put(w, &h, sizeof h);
    for (uint32_t i = 0; i < n; i++) {
        struct hsnap_hold e = {from[i], i == 7 ? 8 : i == 9 ? 1 : 0}; /* 7: 8 bytes into 0x5000 */
        if (o->hold_bad_from && i == 3)
            e.from = W_NLEAK_BLOCKS;
        w_put(w, &e, sizeof e);
    }
    w_put(w, at, sizeof at);
    w_put(w, &in, sizeof in);
    w_put(w, r, sizeof r);
    w_put(w, &t, sizeof t);
    w_sec_end(w, a);
}

static void w_leaks(struct wbuf *w, const struct wopts *o)
{
    struct hsnap_leak_record r[5];
    uint32_t m[4];
    struct hsnap_leak_total tot[HSNAP_CLASS_IGNORED + 1];
    memcpy(r, w_leak_records, sizeof(r));
    memcpy(m, w_leak_members, sizeof(m));
    memset(tot, 0, sizeof(tot));
    for (int b = 0; b < W_NLEAK_BLOCKS; b++) {
        tot[w_leak_blocks[b].cls].bytes += w_leak_blocks[b].size;
        tot[w_leak_blocks[b].cls].blocks++;
    }
    if (o->leaks_bad_root)
        r[0].root = W_NLEAK_BLOCKS;
    if (o->leaks_bad_member)
        m[1] = W_NLEAK_BLOCKS;
    if (o->leaks_bad_cls)
        r[0].cls = HSNAP_CLASS_INDIRECT;
    if (o->leaks_members_over)
        r[4].nmembers = 2;
    if (!o->leaks_no_blocks) {
        size_t at = w_sec_begin(w, HSNAP_SEC_BLOCKS);
        w_u64(w, W_NLEAK_BLOCKS);
        w_put(w, w_leak_blocks, sizeof(w_leak_blocks));
        w_sec_end(w, at);
    }
    size_t at = w_sec_begin(w, HSNAP_SEC_LEAKS);
    struct hsnap_leaks_head h = {HSNAP_CLASS_IGNORED + 1, 5, 4, 0, 12345, 4096, 0};
    w_put(w, &h, sizeof(h));
    w_put(w, tot, sizeof(tot));
    w_put(w, r, sizeof(r));
    w_put(w, m, sizeof(m));
    if (o->leaks_extra_byte)
        w_put(w, "", 1);
    w_sec_end(w, at);
    struct hsnap_retainer rv[3];
    memcpy(rv, w_retainers, sizeof(rv));
    if (o->ret_bad_trace)
        rv[2].target_trace = 3;
    if (o->ret_bad_kind)
        rv[0].source_kind = 9;
    if (o->ret_unsorted) {
        rv[1] = w_retainers[2];
        rv[2] = w_retainers[1];
    }
    at = w_sec_begin(w, HSNAP_SEC_RETAINERS);
    w_u32(w, 3);
    w_u32(w, 0);
    w_put(w, rv, sizeof(rv));
    w_sec_end(w, at);
    w_holders(w, o);
}

/* SITELINE: trace 0 grows then goes, trace 1 comes later. */
static void w_siteline(struct wbuf *w, const struct wopts *o)
{
    struct {
        struct hsnap_siteline_point p;
        struct hsnap_siteline_site s[2];
    } pt[3] = {
        {{1000000, 150, 8192, 50}, {{0, 0, 100}, {HSNAP_SITELINE_NONE, 0, 0}}},
        {{2000000, 400, 12288, 0}, {{0, 0, 300}, {1, 0, 100}}},
        {{3000000, 4203, 16384, 0}, {{1, 0, 4103}, {0, 0, 100}}},
    };
    if (o->sl_bad_trace)
        pt[1].s[0].trace = 3;
    if (o->sl_bad_sum)
        pt[2].p.other = 1; /* heap is then 1 byte more than the sites */
    if (o->sl_backwards)
        pt[2].p.t_ns = 1500000;
    struct hsnap_siteline_head h = {3, o->sl_nsites ? (uint32_t)o->sl_nsites : 2, 20000000,
                                    150000, 10000000};
    size_t at = w_sec_begin(w, HSNAP_SEC_SITELINE);
    w_put(w, &h, sizeof(h));
    w_put(w, pt, sizeof(pt));
    w_sec_end(w, at);
}

/* Decompression bombs (issue 44): zstd frames built by hand from RLE
 * blocks (RFC 8878 3.1.1.2: one byte repeated up to 128 KiB, 4 bytes on
 * disk), which is what makes a bomb small; libzstd would take seconds to
 * compress 2 GiB. */
#define W_RLE_BLOCK (128u << 10)

/* One zstd frame of total zero bytes: with its content size, or without
 * (size_known 0, so only the blocks say how much it holds). */
static void w_frame(struct wbuf *w, uint64_t total, int size_known)
{
    static const uint8_t magic[4] = {0x28, 0xb5, 0x2f, 0xfd};
    w_put(w, magic, 4);
    uint8_t fhd = size_known ? 0xc0 : 0x00, window = 0x38; /* 8-byte size; 128 KiB window */
    w_put(w, &fhd, 1);
    w_put(w, &window, 1);
    if (size_known)
        w_u64(w, total);
    do {
        uint32_t n = total < W_RLE_BLOCK ? (uint32_t)total : W_RLE_BLOCK;
        total -= n;
        uint32_t hdr = n << 3 | (n ? 1u << 1 : 0) | (total == 0); /* RLE, or an empty raw */
        uint8_t b[4] = {(uint8_t)hdr, (uint8_t)(hdr >> 8), (uint8_t)(hdr >> 16), 0};
        w_put(w, b, n ? 4 : 3);
    } while (total);
}

/* A compressed section of type t: zhead, head (head_len bytes), frame. */
static void w_zsec(struct wbuf *w, uint32_t t, const void *head, uint32_t head_len,
                   uint64_t raw, uint64_t frame_bytes, int size_known)
{
    size_t at = w_sec_begin(w, t | HSNAP_SEC_ZSTD);
    struct hsnap_zhead zh = {raw, head_len, 0};
    w_put(w, &zh, sizeof zh);
    w_put(w, head, head_len);
    w_frame(w, frame_bytes, size_known);
    w_sec_end(w, at);
}

static void w_head(struct wbuf *w)
{
    struct hsnap_header h;
    memcpy(h.magic, HSNAP_MAGIC, HSNAP_MAGIC_LEN);
    h.version = HSNAP_VERSION;
    h.header_size = sizeof h;
    h.file_size = 0;
    w_put(w, &h, sizeof h);
}

static void w_close(struct wbuf *w)
{
    w_sec_end(w, w_sec_begin(w, HSNAP_SEC_END));
    struct hsnap_header h;
    memcpy(&h, w->p, sizeof h);
    h.file_size = w->len;
    memcpy(w->p, &h, sizeof h);
}

/* A snapshot; kind: traces, frame8g, liar, or a state's document (no
 * TRACES): doc (a STATS of 2 GiB) or emptydoc (a STATS of none). */
static void w_bomb(struct wbuf *w, const char *kind)
{
    struct wopts o = {0};
    w_head(w);
    w_meta(w, &o);
    w_modules(w, &o);
    uint32_t count = 0x0fffffff, six = 6u << 20, none = 0;
    if (!strcmp(kind, "traces"))
        w_zsec(w, HSNAP_SEC_TRACES, &count, 4, 4 + (2ull << 30), 2ull << 30, 1);
    else if (!strcmp(kind, "liar"))
        w_zsec(w, HSNAP_SEC_TRACES, &six, 4, 4 + (48ull << 20), 2ull << 30, 0);
    else if (strcmp(kind, "doc") && strcmp(kind, "emptydoc"))
        w_zsec(w, HSNAP_SEC_TRACES, &none, 4, 4, 0, 1);
    if (!strcmp(kind, "frame8g") || !strcmp(kind, "doc")) {
        uint64_t raw = !strcmp(kind, "doc") ? 2ull << 30 : 8ull << 30;
        w_zsec(w, HSNAP_SEC_STATS, &none, 4, 4 + raw, raw, 1);
    } else {
        size_t at = w_sec_begin(w, HSNAP_SEC_STATS);
        w_u32(w, 0);
        w_sec_end(w, at);
    }
    w_close(w);
}

/* Builds a whole file into w (w zeroed by the caller); free(w->p) after. */
static void w_snapshot(struct wbuf *w, const struct wopts *o)
{
    struct hsnap_header h;
    memcpy(h.magic, HSNAP_MAGIC, HSNAP_MAGIC_LEN);
    h.version = o->version ? o->version : HSNAP_VERSION;
    h.header_size = sizeof(h);
    h.file_size = 0;
    w_put(w, &h, sizeof(h));
    w_meta(w, o);
    w_modules(w, o);
    w_traces(w, o);
    if (o->with_blocks && !o->with_leaks)
        w_blocks(w, o);
    if (o->with_leaks)
        w_leaks(w, o);
    if (o->with_siteline)
        w_siteline(w, o);
    if (o->with_pytypes && o->with_blocks && !o->with_leaks)
        w_pytypes(w, o);
    if (o->with_gcfreed) {
        size_t at = w_sec_begin(w, HSNAP_SEC_PYGCFREED);
        w_u32(w, 2);
        w_u32(w, 0);
        w_u64(w, 12); /* the interpreter's collected */
        w_u64(w, 0);  /* dropped */
        w_u32(w, 0), w_u32(w, 0), w_u64(w, 7), w_u64(w, 448);
        w_u32(w, 2), w_u32(w, 0), w_u64(w, 2), w_u64(w, 96);
        w_sec_end(w, at);
    }
    if (o->with_threads) {
        size_t at = w_sec_begin(w, HSNAP_SEC_THREADS);
        struct hsnap_threads_head th = {2, 3, sizeof(struct hsnap_thread), 0};
        struct hsnap_thread t1 = {1, 101, HSNAP_THREAD_MAIN, 0, "main"},
                            t2 = {2, 102, HSNAP_THREAD_ENDED, 0, "worker"};
        uint16_t of[3] = {1, (uint16_t)(o->threads_bad_index ? 7 : 2), HSNAP_THREAD_NONE};
        w_put(w, &th, sizeof th);
        w_put(w, &t1, sizeof t1);
        w_put(w, &t2, sizeof t2);
        w_put(w, of, sizeof of);
        w_sec_end(w, at);
    }
    if (o->with_inherited) {
        size_t at = w_sec_begin(w, HSNAP_SEC_INHERITED);
        struct hsnap_inherited ih = {4241, 2, 123, 45678, {0, 0}};
        w_put(w, &ih, sizeof ih - (o->inherited_short ? 8 : 0));
        w_sec_end(w, at);
    }
    if (o->unknown_section) {
        size_t at = w_sec_begin(w, 99);
        w_str(w, "a future section nobody reads yet");
        w_sec_end(w, at);
    }
    if (!o->omit_end)
        w_sec_end(w, w_sec_begin(w, HSNAP_SEC_END));
    w->bounds[w->nbounds++] = w->len;
    h.file_size = w->len;
    memcpy(w->p, &h, sizeof(h));
}

#endif
