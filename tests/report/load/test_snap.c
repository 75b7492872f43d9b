// link: report/load/snap.c report/load/threadsread.c report/load/snapfile.c report/load/inflate.c report/load/iptab.c report/load/stateread.c report/load/statenote.c report/load/section.c report/load/peakread.c report/load/lset.c report/load/sitelineread.c report/load/pycode.c report/load/pytypes.c report/base/escape.c report/load/pyretainread.c report/load/pygcfreedread.c report/base/input.c report/base/grow.c report/base/bigmem.c
/*
 * test_snap.c - the snapshot reader accepts a valid file, reads it right, and
 * refuses every kind of damage with a one-line reason (never a crash: this
 * test also runs under ASan/UBSan from tests/report/load/test_asan.sh).
 */
#include <stddef.h>
#include <stdio.h>
#include <unistd.h>
#include <zlib.h>
#include <zstd.h>

#include "../../fuzz/snap_writer.h"
#include "sitelineread.h"
#include "snap.h"
#include "unit.h"

static char err[512];

static int load(const struct wbuf *w, size_t len, struct snap *s)
{
    err[0] = 0;
    return snap_load_mem(w->p, len, s, err, sizeof(err));
}

/* Loads a snapshot built with o, expecting failure with want in the reason. */
static int refuses(const struct wopts *o, const char *want)
{
    struct wbuf w = {0};
    struct snap s;
    w_snapshot(&w, o);
    int rc = load(&w, w.len, &s);
    free(w.p);
    if (rc == 0) {
        snap_free(&s);
        snprintf(err, sizeof(err), "loaded");
        return 0;
    }
    return strstr(err, want) != NULL && !strchr(err, '\n');
}

TEST_BEGIN(valid_snapshot_loads_every_section)
{
    struct wbuf w = {0};
    struct wopts o = {.with_blocks = 1};
    struct snap s;
    w_snapshot(&w, &o);
    int rc = load(&w, w.len, &s);
    free(w.p);
    expect_true(rc == 0, "load failed: %s", err);
    expect_eq_u64(s.meta.pid, 4242);
    expect_str_eq(s.cmdline, "./prog --flag");
    expect_str_eq(s.exe, "/nonexistent/prog");
    expect_eq_u64(s.nmodules, 2);
    expect_str_eq(s.modules[1].path, "/nonexistent/libc.so.6");
    expect_eq_u64(s.modules[1].build_id_len, 4);
    expect_eq_u64(s.modules[1].build_id[3], 0xef);
    expect_eq_u64(s.ntraces, 3);
    expect_eq_u64(s.traces[2].depth, 3);
    expect_eq_u64(snap_ip(&s, &s.traces[2], 2), 0x401050);
    expect_eq_u64(snap_ip(&s, &s.traces[1], 0), 0x7f0000001000);
    expect_eq_u64(s.stats[1].live_bytes, 4103);
    expect_eq_u64(s.nblocks, 3);
    expect_eq_u64(s.blocks[2].size, 7);
    expect_eq_u64(s.npoints, 2);
    expect_eq_u64(s.points[1].bytes, 4203);
    expect_true(snap_module_at(&s, 0x401000) == &s.modules[0], "module_at exe");
    expect_true(snap_module_at(&s, 0x402000) == NULL, "module_at past the end");
    snap_free(&s);
}
TEST_END

TEST_BEGIN(unknown_section_type_is_skipped)
{
    struct wbuf w = {0};
    struct wopts o = {.unknown_section = 1, .with_blocks = 1};
    struct snap s;
    w_snapshot(&w, &o);
    int rc = load(&w, w.len, &s);
    free(w.p);
    expect_true(rc == 0, "load failed: %s", err);
    expect_eq_u64(s.ntraces, 3);
    snap_free(&s);
}
TEST_END

/* Every prefix of the file - each header byte, each section boundary and
 * everything between - is refused, and a prefix never reads past itself
 * (ASan checks that: the loader copies exactly len bytes). */
TEST_BEGIN(every_truncation_is_refused)
{
    struct wbuf w = {0};
    struct wopts o = {.with_blocks = 1, .unknown_section = 1};
    struct snap s;
    w_snapshot(&w, &o);
    for (size_t len = 0; len < w.len; len++) {
        int rc = load(&w, len, &s);
        if (rc == 0)
            snap_free(&s);
        expect_true(rc < 0, "prefix of %zu bytes loaded", len);
        const char *want = len == 0 ? "empty file" : "truncated";
        expect_true(strstr(err, want), "prefix %zu: \"%s\", want \"%s\"", len, err, want);
    }
    for (int i = 0; i < w.nbounds; i++)
        expect_true(w.bounds[i] <= w.len, "bound %d", i);
    free(w.p);
}
TEST_END

