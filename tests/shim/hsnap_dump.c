/*
 * hsnap_dump.c - a tiny, strict reader of .hsnap files for the shim's own
 * tests, independent of report/ (so the shim is tested against the format
 * header, not against the CLI).  It checks magic, version, file size, every
 * section's length and crc32, the required sections and their counts, that
 * meta.live_blocks is what STATS' live counts sum to (blocks and mapped
 * ranges), and that BLOCKS is sorted and, every allocation recorded, holds
 * the live count of STATS' malloc-kind traces; then prints:
 *
 *   meta pid=P ppid=P reason=R seq=N depth=D current=B peak=B blocks=N
 *        allocs=N frees=N foreign=N flags=F
 *   cmdline <text>
 *   exe <path>
 *   modules N
 *   traces N
 *   site <live_count> <live_bytes> <total_count> <total_bytes> <offset>
 *        one per trace with total_count > 0; offset = first frame inside
 *        module 0 (the executable) minus its bias, minus 1 (for addr2line),
 *        or "-" if none
 *   blocks N bytes B digest D
 *        BLOCKS' count, requested bytes and a hash of every record in
 *        address order (the same blocks, the same D, in any format)
 *   timeline N
 *
 * With --python, the same checks, then a line for each trace with a
 * Python frame (a word HSNAP_PY_TAG tags):
 *
 *   pyinner <k> <interp> <w> <live>  k native frames under its innermost
 *                          Python frame; interp 1 when each is in the
 *                          interpreter's module (a libpython*, or an
 *                          executable named python*); the first w in an
 *                          allocator wrapper's (libc, libglib-2.0); the
 *                          trace's live bytes
 *   pyouter <n>            and n native frames past it (the line after)
 *
 * With --leaks, the same checks, then what the in-process leak check wrote
 * instead (blocks are named by their requested size, which the leak
 * fixtures choose unique per role):
 *
 *   flags <meta flags>                 HAS_LEAKS = 4
 *   total <class> <blocks> <bytes>     one per class 0..6 (LEAKS totals)
 *   unstopped <n>
 *   record <cls> <root size> <own blocks> <own bytes> <ind blocks> <ind bytes>
 *   block <size> <cls> <refcount> <flags>   (cls: 1 reach 2 possible 3 direct
 *                                            4 indirect 5 cycle 6 ignored)
 *   ret <target> <kind> <source> <refs> <blocks> <bytes>
 *        target/source: the smallest block size of that trace ("-": none)
 *
 * Exit 0 when valid, 2 with "hsnap_dump: <file>: <reason>" otherwise.
 * Compressed sections (format 3; 4: in planes; 6: BLOCKS packed; 7: in
 * formed chunks) are decompressed first.
 * Build: cc -O1 -Ishim tests/shim/hsnap_dump.c -lz -lzstd
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <zlib.h>
#define ZSTD_STATIC_LINKING_ONLY /* ZSTD_decompressBound */
#include <zstd.h>

#include "hsnap_format.h"
#include "hsnap_packed.h"
#include "hsnap_planes.h"
#include "hsnap_pyformat.h"

static const char *file;
static FILE *out; /* the summary's lines: stdout, or /dev/null under --leaks */

static void die(const char *why)
{
    fprintf(stderr, "hsnap_dump: %s: %s\n", file, why);
    exit(2);
}

struct cur { const unsigned char *p; uint64_t left; };

static const void *take(struct cur *c, uint64_t n, const char *what)
{
    if (n > c->left)
        die(what);
    const void *r = c->p;
    c->p += n;
    c->left -= n;
    return r;
}

static uint64_t u(struct cur *c, unsigned n, const char *what)
{
    uint64_t v = 0;
    memcpy(&v, take(c, n, what), n);
    return v;
}

static struct {
    struct hsnap_meta meta;
    uint32_t version;
    struct cur sec[HSNAP_SEC_RETAINERS + 1];
    int seen[HSNAP_SEC_RETAINERS + 1];
    uint64_t live_count;   /* STATS' live counts summed */
    uint64_t malloc_count; /* ... of the malloc kind's traces */
    uint64_t nblocks;      /* BLOCKS' count */
} s;