TEST_BEGIN(flipped_payload_bit_fails_checksum)
{
    struct wbuf w = {0};
    struct wopts o = {.with_blocks = 1};
    struct snap s;
    w_snapshot(&w, &o);
    for (int i = 0; i + 1 < w.nbounds; i++) {
        struct hsnap_section sh;
        memcpy(&sh, w.p + w.bounds[i], sizeof(sh));
        if (sh.length == 0)
            continue;
        size_t at = w.bounds[i] + sizeof(sh) + sh.length / 2;
        w.p[at] ^= 0x10;
        int rc = load(&w, w.len, &s);
        w.p[at] ^= 0x10;
        if (rc == 0)
            snap_free(&s);
        char want[64];
        snprintf(want, sizeof(want), "section %s: checksum mismatch", snap_section_name(sh.type));
        expect_true(rc < 0 && strstr(err, want), "section %d: \"%s\", want \"%s\"", i, err, want);
    }
    free(w.p);
}
TEST_END

TEST_BEGIN(wrong_magic_and_future_version_are_refused)
{
    struct wbuf w = {0};
    struct wopts o = {0};
    struct snap s;
    w_snapshot(&w, &o);
    w.p[0] = 'X';
    expect_true(load(&w, w.len, &s) < 0 && strstr(err, "bad magic"), "magic: %s", err);
    free(w.p);
    o.version = 8;
    expect_true(refuses(&o, "unsupported format version 8 (this heapsnap reads 7)"), "%s", err);
}
TEST_END

/* Format version 1 (before PEAK and TEMPS) still loads, without a peak. */
TEST_BEGIN(version_1_file_still_loads)
{
    struct wbuf w = {0};
    struct wopts o = {.version = 1, .with_blocks = 1};
    struct snap s;
    w_snapshot(&w, &o);
    expect_true(load(&w, w.len, &s) == 0, "%s", err);
    free(w.p);
    expect_eq_u64(s.version, 1);
    expect_eq_u64(s.has_peak, 0);
    expect_true(s.temps == NULL, "TEMPS in a version-1 file");
    expect_true(!s.sl.present, "SITELINE in a version-1 file");
    expect_true(s.npycodes == 0, "PYCODE in a version-1 file");
    expect_eq_u64(s.npoints, 2);
    expect_eq_u64(s.nblocks, 3);
    snap_free(&s);
}
TEST_END

TEST_BEGIN(counts_that_overflow_are_refused)
{
    struct wopts o = {.set_trace_count = 1, .trace_count = 0xffffffffu};
    expect_true(refuses(&o, "section TRACES: count 4294967295 does not fit"), "%s", err);
    o.trace_count = 4; /* one more than written: runs off the end */
    expect_true(refuses(&o, "section TRACES: trace 3 overruns"), "%s", err);
    struct wopts b = {.with_blocks = 1, .set_block_count = 1,
                      .block_count = (1ull << 59) + 3}; /* * 32 wraps to 96 */
    expect_true(refuses(&b, "section BLOCKS: count"), "%s", err);
    b.block_count = UINT64_MAX;
    expect_true(refuses(&b, "section BLOCKS: count"), "%s", err);
}
TEST_END

TEST_BEGIN(bad_cross_references_are_refused)
{
    struct wopts o = {.with_blocks = 1, .block_trace = 3};
    expect_true(refuses(&o, "trace id 3 out of range (3 traces)"), "%s", err);
    struct wopts st = {.stats_short = 1};
    expect_true(refuses(&st, "section STATS: 2 entries for 3 traces"), "%s", err);
    struct wopts m = {.module_backwards = 1};
    expect_true(refuses(&m, "is backwards"), "%s", err);
    struct wopts u = {.with_blocks = 1, .unsorted_blocks = 1};
    expect_true(refuses(&u, "not sorted"), "%s", err);
    struct wopts e = {.omit_end = 1};
    expect_true(refuses(&e, "truncated (no END section)"), "%s", err);
}
TEST_END

TEST_BEGIN(file_errors_name_the_file)
{
    struct snap s;
    char path[] = "/tmp/test_snap.XXXXXX";
    expect_true(snap_load("/nonexistent/x.hsnap", &s, err, sizeof(err)) < 0, "loaded");
    expect_str_eq(err, "/nonexistent/x.hsnap: No such file or directory");
    expect_true(snap_load("/", &s, err, sizeof(err)) < 0, "loaded /");
    expect_str_eq(err, "/: is a directory");
    int fd = mkstemp(path);
    expect_true(fd >= 0, "mkstemp");
    struct wbuf w = {0};
    struct wopts o = {.with_blocks = 1};
    w_snapshot(&w, &o);
    expect_true(write(fd, w.p, w.len) == (ssize_t)w.len, "write");
    close(fd);
    free(w.p);
    int rc = snap_load(path, &s, err, sizeof(err));
    unlink(path);
    expect_true(rc == 0, "load from file: %s", err);
    expect_eq_u64(s.nblocks, 3);
    snap_free(&s);
}
TEST_END