static int by_addr(const void *a, const void *b)
{
    uint64_t x, y;
    memcpy(&x, a, 8), memcpy(&y, b, 8);
    return (x > y) - (x < y);
}

/* A compressed payload (hsnap_format.h): zhead, head, one zstd frame
 * that fills the rest exactly; the payload, malloc'd (kept to the end). */
static const unsigned char *unpack(const unsigned char *p, uint64_t *len)
{
    struct hsnap_zhead zh;
    if (*len < sizeof zh)
        die("short compressed head");
    memcpy(&zh, p, sizeof zh);
    if (zh.head_len > HSNAP_ZHEAD_MAX || zh.head_len > *len - sizeof zh || zh.head_len > zh.raw_len)
        die("bad compressed head");
    unsigned char *out = malloc(zh.raw_len + 1);
    if (!out)
        die("out of memory");
    memcpy(out, p + sizeof zh, zh.head_len);
    const unsigned char *f = p + sizeof zh + zh.head_len;
    size_t flen = *len - sizeof zh - zh.head_len, want = zh.raw_len - zh.head_len;
    if (ZSTD_findFrameCompressedSize(f, flen) != flen)
        die("zstd frame does not fill the section");
    if (zh.flags == HSNAP_ZHEAD_PLANES || zh.flags == HSNAP_ZHEAD_PACKED ||
        zh.flags == HSNAP_ZHEAD_FORMED) {
        /* records in planes (hsnap_planes.h), or packed (hsnap_packed.h) */
        unsigned long long most = ZSTD_decompressBound(f, flen);
        unsigned char *pl = most == ZSTD_CONTENTSIZE_ERROR ? NULL : malloc(most + 1);
        if (!pl)
            die("bad planes frame");
        size_t got = ZSTD_decompress(pl, most, f, flen), at = 0, put = 0;
        if (ZSTD_isError(got))
            die("damaged planes frame");
        int formed = zh.flags == HSNAP_ZHEAD_FORMED, packed = formed || zh.flags == HSNAP_ZHEAD_PACKED;
        while (at < got) {
            uint32_t stride, count;
            size_t n = at + HSNAP_PLANES_HEAD > got ? 0
                       : formed ? hsnap_packed_chunk_formed(pl + at, &count)
                       : packed ? hsnap_packed_chunk(pl + at, &count)
                                : hsnap_planes_chunk(pl + at, &stride, &count);
            size_t made = packed ? (size_t)count * sizeof(struct hsnap_block) : n;
            if (!n || n > got - at - HSNAP_PLANES_HEAD || made > want - put)
                die("bad planes chunk");
            if (!packed)
                hsnap_planes_get(out + zh.head_len + put, pl + at + HSNAP_PLANES_HEAD, stride, count);
            else if ((formed ? hsnap_packed_get_formed : hsnap_packed_get)(
                         out + zh.head_len + put, pl + at + HSNAP_PLANES_HEAD, n, count))
                die("bad packed chunk");
            at += HSNAP_PLANES_HEAD + n;
            put += made;
        }
        free(pl);
        if (put != want)
            die("planes do not hold the declared size");
        if (packed && zh.head_len == 8) /* BLOCKS in runs (format 6 on): in address order */
            qsort(out + 8, want / sizeof(struct hsnap_block), sizeof(struct hsnap_block), by_addr);
    } else if (zh.flags) {
        die("unknown compressed head flags");
    } else {
        size_t got = ZSTD_decompress(out + zh.head_len, want, f, flen);
        if (ZSTD_isError(got) || got != want)
            die("zstd frame does not hold the declared size");
    }
    *len = zh.raw_len;
    return out;
}