TEST_BEGIN(siteline_section_loads)
{
    struct wbuf w = {0};
    struct wopts o = {.with_siteline = 1};
    struct snap s;
    w_snapshot(&w, &o);
    int rc = load(&w, w.len, &s);
    free(w.p);
    expect_true(rc == 0, "load failed: %s", err);
    expect_eq_u64(s.version, HSNAP_VERSION);
    expect_true(s.sl.present, "no SITELINE");
    expect_eq_u64(s.sl.head.count, 3);
    expect_eq_u64(s.sl.head.nsites, 2);
    expect_eq_u64(s.sl.head.first_step_ns, 10000000);
    expect_eq_u64(siteline_point(&s, 2)->heap, 4203);
    expect_eq_u64(siteline_point(&s, 1)->rss, 12288);
    expect_eq_u64(siteline_sites(&s, 2)[0].trace, 1);
    expect_eq_u64(siteline_sites(&s, 0)[1].trace, HSNAP_SITELINE_NONE);
    snap_free(&s);
}
TEST_END

TEST_BEGIN(damaged_siteline_is_refused)
{
    struct wopts t = {.with_siteline = 1, .sl_bad_trace = 1};
    expect_true(refuses(&t, "section SITELINE: point 1: trace id 3 out of range (3 traces)"),
                "%s", err);
    struct wopts u = {.with_siteline = 1, .sl_bad_sum = 1};
    expect_true(refuses(&u, "section SITELINE: point 2: sites and other add up to 4204"), "%s",
                err);
    struct wopts b = {.with_siteline = 1, .sl_backwards = 1};
    expect_true(refuses(&b, "section SITELINE: point 2: earlier than"), "%s", err);
    struct wopts n = {.with_siteline = 1, .sl_nsites = 3}; /* the points are 2 sites wide */
    expect_true(refuses(&n, "section SITELINE: 224 bytes, 3 points of 3 sites need 272"), "%s",
                err);
    n.sl_nsites = 65;
    expect_true(refuses(&n, "section SITELINE: 65 sites per point (1 to 64)"), "%s", err);
}
TEST_END

/* The fuzzer's compressed seed with each payload byte changed in turn and
 * its section's checksum repaired, so the decompression and the loaders
 * behind it see every damage: each file loads or is refused in one line
 * (under test_asan.sh, without a bad access). */
TEST_BEGIN(compressed_sections_survive_every_byte_damaged)
{
    static uint8_t buf[1 << 16];
    FILE *f = fopen("tests/fuzz/corpus/zstd_leaks.hsnap", "rb");
    size_t len = f ? fread(buf, 1, sizeof buf, f) : 0;
    if (f)
        fclose(f);
    expect_true(len > sizeof(struct hsnap_header), "cannot read the seed");
    struct wbuf w = {buf, len, len};
    struct snap s;
    int ok = load(&w, len, &s) == 0;
    expect_true(ok, "the seed: %s", err);
    if (ok)
        snap_free(&s);
    unsigned refused = 0, named = 0;
    for (size_t off = sizeof(struct hsnap_header); off + sizeof(struct hsnap_section) <= len;) {
        struct hsnap_section h;
        memcpy(&h, buf + off, sizeof h);
        size_t pay = off + sizeof h;
        for (size_t i = pay; i < pay + h.length; i++) {
            uint8_t keep = buf[i];
            buf[i] ^= 0x5a;
            uint32_t crc = (uint32_t)crc32(0L, buf + pay, (uInt)h.length);
            memcpy(buf + off + 4, &crc, 4);
            if (load(&w, len, &s) == 0) {
                snap_free(&s);
            } else {
                refused++;
                named += (h.type & HSNAP_SEC_ZSTD) && strstr(err, "section ") != NULL;
                expect_true(!strchr(err, '\n'), "two lines: %s", err);
            }
            buf[i] = keep;
            memcpy(buf + off + 4, &h.crc32, 4);
        }
        off = pay + h.length;
        if (h.type == HSNAP_SEC_END)
            break;
    }
    expect_true(refused > 100 && named > 100, "%u refused, %u naming a compressed section",
                refused, named);
}
TEST_END

/* The seed with its TRACES replaced by ntr traces of 3 ips compressed:
 * a leaf of its own under two callers every trace shares. */
#define SEED_DEEP 35000 /* swap 3: each trace's frames */

/* swap 3: trace i's frame d (0 innermost): a leaf of its own, then the
 * callers of chain i % 2 */
static uint64_t seed_deep_ip(uint32_t i, uint32_t d)
{
    return d ? 0x500000 + 16 * ((uint64_t)(i % 2) * SEED_DEEP + d) : 0x900000 + 16 * (uint64_t)i;
}

/* swap 4: trace i's frames (0 innermost), some of them Python words
 * (HSNAP_PY_TAG): the innermost Python frame among the trace's own
 * frames, in the frames it shares with the trace before, at its
 * innermost, or none; every fifth trace the one before again. */
#define SEED_PY_DEPTH 6
#define SEED_PY(x) (HSNAP_PY_TAG | (uint64_t)(x) << HSNAP_PY_CODE_SHIFT | 5)
static uint32_t seed_py_from; /* trace i is the kinds' trace i + this */
static int seed_py_trace(uint32_t i, uint64_t *ip)
{
    i += seed_py_from;
    uint32_t k = i % 5 == 4 ? i - 1 : i, leaf = 0x401000 + 16 * k;
    switch (k % 5) {
    case 0: /* a Python frame of its own over the leaf, another further out */
        ip[0] = leaf, ip[1] = SEED_PY(k), ip[2] = 0x402000, ip[3] = SEED_PY(7);
        ip[4] = 0x403000;
        return 5;
    case 1: /* its one Python frame among those the trace before had */
        ip[0] = leaf, ip[1] = 0x404000, ip[2] = 0x405000, ip[3] = 0x402000, ip[4] = SEED_PY(7);
        ip[5] = 0x403000;
        return 6;
    case 2: /* no Python frame */
        ip[0] = leaf, ip[1] = 0x404000, ip[2] = 0x406000, ip[3] = 0x403000;
        return 4;
    default: /* the innermost frame a Python one */
        ip[0] = SEED_PY(k), ip[1] = 0x402000, ip[2] = SEED_PY(7), ip[3] = 0x403000;
        return 4;
    }
}

static size_t shared_callers_seed(uint8_t *out, size_t cap, uint32_t *ntr, int swap)
{
    static uint8_t seed[1 << 16], payload[1 << 21], packed[1 << 21];
    FILE *f = fopen("tests/fuzz/corpus/zstd_leaks.hsnap", "rb");
    size_t len = f ? fread(seed, 1, sizeof seed, f) : 0, at = sizeof(struct hsnap_header);
    if (f)
        fclose(f);
    if (len < at || cap < len)
        return 0;
    memcpy(out, seed, at);
    if (swap == 2 || swap == 4) { /* shared frames: format 5 */
        uint32_t v = 5;
        memcpy(out + HSNAP_MAGIC_LEN, &v, 4);
    }
    for (size_t off = at; off + sizeof(struct hsnap_section) <= len;) {
        struct hsnap_section h;
        memcpy(&h, seed + off, sizeof h);
        if ((h.type & ~HSNAP_SEC_ZSTD) == HSNAP_SEC_TRACES) {
            struct snap old;
            char why[256];
            if (snap_load_mem(seed, len, &old, why, sizeof why) < 0)
                return 0;
            *ntr = old.ntraces; /* STATS and BLOCKS keep to it */
            snap_free(&old);
            size_t p = 4;
            memcpy(payload, ntr, 4);
            /* swap 3: two deep chains of callers, trace i on chain i % 2 with a
             * leaf of its own, so that trace 2 finds chain 0 in the table */
            for (uint32_t i = 0; swap == 3 && i < *ntr; i++) {
                uint64_t head = SEED_DEEP;
                if (p + 8 * (SEED_DEEP + 1) > sizeof payload)
                    return 0;
                memcpy(payload + p, &head, 8);
                p += 8;
                for (uint32_t d = 0; d < SEED_DEEP; d++, p += 8) {
                    uint64_t ip = seed_deep_ip(i, d);
                    memcpy(payload + p, &ip, 8);
                }
            }
            /* swap 4: traces of Python words among native frames, format 5 */
            uint64_t before[SEED_PY_DEPTH];
            int nbefore = 0;
            for (uint32_t i = 0; swap == 4 && i < *ntr; i++) {
                uint64_t ips[SEED_PY_DEPTH];
                int depth = seed_py_trace(i, ips), shared = 0;
                while (shared < depth && shared < nbefore &&
                       ips[depth - 1 - shared] == before[nbefore - 1 - shared])
                    shared++;
                uint64_t head = (uint64_t)depth | (uint64_t)shared << 32;
                if (p + 8 + 8 * (size_t)depth > sizeof payload)
                    return 0;
                memcpy(payload + p, &head, 8);
                memcpy(payload + p + 8, ips, 8 * (size_t)(depth - shared));
                p += 8 + 8 * (size_t)(depth - shared);
                memcpy(before, ips, sizeof ips);
                nbefore = depth;
            }
            for (uint32_t i = 0; (swap < 3 || swap == 5) && i < *ntr && p + 32 <= sizeof payload;
                 i++) {
                uint64_t head = 3, ips[3] = {0x401000 + 16 * i, 0x402000, 0x403000};
                if (swap == 5 && i == 1) /* a range the program mapped */
                    head |= (uint64_t)HSNAP_TRACE_MMAP << 16;
                if (swap == 1 && i % 3 == 1) /* the same callers, the other way round */
                    ips[1] = 0x403000, ips[2] = 0x402000;
                int mine = 3;
                if (swap == 2 && i) /* format 5: the two callers the trace before's */
                    head |= 2ull << 32, mine = 1;
                memcpy(payload + p, &head, 8);
                memcpy(payload + p + 8, ips, 8 * (size_t)mine);
                p += 8 + 8 * (size_t)mine;
            }
            struct hsnap_zhead zh = {p, 4, 0};
            memcpy(packed, &zh, sizeof zh);
            memcpy(packed + sizeof zh, payload, 4);
            size_t z = ZSTD_compress(packed + sizeof zh + 4, sizeof packed - sizeof zh - 4,
                                     payload + 4, p - 4, 3);
            if (ZSTD_isError(z))
                return 0;
            h.length = sizeof zh + 4 + z;
            h.crc32 = (uint32_t)crc32(0L, packed, (uInt)h.length);
            if (at + sizeof h + h.length + (len - off) > cap)
                return 0;
            memcpy(out + at, &h, sizeof h);
            memcpy(out + at + sizeof h, packed, h.length);
            at += sizeof h + h.length;
            memcpy(&h, seed + off, sizeof h);
        } else {
            memcpy(out + at, seed + off, sizeof h + h.length);
            at += sizeof h + h.length;
        }
        off += sizeof h + h.length;
        if (h.type == HSNAP_SEC_END)
            break;
    }
    uint64_t size = at;
    memcpy(out + offsetof(struct hsnap_header, file_size), &size, 8);
    return at;
}