static void read_sections(const unsigned char *buf, uint64_t len)
{
    struct cur c = {buf, len};
    const struct hsnap_header *h = take(&c, sizeof *h, "short header");
    if (memcmp(h->magic, HSNAP_MAGIC, HSNAP_MAGIC_LEN))
        die("bad magic");
    /* the shim writes the newest, or 2 when it compresses nothing; 6 is
     * the one before formed chunks, whose files the tests keep reading */
    if ((h->version != HSNAP_VERSION && h->version != 6 && h->version != 2) ||
        h->header_size != sizeof *h)
        die("bad version or header size");
    s.version = h->version;
    if (h->file_size != len)
        die("file_size disagrees with the file");
    uint32_t last = 0;
    for (;;) {
        const struct hsnap_section *sh = take(&c, sizeof *sh, "truncated section header");
        const unsigned char *pay = take(&c, sh->length, "truncated payload");
        if (sh->type == HSNAP_SEC_END) {
            if (sh->length || c.left)
                die("bad END");
            break;
        }
        uint32_t type = sh->type & ~HSNAP_SEC_ZSTD;
        if (type <= last)
            die("sections out of order or repeated");
        last = type;
        if (crc32_z(0, pay, sh->length) != sh->crc32)
            die("crc mismatch");
        uint64_t len = sh->length;
        if (sh->type & HSNAP_SEC_ZSTD)
            pay = unpack(pay, &len);
        if (type <= HSNAP_SEC_RETAINERS) {
            s.sec[type] = (struct cur){pay, len};
            s.seen[type] = 1;
        }
    }
    for (int t = HSNAP_SEC_META; t <= HSNAP_SEC_STATS; t++)
        if (!s.seen[t])
            die("a required section is missing");
}

static void print_meta(void)
{
    struct cur c = s.sec[HSNAP_SEC_META];
    memcpy(&s.meta, take(&c, sizeof s.meta, "short META"), sizeof s.meta);
    struct hsnap_meta *m = &s.meta;
    fprintf(out, "meta pid=%u ppid=%u reason=%u seq=%u depth=%u current=%llu peak=%llu "
           "blocks=%llu allocs=%llu frees=%llu foreign=%llu flags=%u\n",
           m->pid, m->ppid, m->reason, m->seq, m->depth,
           (unsigned long long)m->current_bytes, (unsigned long long)m->peak_bytes,
           (unsigned long long)m->live_blocks, (unsigned long long)m->total_allocs,
           (unsigned long long)m->total_frees, (unsigned long long)m->foreign_frees, m->flags);
    for (int i = 0; i < 2; i++) {
        uint32_t n = (uint32_t)u(&c, 4, "short META string");
        const char *str = take(&c, n, "short META string");
        fprintf(out, "%s %.*s\n", i ? "exe" : "cmdline", (int)n, str);
    }
}

static uint64_t bias0, lo0, hi0;

/* --python: the interpreter's modules' ranges (libpython*, python*), and
 * the allocator wrappers' (shim/python/frames/wrapper.c's). */
#define DUMP_INTERP_MAX 8
struct dump_ranges {
    uint64_t lo[DUMP_INTERP_MAX], hi[DUMP_INTERP_MAX];
    unsigned n;
};
static struct dump_ranges interp_mods, wrap_mods;
static int py_lines;

static int in_ranges(const struct dump_ranges *r, uint64_t ip)
{
    for (unsigned i = 0; i < r->n; i++)
        if (ip - 1 >= r->lo[i] && ip - 1 < r->hi[i])
            return 1;
    return 0;
}

static void add_range(struct dump_ranges *r, uint64_t lo, uint64_t hi)
{
    if (r->n < DUMP_INTERP_MAX) {
        r->lo[r->n] = lo;
        r->hi[r->n++] = hi;
    }
}

static int wrap_name(const char *base, size_t n)
{
    static const char *const names[] = {"libc.so.", "libglib-2.0.so."};
    for (size_t i = 0; i < sizeof names / sizeof *names; i++)
        if (n >= strlen(names[i]) && !memcmp(base, names[i], strlen(names[i])))
            return 1;
    return 0;
}