/* A compressed TRACES is read as it inflates into a tree of distinct ips
 * (report/load/iptab.c): every trace reads back as written, and the
 * callers the traces share are stored once. */
TEST_BEGIN(compressed_traces_read_as_a_tree_of_ips)
{
    static uint8_t buf[1 << 17];
    uint32_t n = 0;
    size_t len = shared_callers_seed(buf, sizeof buf, &n, 0);
    struct wbuf w = {buf, len, len};
    struct snap s;
    expect_true(len > 0 && n > 1 && load(&w, len, &s) == 0, "the file: %s", err);
    for (uint32_t i = 0; i < n; i++) {
        const struct snap_trace *t = &s.traces[i];
        uint64_t ips[3], want[3] = {0x401000 + 16 * i, 0x402000, 0x403000};
        expect_true(t->ips == NULL && t->depth == 3, "trace %u: depth %u", i, t->depth);
        snap_trace_ips(&s, t, ips);
        for (int d = 0; d < 3; d++) {
            expect_eq_u64(ips[d], want[d]);
            expect_eq_u64(snap_ip(&s, t, d), want[d]);
        }
    }
    expect_eq_u64(s.nnodes, n + 2); /* a leaf each, the two callers once */
    snap_free(&s);
}
TEST_END

/* Deep traces on two chains of callers taking turns: each trace finds its
 * chain's first caller again in the tree's memo (iptab.c's kid_memo) and
 * the rest beside it, node after node; every trace reads back as
 * written. */
TEST_BEGIN(compressed_traces_past_the_tables_first_size_read_as_written)
{
    static uint8_t buf[1 << 22];
    uint32_t n = 0;
    size_t len = shared_callers_seed(buf, sizeof buf, &n, 3);
    struct wbuf w = {buf, len, len};
    struct snap s;
    expect_true(len > 0 && n >= 3 && load(&w, len, &s) == 0, "the file: %s (%u traces)", err, n);
    if (err[0] || !len)
        return;
    uint64_t bad = 0;
    for (uint32_t i = 0; i < n; i++) {
        const struct snap_trace *t = &s.traces[i];
        expect_true(t->ips == NULL && t->depth == SEED_DEEP, "trace %u: depth %u", i, t->depth);
        for (int d = 0; d < SEED_DEEP; d += 997)
            bad += snap_ip(&s, t, d) != seed_deep_ip(i, (uint32_t)d);
        bad += snap_ip(&s, t, SEED_DEEP - 1) != seed_deep_ip(i, SEED_DEEP - 1);
    }
    expect_eq_u64(bad, 0);
    /* each chain's callers once, a leaf a trace */
    expect_eq_u64(s.nnodes, 2 * (uint64_t)(SEED_DEEP - 1) + n);
    snap_free(&s);
}
TEST_END

/* More (parent, ip) pairs than the tree's memo holds (iptab.c's
 * kid_memo): a pair it forgot makes its node again, and every trace still
 * reads back as written.  TRACES alone, through snap_traces_stream:
 * 80,000 traces, a leaf each under one of 40,000 callers in turn (more
 * than the memo has slots). */
TEST_BEGIN(compressed_traces_past_the_memo_read_as_written)
{
    enum { NT = 80000, NC = 40000 };
    size_t raw = 4 + (size_t)NT * 32, zh = sizeof(struct hsnap_zhead);
    size_t cap = zh + 4 + ZSTD_compressBound(raw);
    uint8_t *payload = malloc(raw), *packed = malloc(cap);
    expect_true(payload && packed, "out of memory");
    if (!payload || !packed)
        return;
    uint32_t n = NT;
    memcpy(payload, &n, 4);
    for (uint32_t i = 0; i < NT; i++) {
        uint64_t head = 3, ips[3] = {0x900000 + 16 * (uint64_t)i, 0x500000 + 16 * (i % NC),
                                     0x403000};
        memcpy(payload + 4 + 32 * (size_t)i, &head, 8);
        memcpy(payload + 12 + 32 * (size_t)i, ips, sizeof ips);
    }
    struct hsnap_zhead h = {raw, 4, 0};
    memcpy(packed, &h, zh);
    memcpy(packed + zh, payload, 4);
    size_t z = ZSTD_compress(packed + zh + 4, cap - zh - 4, payload + 4, raw - 4, 1);
    expect_true(!ZSTD_isError(z), "zstd: %s", ZSTD_getErrorName(z));
    struct snap s;
    memset(&s, 0, sizeof s);
    s.version = 5;
    snap_budget_init(&s.budget, zh + 4 + z);
    uint64_t out = 0;
    int rc = ZSTD_isError(z) ? -1
                             : snap_traces_stream(packed, zh + 4 + z, &s, &out, err, sizeof err);
    expect_true(rc == 0 && !s.traces_err && s.ntraces == NT, "the stream: %s %s", err,
                s.traces_err ? s.traces_err : "");
    uint64_t bad = 0;
    for (uint32_t i = 0; rc == 0 && !s.traces_err && i < s.ntraces; i++) {
        uint64_t got[3];
        snap_trace_ips(&s, &s.traces[i], got);
        bad += s.traces[i].depth != 3 || got[0] != 0x900000 + 16 * (uint64_t)i ||
               got[1] != 0x500000 + 16 * (i % NC) || got[2] != 0x403000;
    }
    expect_eq_u64(bad, 0);
    /* the root's caller once and a leaf a trace; a caller once at least
     * and at most once a trace, more than once when the memo forgot it */
    expect_true(s.nnodes > 1 + NC + NT && s.nnodes <= 1 + 2 * NT,
                "%u nodes: the memo forgot none, or made more than a stored ip's", s.nnodes);
    snap_free(&s);
    free(payload);
    free(packed);
}
TEST_END

/* Traces that alternate between two caller chains of the same ips (each
 * trace shares nodes with the one before only at the root, or not at
 * all): each chain is one path of nodes, found again from the table, and
 * every trace reads back as written (iptab's reuse of the trace before). */
TEST_BEGIN(compressed_traces_alternating_callers_share_nodes)
{
    static uint8_t buf[1 << 17];
    uint32_t n = 0;
    size_t len = shared_callers_seed(buf, sizeof buf, &n, 1);
    struct wbuf w = {buf, len, len};
    struct snap s;
    expect_true(len > 0 && n > 2 && load(&w, len, &s) == 0, "the file: %s", err);
    for (uint32_t i = 0; i < n; i++) {
        uint64_t ips[3], want[3] = {0x401000 + 16 * i, 0x402000, 0x403000};
        if (i % 3 == 1)
            want[1] = 0x403000, want[2] = 0x402000;
        snap_trace_ips(&s, &s.traces[i], ips);
        for (int d = 0; d < 3; d++)
            expect_eq_u64(ips[d], want[d]);
    }
    expect_eq_u64(s.nnodes, n + 4); /* a leaf each, each chain's two callers once */
    snap_free(&s);
}
TEST_END

/* Format 5: a trace's outer frames stored once, taken from the trace
 * before (shared); compressed (read as it inflates, iptab.c) they read
 * back as written and make the same tree as when stored whole. */
TEST_BEGIN(compressed_traces_shared_frames_read_as_written)
{
    static uint8_t buf[1 << 17];
    uint32_t n = 0;
    size_t len = shared_callers_seed(buf, sizeof buf, &n, 2);
    struct wbuf w = {buf, len, len};
    struct snap s;
    expect_true(len > 0 && n > 1 && load(&w, len, &s) == 0, "the file: %s", err);
    for (uint32_t i = 0; i < n; i++) {
        const struct snap_trace *t = &s.traces[i];
        uint64_t ips[3], want[3] = {0x401000 + 16 * i, 0x402000, 0x403000};
        expect_true(t->depth == 3, "trace %u: depth %u", i, t->depth);
        snap_trace_ips(&s, t, ips);
        for (int d = 0; d < 3; d++)
            expect_eq_u64(ips[d], want[d]);
    }
    expect_eq_u64(s.nnodes, n + 2); /* as compressed_traces_read_as_a_tree_of_ips */
    snap_free(&s);
}
TEST_END

/* One file of the seed's traces, kinds from seed_py_from on: the traces
 * whose pynode and pyat are not what a walk of their frames finds (*py:
 * those with a Python frame, *seen: the traces), or -1 when it does not
 * load. */
static int64_t py_named_wrong(uint32_t *py, uint32_t *seen)
{
    static uint8_t buf[1 << 17];
    uint32_t n = 0, bad = 0;
    size_t len = shared_callers_seed(buf, sizeof buf, &n, 4);
    struct wbuf w = {buf, len, len};
    struct snap s;
    if (!len || load(&w, len, &s) != 0)
        return -1;
    bad += !s.pynodes;
    *seen += n;
    for (uint32_t i = 0; i < n; i++) {
        const struct snap_trace *t = &s.traces[i];
        uint64_t want[SEED_PY_DEPTH], ips[SEED_PY_DEPTH];
        int depth = seed_py_trace(i, want), at = -1;
        bad += t->ips != NULL || t->depth != depth;
        snap_trace_ips(&s, t, ips);
        for (int d = 0; d < depth; d++)
            bad += ips[d] != want[d];
        for (int d = depth - 1; d >= 0; d--)
            if (HSNAP_IS_PYFRAME(want[d]))
                at = d;
        uint32_t node = t->node;
        for (int d = 0; d < at; d++)
            node = s.nodes[node].parent;
        if (at < 0) {
            bad += t->pynode != 0 || t->pyat != 0;
            continue;
        }
        ++*py;
        bad += t->pynode != node || t->pyat != at || s.iptab[s.nodes[node].ipx] != want[at];
    }
    snap_free(&s);
    return bad;
}