static void read_modules(void)
{
    struct cur c = s.sec[HSNAP_SEC_MODULES];
    uint32_t n = (uint32_t)u(&c, 4, "short MODULES");
    for (uint32_t i = 0; i < n; i++) {
        uint64_t bias = u(&c, 8, "short module"), lo = u(&c, 8, "m"), hi = u(&c, 8, "m");
        uint16_t pl = (uint16_t)u(&c, 2, "m"), bl = (uint16_t)u(&c, 2, "m");
        u(&c, 4, "m");
        const char *path = take(&c, (uint64_t)pl + bl, "short module strings");
        const char *base = path;
        for (uint16_t k = 0; k < pl; k++)
            if (path[k] == '/')
                base = path + k + 1;
        size_t bl_ = (size_t)(path + pl - base);
        if ((bl_ >= 9 && !memcmp(base, "libpython", 9)) || (bl_ >= 6 && !memcmp(base, "python", 6)))
            add_range(&interp_mods, lo, hi);
        if (wrap_name(base, bl_))
            add_range(&wrap_mods, lo, hi);
        if (lo > hi)
            die("module lo > hi");
        if (i == 0) {
            bias0 = bias;
            lo0 = lo;
            hi0 = hi;
        }
    }
    if (c.left)
        die("MODULES has trailing bytes");
    fprintf(out, "modules %u\n", n);
}

static void read_traces(void)
{
    struct cur t = s.sec[HSNAP_SEC_TRACES], st = s.sec[HSNAP_SEC_STATS];
    uint32_t n = (uint32_t)u(&t, 4, "short TRACES"), ns = (uint32_t)u(&st, 4, "short STATS");
    if (n != ns || st.left != (uint64_t)n * sizeof(struct hsnap_stat))
        die("STATS count disagrees");
    fprintf(out, "traces %u\n", n);
    uint64_t live = 0;
    /* a trace's frames, innermost first, and the trace before's: format 5
     * stores only the frames not shared with it (hsnap_format.h) */
    static unsigned char full[2][65536 * 8];
    uint16_t before = 0;
    for (uint32_t i = 0; i < n; i++) {
        uint16_t depth = (uint16_t)u(&t, 2, "short trace");
        uint16_t tflags = (uint16_t)u(&t, 2, "short trace");
        uint16_t shared = (uint16_t)u(&t, 2, "short trace");
        u(&t, 2, "short trace");
        if (s.version < 5)
            shared = 0;
        if (shared > depth || shared > before)
            die("a trace shares more frames than it or the trace before has");
        unsigned char *ips = full[i & 1];
        const unsigned char *prev = full[(i + 1) & 1];
        memcpy(ips, take(&t, (uint64_t)(depth - shared) * 8, "short trace ips"),
               (size_t)(depth - shared) * 8);
        memcpy(ips + (size_t)(depth - shared) * 8, prev + (size_t)(before - shared) * 8,
               (size_t)shared * 8);
        before = depth;
        struct hsnap_stat stat;
        memcpy(&stat, take(&st, sizeof stat, "short stat"), sizeof stat);
        if (py_lines) {
            unsigned k = 0, interp = 1, w = 0;
            uint64_t ip = 0;
            for (; k < depth; k++) {
                memcpy(&ip, ips + 8 * k, 8);
                if ((ip & HSNAP_PY_TAG_MASK) == HSNAP_PY_TAG)
                    break;
                interp &= (unsigned)in_ranges(&interp_mods, ip);
                w += w == k && in_ranges(&wrap_mods, ip);
            }
            if (k < depth) {
                unsigned outer = 0; /* native frames past the innermost Python frame */
                for (unsigned j = k + 1; j < depth; j++) {
                    memcpy(&ip, ips + 8 * j, 8);
                    outer += (ip & HSNAP_PY_TAG_MASK) != HSNAP_PY_TAG;
                }
                printf("pyinner %u %u %u %llu\n", k, interp, w,
                       (unsigned long long)stat.live_bytes);
                printf("pyouter %u\n", outer);
            }
        }
        live += stat.live_bytes;
        s.live_count += stat.live_count;
        s.malloc_count += tflags & HSNAP_TRACE_MMAP ? 0 : stat.live_count;
        if (!stat.total_count)
            continue;
        fprintf(out, "site %llu %llu %llu %llu ", (unsigned long long)stat.live_count,
               (unsigned long long)stat.live_bytes, (unsigned long long)stat.total_count,
               (unsigned long long)stat.total_bytes);
        int found = 0;
        for (uint16_t k = 0; k < depth && !found; k++) {
            uint64_t ip;
            memcpy(&ip, ips + 8 * k, 8);
            if (ip >= lo0 && ip < hi0) {
                fprintf(out, "0x%llx\n", (unsigned long long)(ip - bias0 - 1));
                found = 1;
            }
        }
        if (!found)
            fprintf(out, "-\n");
    }
    if (t.left)
        die("TRACES has trailing bytes");
    if (live != s.meta.current_bytes)
        fprintf(stderr, "hsnap_dump: note: sum of live_bytes %llu != current %llu\n",
                (unsigned long long)live, (unsigned long long)s.meta.current_bytes);    if (s.live_count != s.meta.live_blocks)
        die("meta.live_blocks != STATS' live counts");
}