/* A compressed TRACES' tree names each trace's innermost Python frame
 * (snap_trace.pynode, pyat) as a walk of its frames finds it: of its own
 * frames, of those it shares with the trace before, its innermost, or
 * none (then 0); a trace that is the one before again has its answer. */
TEST_BEGIN(compressed_traces_name_their_innermost_python_frame)
{
    uint32_t py = 0, seen = 0;
    for (seed_py_from = 0; seed_py_from < 6; seed_py_from += 3) { /* the seed's 3 a file */
        int64_t bad = py_named_wrong(&py, &seen);
        expect_true(bad == 0, "kinds from %u: %lld traces named wrong (-1: no file: %s)",
                    seed_py_from, (long long)bad, err);
    }
    expect_true(seen == 6 && py == 5, "%u of %u traces with a Python frame", py, seen);
}
TEST_END

/* The seed at swap's, loaded with skip; the sum of its STATS' live bytes
 * (with mapped set, of its traces of the mmap kind alone), or -1 when it
 * does not load. */
static int64_t seed_stats_live_of(int swap, uint32_t skip, int mapped)
{
    static uint8_t buf[1 << 17];
    uint32_t n = 0;
    size_t len = shared_callers_seed(buf, sizeof buf, &n, swap);
    struct snap s;
    struct snap_budget b;
    int64_t live = 0;
    snap_budget_init(&b, len);
    b.skip = skip;
    err[0] = 0;
    if (!len || snap_load_mem_within(buf, len, &b, &s, err, sizeof err) != 0)
        return -1;
    for (uint32_t i = 0; i < s.ntraces; i++)
        if (!mapped || (s.traces[i].flags & HSNAP_TRACE_MMAP))
            live += (int64_t)s.stats[i].live_bytes;
    snap_free(&s);
    return live;
}

static int64_t seed_stats_live(int swap, uint32_t skip)
{
    return seed_stats_live_of(swap, skip, 0);
}

/* SNAP_SKIP_STATS_UNMAPPED (run's summary): STATS left unread, its sums
 * zeros, when no trace of the compressed TRACES before it is of the mmap
 * kind; where one is, its rows alone are read (snap.c's stats_pick), the
 * others' zeros. */
TEST_BEGIN(stats_unread_only_where_no_trace_is_mapped)
{
    int64_t all = seed_stats_live(0, 0), none = seed_stats_live(0, SNAP_SKIP_STATS_UNMAPPED);
    int64_t mapped = seed_stats_live(5, SNAP_SKIP_STATS_UNMAPPED), whole = seed_stats_live(5, 0);
    int64_t its = seed_stats_live_of(5, 0, 1);
    expect_true(all > 0 && its > 0 && its < all, "the seed's STATS hold sums (%lld, %lld): %s",
                (long long)all, (long long)its, err);
    expect_eq_u64((uint64_t)none, 0);
    expect_true(whole == all && mapped == its, "the mapped trace's rows: %lld of %lld, whole %lld",
                (long long)mapped, (long long)its, (long long)whole);
    expect_eq_u64((uint64_t)seed_stats_live_of(5, SNAP_SKIP_STATS_UNMAPPED, 1), (uint64_t)its);
}
TEST_END

/* ... and stored raw: the shared frames copied from the trace before; a
 * count of shared frames over the trace's or the one before's depth is
 * refused in one line, and a file before format 5 never reads the field
 * (it was a reserved 0 there). */
TEST_BEGIN(raw_traces_shared_frames_read_as_written)
{
    struct wbuf w = {0};
    struct wopts o = {.shared2 = 1};
    struct snap s;
    w_snapshot(&w, &o);
    expect_true(load(&w, w.len, &s) == 0, "the file: %s", err);
    free(w.p);
    if (!err[0]) {
        const struct snap_trace *t = &s.traces[2];
        uint64_t ips[3], want[3] = {0x401030, 0x401040, 0x7f0000001000};
        expect_true(t->depth == 3, "depth %u", t->depth);
        snap_trace_ips(&s, t, ips);
        for (int d = 0; d < 3; d++)
            expect_eq_u64(ips[d], want[d]);
        snap_free(&s);
    }
    o.shared2 = 2;
    expect_true(refuses(&o, "section TRACES: trace 2 shares 2 frames (depth 3, 1 before)"), "%s",
                err);
    o.version = 4; /* shared is a reserved field there: trace 2 is short */
    expect_true(refuses(&o, "TRACES"), "%s", err);
}
TEST_END

/* STATS named in a skip mask is left unread (run's summary prints the
 * peak's sums and META's): its sums read as zeros, one a trace. */
TEST_BEGIN(skipped_stats_read_as_zeros)
{
    struct wbuf w = {0};
    struct wopts o = {0};
    struct snap s;
    struct snap_budget b;
    uint64_t live = 0;
    w_snapshot(&w, &o);
    expect_true(load(&w, w.len, &s) == 0, "%s", err);
    for (uint32_t i = 0; i < s.ntraces; i++)
        live += s.stats[i].live_bytes;
    snap_free(&s);
    expect_true(live > 0, "the file's STATS hold sums");
    memset(&b, 0xff, sizeof b); /* a budget on the stack: its bytes are any */
    snap_budget_init(&b, w.len);
    expect_eq_u64(b.skip, 0); /* state_load's: all read (the live view's sums) */
    b.skip = 1u << HSNAP_SEC_STATS;
    err[0] = 0;
    expect_true(snap_load_mem_within(w.p, w.len, &b, &s, err, sizeof err) == 0, "%s", err);
    if (!err[0]) {
        expect_eq_u64(s.ntraces, 3);
        for (uint32_t i = 0; i < s.ntraces; i++)
            expect_true(!s.stats[i].live_bytes && !s.stats[i].live_count &&
                            !s.stats[i].total_count,
                        "trace %u's sums are zeros", i);
        snap_free(&s);
    }
    free(w.p);
}
TEST_END

/* Packed records (hsnap_packed.h) may take past a file's allowance up to
 * 8192 times its size, and leave the allowance to the other sections; a
 * small file gets its floor and no more than that past it, and the charge
 * refused names the section. */
TEST_BEGIN(packed_records_budget_bounded_by_file_size)
{
    struct snap_budget b;
    snap_budget_init(&b, 12000); /* 2.5 million equal blocks' file, as the shim packs it */
    expect_true(snap_budget_take_packed(&b, 80000008, "BLOCKS", err, sizeof err) == 0, "%s",
                err);
    expect_eq_u64(b.left, 64ull << 20);
    expect_true(snap_budget_take(&b, 4004, "TIMELINE", err, sizeof err) == 0, "%s", err);
    expect_true(snap_budget_take_packed(&b, 70000000, "BLOCKS", err, sizeof err) < 0,
                "past 8192 x 12000 in all");
    expect_true(strstr(err, "section BLOCKS: declares 70000000 bytes of packed records") != NULL,
                "%s", err);
    snap_budget_init(&b, 1000);
    expect_true(snap_budget_take_packed(&b, 64ull << 20, "BLOCKS", err, sizeof err) == 0, "%s",
                err);
    expect_true(snap_budget_take_packed(&b, 9000000, "BLOCKS", err, sizeof err) < 0,
                "a small file: the floor and 8192 x its size, no more");
}
TEST_END

/* A skip mask (snap_load_skip's) leaves the optional sections it names
 * unread, the others read as always; the required ones are read whatever
 * it says. */
TEST_BEGIN(skip_leaves_optional_sections_unread)
{
    struct wbuf w = {0};
    struct wopts o = {.with_blocks = 1};
    struct snap s;
    struct snap_budget b;
    w_snapshot(&w, &o);
    snap_budget_init(&b, w.len);
    b.skip = 1u << HSNAP_SEC_BLOCKS | 1u << HSNAP_SEC_TRACES | 1u << HSNAP_SEC_META;
    err[0] = 0;
    expect_true(snap_load_mem_within(w.p, w.len, &b, &s, err, sizeof err) == 0, "%s", err);
    if (!err[0]) {
        expect_eq_u64(s.nblocks, 0);
        expect_true(s.npoints > 0, "TIMELINE read: %u points", s.npoints);
        expect_eq_u64(s.ntraces, 3);
        expect_eq_u64(s.meta.pid, 4242);
        snap_free(&s);
    }
    expect_true(load(&w, w.len, &s) == 0 && s.nblocks > 0, "%s", err);
    if (s.nblocks)
        snap_free(&s);
    free(w.p);
}
TEST_END

int main(void)
{
    skip_leaves_optional_sections_unread();
    packed_records_budget_bounded_by_file_size();
    skipped_stats_read_as_zeros();
    stats_unread_only_where_no_trace_is_mapped();
    compressed_traces_shared_frames_read_as_written();
    compressed_traces_name_their_innermost_python_frame();
    raw_traces_shared_frames_read_as_written();
    compressed_traces_alternating_callers_share_nodes();
    compressed_traces_past_the_tables_first_size_read_as_written();
    compressed_traces_past_the_memo_read_as_written();
    valid_snapshot_loads_every_section();
    unknown_section_type_is_skipped();
    every_truncation_is_refused();
    flipped_payload_bit_fails_checksum();
    wrong_magic_and_future_version_are_refused();
    version_1_file_still_loads();
    counts_that_overflow_are_refused();
    bad_cross_references_are_refused();
    file_errors_name_the_file();
    siteline_section_loads();
    damaged_siteline_is_refused();
    compressed_sections_survive_every_byte_damaged();
    compressed_traces_read_as_a_tree_of_ips();
    return 0;
}