static void read_blocks(void)
{
    if (!s.seen[HSNAP_SEC_BLOCKS])
        return;
    struct cur c = s.sec[HSNAP_SEC_BLOCKS];
    uint64_t n = u(&c, 8, "short BLOCKS"), prev = 0, bytes = 0, partial = 0;
    s.nblocks = n;
    uint64_t digest = 14695981039346656037ull; /* FNV-1a over every block's bytes */
    if (c.left / sizeof(struct hsnap_block) != n || c.left % sizeof(struct hsnap_block))
        die("BLOCKS count disagrees with its length");
    for (uint64_t i = 0; i < n; i++) {
        struct hsnap_block b;
        memcpy(&b, take(&c, sizeof b, "short block"), sizeof b);
        if (i && b.addr <= prev)
            die("BLOCKS not sorted");
        prev = b.addr;
        bytes += b.size;
        for (size_t k = 0; k < sizeof b; k++)
            digest = (digest ^ ((const unsigned char *)&b)[k]) * 1099511628211ull;
        partial += (b.flags & HSNAP_BLOCK_PARTIAL) != 0;
    }
    if (!s.meta.sample_interval && n != s.malloc_count)
        die("BLOCKS count != STATS' malloc-kind live count");
    fprintf(out, "blocks %llu bytes %llu digest %016llx\n", (unsigned long long)n,
            (unsigned long long)bytes, (unsigned long long)digest);
    if (partial)
        fprintf(out, "partial %llu\n", (unsigned long long)partial);
}

/* Block i of BLOCKS (read_blocks checked the count). */
static struct hsnap_block block_at(uint64_t i)
{
    struct hsnap_block b;
    memcpy(&b, s.sec[HSNAP_SEC_BLOCKS].p + 8 + i * sizeof b, sizeof b);
    return b;
}

static uint64_t block_count(void)
{
    return s.seen[HSNAP_SEC_BLOCKS] ? s.nblocks : 0;
}

/* The smallest block size of trace t, or -1. */
static long long trace_size(uint32_t t)
{
    long long best = -1;
    for (uint64_t i = 0; i < block_count(); i++) {
        struct hsnap_block b = block_at(i);
        if (b.trace == t && (best < 0 || (long long)b.size < best))
            best = (long long)b.size;
    }
    return best;
}

static void put_size(long long v)
{
    if (v < 0)
        printf(" -");
    else
        printf(" %lld", v);
}

static void print_leaks(void)
{
    struct cur c = s.sec[HSNAP_SEC_LEAKS];
    struct hsnap_leaks_head h;
    memcpy(&h, take(&c, sizeof h, "short LEAKS"), sizeof h);
    if (c.left != 16ull * h.nclass + sizeof(struct hsnap_leak_record) * h.nrecords + 4ull * h.nmembers)
        die("bad LEAKS length");
    for (uint32_t k = 0; k < h.nclass; k++) {
        struct hsnap_leak_total t;
        memcpy(&t, take(&c, sizeof t, "short LEAKS total"), sizeof t);
        printf("total %u %llu %llu\n", k, (unsigned long long)t.blocks, (unsigned long long)t.bytes);
    }
    printf("unstopped %u\n", h.unstopped);
    for (uint32_t i = 0; i < h.nrecords; i++) {
        struct hsnap_leak_record r;
        memcpy(&r, take(&c, sizeof r, "short LEAKS record"), sizeof r);
        if (r.root >= block_count())
            die("bad record root");
        printf("record %u %llu %llu %llu %llu %llu\n", r.cls,
               (unsigned long long)block_at(r.root).size, (unsigned long long)r.own_blocks,
               (unsigned long long)r.own_bytes, (unsigned long long)r.indirect_blocks,
               (unsigned long long)r.indirect_bytes);
    }
}

static void print_retainers(void)
{
    struct cur c = s.sec[HSNAP_SEC_RETAINERS];
    uint32_t n = (uint32_t)u(&c, 4, "short RETAINERS");
    u(&c, 4, "short RETAINERS");
    if (c.left != (uint64_t)sizeof(struct hsnap_retainer) * n)
        die("bad RETAINERS length");
    for (uint32_t i = 0; i < n; i++) {
        struct hsnap_retainer r;
        memcpy(&r, take(&c, sizeof r, "short retainer"), sizeof r);
        printf("ret");
        put_size(trace_size(r.target_trace));
        printf(" %u", r.source_kind);
        put_size(r.source_kind ? -1 : trace_size(r.source_trace));
        printf(" %llu %llu %llu\n", (unsigned long long)r.refs, (unsigned long long)r.blocks,
               (unsigned long long)r.bytes);
    }
}

/* --leaks: what the leak check wrote, in leak-test lines (see the top). */
static void print_leak_check(void)
{
    printf("flags %u\n", s.meta.flags);
    if (s.seen[HSNAP_SEC_LEAKS])
        print_leaks();
    for (uint64_t i = 0; i < block_count(); i++) {
        struct hsnap_block b = block_at(i);
        printf("block %llu %u %u %u\n", (unsigned long long)b.size, b.cls, b.refcount, b.flags);
    }
    if (s.seen[HSNAP_SEC_RETAINERS])
        print_retainers();
}

int main(int argc, char **argv)
{
    int leaks = argc == 3 && !strcmp(argv[1], "--leaks");
    py_lines = argc == 3 && !strcmp(argv[1], "--python");
    if (argc != 2 && !leaks && !py_lines) {
        fprintf(stderr, "usage: hsnap_dump [--leaks | --python] FILE\n");
        return 2;
    }
    file = argv[argc - 1];
    out = leaks || py_lines ? fopen("/dev/null", "w") : stdout;
    if (!out)
        die("cannot open /dev/null");
    FILE *f = fopen(file, "rb");
    if (!f)
        die("cannot open");
    fseek(f, 0, SEEK_END);
    long len = ftell(f);
    fseek(f, 0, SEEK_SET);
    unsigned char *buf = malloc(len > 0 ? (size_t)len : 1);
    if (!buf || fread(buf, 1, (size_t)len, f) != (size_t)len)
        die("cannot read");
    fclose(f);
    read_sections(buf, (uint64_t)len);
    print_meta();
    read_modules();
    read_traces();
    read_blocks();
    if (s.seen[HSNAP_SEC_TIMELINE]) {
        struct cur c = s.sec[HSNAP_SEC_TIMELINE];
        uint32_t n = (uint32_t)u(&c, 4, "short TIMELINE");
        if (c.left != (uint64_t)n * sizeof(struct hsnap_point))
            die("TIMELINE count disagrees");
        fprintf(out, "timeline %u\n", n);
    }
    if (leaks)
        print_leak_check();
    free(buf);
    return 0;
}
