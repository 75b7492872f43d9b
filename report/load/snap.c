/*
 * snap.c - reads a .hsnap file and validates all of it before anyone uses it.
 *
 * The file is untrusted (truncated by a crash, damaged, not a snapshot at
 * all), so the loader works in two passes:
 *   1. the frame: header (magic, version, header_size, file_size == real
 *      size), then every section header fits, its crc32 matches, known
 *      types appear at most once, END closes the file with nothing after;
 *   2. the payloads: a cursor reads each field only after checking that it
 *      fits, and every count is compared with the bytes left *before*
 *      anything is allocated.
 * snap_load reads the header alone first, so a non-snapshot costs one
 * small read (snap_check_header), then hands the rest to snap_load_owned.
 * Sums are bounded (check_sums) so that no sum the CLI makes overflows.
 * Cross-references are checked last (STATS count == TRACES count, trace
 * ids in range, blocks sorted, module lo <= hi; LEAKS in lset.c).  A
 * compressed section is checked as stored, then inflated (inflate.c).
 * Errors are one line; a section names itself with section.c.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>
#include <zlib.h>

#include "cli.h"
#include "lset.h"
#include "peakread.h"
#include "sitelineread.h"
#include "snap.h"

#define SNAP_MAX_FAILED (1ull << 52) /* failures at one site: more is damage */

/* A bounds-checked reader over one payload. */
struct cur {
    const uint8_t *p;
    uint64_t left;
};

struct sec {
    const uint8_t *data;
    uint64_t len;
    int seen;
};

static int fail(char *err, size_t errlen, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(err, errlen, fmt, ap);
    va_end(ap);
    return -1;
}

static int cur_take(struct cur *c, void *dst, uint64_t n)
{
    if (n > c->left)
        return -1;
    if (dst)
        memcpy(dst, c->p, n);
    c->p += n;
    c->left -= n;
    return 0;
}

/* A str := u32 len, bytes[len]; returns a NUL-terminated copy or NULL. */
static char *cur_str(struct cur *c)
{
    uint32_t n;
    if (cur_take(c, &n, 4) < 0 || n > c->left)
        return NULL;
    char *s = malloc((size_t)n + 1);
    if (!s)
        return NULL;
    memcpy(s, c->p, n);
    s[n] = 0;
    cur_take(c, NULL, n);
    return s;
}

int snap_check_header(const uint8_t *buf, size_t have, size_t len, char *err,
                      size_t errlen)
{
    struct hsnap_header h;
    if (len == 0)
        return fail(err, errlen, "empty file");
    if (memcmp(buf, HSNAP_MAGIC, have < HSNAP_MAGIC_LEN ? have : HSNAP_MAGIC_LEN))
        return fail(err, errlen, "not a heapsnap snapshot (bad magic)");
    if (have < sizeof(h))
        return fail(err, errlen, "truncated (%zu bytes, header needs %zu)", len,
                    sizeof(h));
    memcpy(&h, buf, sizeof(h));
    if (h.version == 0 || h.version > HSNAP_VERSION)
        return fail(err, errlen, "unsupported format version %u (this heapsnap reads %u)",
                    h.version, HSNAP_VERSION);
    if (h.header_size < sizeof(h) || h.header_size > len)
        return fail(err, errlen, "bad header size %u", h.header_size);
    if (h.file_size > len)
        return fail(err, errlen, "truncated (%zu of %llu bytes)", len,
                    (unsigned long long)h.file_size);
    if (h.file_size < len)
        return fail(err, errlen, "%llu bytes of trailing data after the snapshot",
                    (unsigned long long)(len - h.file_size));
    return (int)h.header_size;
}

/* Whether every snapshot has a section of this type (parse_required). */
static int snap_required(uint32_t type)
{
    return type == HSNAP_SEC_META || type == HSNAP_SEC_MODULES || type == HSNAP_SEC_TRACES;
}

/* Whether a compressed TRACES was read (snap_traces_stream: before the
 * sections after it) and none of its traces is of the mmap kind. */
static int traces_unmapped(const struct snap *s)
{
    if (!s->traces || s->traces_err)
        return 0;
    for (uint32_t t = 0; t < s->ntraces; t++)
        if (s->traces[t].flags & HSNAP_TRACE_MMAP)
            return 0;
    return 1;
}

/* STATS read for the traces of the mmap kind alone (SNAP_SKIP_STATS_UNMAPPED
 * where a compressed TRACES, read before it, has some: a Python process
 * maps a range or two among a million traces): the payload is streamed
 * and those traces' rows kept in a mapping of zeros (s->zeros, one row a
 * trace), whose pages only they touch, where inflating it whole wrote and
 * faulted in a row for every trace (docs/performance-hotpath.md, the row
 * of snap.c's stats_pick).  The count and the length are checked as
 * parse_array and parse_required check them; the other rows' sums are
 * not read (check_sums: zeros). */
struct stats_pick {
    struct snap *s;
    struct hsnap_stat *rows;
    uint8_t head[4], part[sizeof(struct hsnap_stat)];
    unsigned nhead, npart;
    uint64_t at; /* rows read */
};

static void stats_pick_row(struct stats_pick *k, const uint8_t *row)
{
    if (k->at < k->s->ntraces && (k->s->traces[k->at].flags & HSNAP_TRACE_MMAP))
        memcpy(&k->rows[k->at], row, sizeof *k->rows);
    k->at++;
}

static void stats_pick_feed(void *ctx, const uint8_t *p, size_t n)
{
    struct stats_pick *k = ctx;
    const size_t rs = sizeof(struct hsnap_stat);
    while (n) {
        if (k->nhead < sizeof k->head || k->npart || n < rs) {
            int head = k->nhead < sizeof k->head;
            uint8_t *to = head ? k->head + k->nhead : k->part + k->npart;
            size_t want = head ? sizeof k->head - k->nhead : rs - k->npart;
            size_t m = want < n ? want : n;
            memcpy(to, p, m);
            p += m, n -= m;
            if (head)
                k->nhead += (unsigned)m;
            else if ((k->npart += (unsigned)m) == rs)
                stats_pick_row(k, k->part), k->npart = 0;
            continue;
        }
        for (; n >= rs; p += rs, n -= rs)
            stats_pick_row(k, p);
    }
}

static int stats_pick(const uint8_t *data, uint64_t len, struct snap *s, uint64_t *raw,
                      char *err, size_t errlen)
{
    uint64_t n = s->ntraces;
    size_t maplen = (size_t)(n + 1) * sizeof(struct hsnap_stat);
    if (snap_budget_take(&s->budget, n * sizeof(struct hsnap_stat), "STATS", err, errlen) < 0)
        return -1;
    void *z = mmap(NULL, maplen, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
    if (z == MAP_FAILED)
        return fail(err, errlen, "out of memory");
    s->zeros = z;
    s->zeros_len = maplen;
    struct stats_pick k = {s, z, {0}, {0}, 0, 0, 0};
    if (snap_section_stream(data, len, "STATS", &s->budget, stats_pick_feed, &k, raw, err,
                            errlen) < 0)
        return -1;
    uint32_t count = 0;
    memcpy(&count, k.head, sizeof count);
    if (k.nhead < sizeof k.head)
        return fail(err, errlen, "section STATS: no count");
    if (k.npart || k.at != count)
        return fail(err, errlen, "section STATS: count %llu does not match %llu payload bytes",
                    (unsigned long long)count,
                    (unsigned long long)(k.at * sizeof(struct hsnap_stat) + k.npart));
    if (count != s->ntraces)
        return fail(err, errlen, "section STATS: %llu entries for %u traces",
                    (unsigned long long)count, s->ntraces);
    s->stats = z;
    return 0;
}

/* Pass 1: walk the sections, check their frames and checksums; a
 * compressed one is decompressed into s->unpacked. */
static int walk_sections(const uint8_t *buf, size_t len, size_t off, struct sec *secs,
                         struct snap *s, char *err, size_t errlen)
{
    struct hsnap_section sh;
    for (;;) {
        if (len - off < sizeof(sh))
            return fail(err, errlen, "truncated (no END section)");
        memcpy(&sh, buf + off, sizeof(sh));
        off += sizeof(sh);
        const char *name = snap_section_name(sh.type & ~HSNAP_SEC_ZSTD);
        if (sh.length > len - off)
            return fail(err, errlen, "section %s: truncated (%llu bytes, %zu left)",
                        name, (unsigned long long)sh.length, len - off);
        const uint8_t *data = buf + off;
        uLong crc = crc32_z(0L, data, (z_size_t)sh.length);
        if (crc != sh.crc32)
            return fail(err, errlen, "section %s: checksum mismatch", name);
        off += sh.length;
        if (sh.type == HSNAP_SEC_END) {
            if (sh.length != 0)
                return fail(err, errlen, "section END: length %llu, want 0",
                            (unsigned long long)sh.length);
            if (off != len)
                return fail(err, errlen, "%zu bytes after the END section", len - off);
            return 0;
        }
        uint32_t type = sh.type & ~HSNAP_SEC_ZSTD;
        if (type >= SNAP_MAX_SECTIONS || type == 0)
            continue; /* unknown: skipped, by the format's rule */
        if (secs[type].seen)
            return fail(err, errlen, "section %s appears twice", name);
        if (type == HSNAP_SEC_STATS && (s->budget.skip & SNAP_SKIP_STATS_UNMAPPED) &&
            traces_unmapped(s))
            s->budget.skip |= SNAP_SEC(STATS);
        if (type == HSNAP_SEC_STATS && (s->budget.skip & SNAP_SKIP_STATS_UNMAPPED) &&
            !(s->budget.skip & SNAP_SEC(STATS)) && (sh.type & HSNAP_SEC_ZSTD) &&
            s->version >= 3 && s->traces && !s->traces_err) { /* the mmap kind's rows */
            uint64_t raw = sh.length;
            if (stats_pick(data, sh.length, s, &raw, err, errlen) < 0)
                return -1;
            s->sizes[type] = (struct snap_secsize){sh.length + sizeof(sh), raw + sizeof(sh)};
            secs[type] = (struct sec){NULL, raw, 1}; /* read: parse_required takes s->stats */
            continue;
        }
        if ((s->budget.skip & (1u << type)) && !snap_required(type)) {
            /* not wanted (snap_load_skip): its sizes as stored and as its
             * head declares them (info's "compressed from") */
            uint64_t raw = sh.length;
            if ((sh.type & HSNAP_SEC_ZSTD) && sh.length >= 8)
                memcpy(&raw, data, 8);
            s->sizes[type] = (struct snap_secsize){sh.length + sizeof(sh), raw + sizeof(sh)};
            continue;
        }
        uint64_t raw = sh.length;
        if (type == HSNAP_SEC_TRACES && (sh.type & HSNAP_SEC_ZSTD) && s->version >= 3) {
            if (snap_traces_stream(data, sh.length, s, &raw, err, errlen) < 0)
                return -1;
            data = NULL; /* read already: parse_traces checks what was found */
        } else if (sh.type & HSNAP_SEC_ZSTD) {
            if (s->version < 3)
                return fail(err, errlen, "section %s: compressed in a format %u file", name,
                            s->version);
            if (snap_section_inflate(data, sh.length, name, &s->budget, &s->unpacked[type], &raw,
                                     err, errlen) < 0)
                return -1;
            data = s->unpacked[type];
        }
        s->sizes[type] = (struct snap_secsize){sh.length + sizeof(sh), raw + sizeof(sh)};
        secs[type] = (struct sec){data, raw, 1};
    }
}

static int parse_meta(struct sec *sec, struct snap *s, char *err, size_t errlen)
{
    struct cur c = {sec->data, sec->len};
    if (cur_take(&c, &s->meta, sizeof(s->meta)) < 0)
        return fail(err, errlen, "section META: too short (%llu bytes)",
                    (unsigned long long)sec->len);
    s->cmdline = cur_str(&c);
    if (!s->cmdline)
        return fail(err, errlen, "section META: bad command line string");
    s->exe = cur_str(&c);
    if (!s->exe)
        return fail(err, errlen, "section META: bad exe string");
    if (c.left)
        return fail(err, errlen, "section META: %llu stray bytes at the end",
                    (unsigned long long)c.left);
    return 0;
}

#define MODULE_FIXED 32 /* bias, lo, hi, path_len, build_id_len, flags */

static int parse_module(struct cur *c, struct snap_module *m, uint32_t i, char *err,
                        size_t errlen)
{
    uint16_t plen, blen;
    uint32_t flags;
    if (cur_take(c, &m->bias, 8) || cur_take(c, &m->lo, 8) || cur_take(c, &m->hi, 8) ||
        cur_take(c, &plen, 2) || cur_take(c, &blen, 2) || cur_take(c, &flags, 4))
        return fail(err, errlen, "section MODULES: module %u truncated", i);
    if ((uint64_t)plen + blen > c->left)
        return fail(err, errlen, "section MODULES: module %u: names overrun the section", i);
    if (m->lo > m->hi)
        return fail(err, errlen, "section MODULES: module %u: range %#llx-%#llx is backwards",
                    i, (unsigned long long)m->lo, (unsigned long long)m->hi);
    m->path = malloc((size_t)plen + 1);
    m->build_id = malloc(blen ? blen : 1);
    if (!m->path || !m->build_id)
        return fail(err, errlen, "out of memory");
    cur_take(c, m->path, plen);
    m->path[plen] = 0;
    cur_take(c, m->build_id, blen);
    m->build_id_len = blen;
    m->flags = flags;
    return 0;
}

static int mod_lo_cmp(const void *a, const void *b, void *mods)
{
    const struct snap_module *m = mods;
    uint64_t x = m[*(const uint32_t *)a].lo, y = m[*(const uint32_t *)b].lo;
    return (x > y) - (x < y);
}

/* s->mod_by_lo, when the modules' ranges are disjoint and none was
 * unloaded: then the one module that holds an ip is the first that does,
 * which snap_module_at finds by a binary search instead of a walk of every
 * module (a symbolized or merged frame each: a Python process's hundreds
 * of modules).  Out of memory, or another layout: left NULL. */
static void modules_index(struct snap *s)
{
    if (s->nmodules < 8)
        return;
    for (uint32_t i = 0; i < s->nmodules; i++)
        if ((s->modules[i].flags & HSNAP_MODULE_UNLOADED) || s->modules[i].lo >= s->modules[i].hi)
            return;
    uint32_t *v = malloc((size_t)s->nmodules * sizeof(*v));
    if (!v)
        return;
    for (uint32_t i = 0; i < s->nmodules; i++)
        v[i] = i;
    qsort_r(v, s->nmodules, sizeof(*v), mod_lo_cmp, s->modules);
    for (uint32_t i = 1; i < s->nmodules; i++)
        if (s->modules[v[i]].lo < s->modules[v[i - 1]].hi) {
            free(v);
            return;
        }
    s->mod_by_lo = v;
}

static int parse_modules(struct sec *sec, struct snap *s, char *err, size_t errlen)
{
    struct cur c = {sec->data, sec->len};
    uint32_t n;
    if (cur_take(&c, &n, 4) < 0)
        return fail(err, errlen, "section MODULES: no count");
    if ((uint64_t)n * MODULE_FIXED > c.left)
        return fail(err, errlen, "section MODULES: count %u does not fit in %llu bytes",
                    n, (unsigned long long)sec->len);
    if (snap_budget_take(&s->budget, (uint64_t)n * sizeof(*s->modules) + sec->len, "MODULES",
                         err, errlen) < 0)
        return -1;
    s->modules = calloc(n ? n : 1, sizeof(*s->modules));
    if (!s->modules)
        return fail(err, errlen, "out of memory");
    s->nmodules = n;
    for (uint32_t i = 0; i < n; i++)
        if (parse_module(&c, &s->modules[i], i, err, errlen) < 0)
            return -1;
    if (c.left)
        return fail(err, errlen, "section MODULES: %llu stray bytes at the end",
                    (unsigned long long)c.left);
    modules_index(s);
    return 0;
}

/* Where TRACES' traces start once moved into place (see above), or NULL
 * when the section is not the snapshot's to write (they are copied). */
static uint8_t *traces_in_place(struct sec *sec, struct snap *s)
{
    uint8_t *p = (uint8_t *)sec->data;
    if (p == s->unpacked[HSNAP_SEC_TRACES]) { /* (not made: snap_traces_stream reads compressed TRACES) */
        memmove(p, p + 4, sec->len - 4);
        return p;
    }
    if (p < s->buf || p >= s->buf + s->len)
        return NULL;
    /* down over the count's 4 bytes and, past them, the end of the section's
     * 16-byte head (walk_sections alone reads it): never into another section */
    size_t down = (uintptr_t)(p + 4) % 8;
    memmove(p + 4 - down, p + 4, sec->len - 4);
    return p + 4 - down;
}

/* TRACES is read twice: once to count ips (so one aligned buffer holds them
 * all), once to copy them.  A section the snapshot holds writable, in a
 * buffer of its own (s->unpacked, decompressed) or in its file's buffer
 * (s->buf: a state's rebuilt document, whose traces share no frames), is
 * not copied when no trace shares frames with the one before (format 5's
 * shared, hsnap_format.h): its traces move down over the count, by what
 * puts every trace's ips on an 8-byte boundary (each trace is 8 bytes of
 * head and 8 a frame; traces_in_place), and the traces point into it.
 * Nothing reads the section's bytes, nor its head's, after parse_traces.
 * Shared frames are copied from the trace before, whose ips are whole by
 * then; what they take is charged to the file's budget first, so a payload
 * of a few bytes cannot claim gigabytes. */
static int parse_traces(struct sec *sec, struct snap *s, char *err, size_t errlen)
{
    struct cur c = {sec->data, sec->len};
    uint32_t n;
    uint16_t depth = 0, shared = 0, before = 0;
    if (!sec->data) /* read as it inflated (snap_traces_stream) */
        return s->traces_err ? fail(err, errlen, "%s", s->traces_err) : 0;
    if (cur_take(&c, &n, 4) < 0)
        return fail(err, errlen, "section TRACES: no count");
    if ((uint64_t)n * 8 > c.left)
        return fail(err, errlen, "section TRACES: count %u does not fit in %llu bytes",
                    n, (unsigned long long)sec->len);
    struct cur scan = c;
    uint64_t nips = 0, nshared = 0;
    for (uint32_t i = 0; i < n; i++, before = depth) {
        if (cur_take(&scan, &depth, 2) || cur_take(&scan, NULL, 2) ||
            cur_take(&scan, &shared, 2) || cur_take(&scan, NULL, 2))
            return fail(err, errlen, "section TRACES: trace %u overruns the section", i);
        if (s->version < 5)
            shared = 0;
        if (shared > depth || shared > (i ? before : 0))
            return fail(err, errlen,
                        "section TRACES: trace %u shares %u frames (depth %u, %u before)", i,
                        shared, depth, i ? before : 0);
        if (cur_take(&scan, NULL, (uint64_t)(depth - shared) * 8))
            return fail(err, errlen, "section TRACES: trace %u overruns the section", i);
        nips += depth;
        nshared += shared;
    }
    if (scan.left)
        return fail(err, errlen, "section TRACES: %llu stray bytes at the end",
                    (unsigned long long)scan.left);
    if (snap_budget_take(&s->budget, (uint64_t)n * sizeof(*s->traces) + nips * 8, "TRACES", err,
                         errlen) < 0)
        return -1;
    s->traces = calloc(n ? n : 1, sizeof(*s->traces));
    uint8_t *own = nshared ? NULL : traces_in_place(sec, s);
    if (own) {
        if (!s->traces)
            return fail(err, errlen, "out of memory");
        s->ntraces = n;
        c.p = own;
        for (uint32_t i = 0; i < n; i++) {
            struct snap_trace *t = &s->traces[i];
            cur_take(&c, &t->depth, 2);
            cur_take(&c, &t->flags, 2);
            cur_take(&c, NULL, 4);
            t->ips = (const uint64_t *)c.p;
            cur_take(&c, NULL, (uint64_t)t->depth * 8);
        }
        return 0;
    }
    s->ipbuf = malloc(nips ? nips * 8 : 8);
    if (!s->traces || !s->ipbuf)
        return fail(err, errlen, "out of memory");
    s->ntraces = n;
    uint64_t *ip = s->ipbuf;
    for (uint32_t i = 0; i < n; i++) {
        struct snap_trace *t = &s->traces[i];
        cur_take(&c, &t->depth, 2);
        cur_take(&c, &t->flags, 2);
        cur_take(&c, &shared, 2);
        cur_take(&c, NULL, 2);
        if (s->version < 5)
            shared = 0;
        uint16_t mine = (uint16_t)(t->depth - shared);
        cur_take(&c, ip, (uint64_t)mine * 8);
        if (shared) { /* checked above: the trace before has as many */
            const struct snap_trace *b = &s->traces[i - 1];
            memcpy(ip + mine, b->ips + (b->depth - shared), (size_t)shared * 8);
        }
        t->ips = ip;
        ip += t->depth;
    }
    return 0;
}

/* count (u32 or u64) then count fixed-size items filling the rest exactly. */
static int parse_array(struct sec *sec, int count_bytes, size_t item, uint64_t *count,
                       const void **items, const char *name, char *err, size_t errlen)
{
    struct cur c = {sec->data, sec->len};
    uint64_t n = 0;
    if (cur_take(&c, &n, count_bytes) < 0)
        return fail(err, errlen, "section %s: no count", name);
    if (n > c.left / item || n * item != c.left)
        return fail(err, errlen, "section %s: count %llu does not match %llu payload bytes",
                    name, (unsigned long long)n, (unsigned long long)c.left);
    *count = n;
    *items = n ? c.p : NULL;
    return 0;
}

static int block_cmp(const void *a, const void *b)
{
    uint64_t x = ((const struct hsnap_block *)a)->addr, y = ((const struct hsnap_block *)b)->addr;
    return (x > y) - (x < y);
}

/* From format 6 the shim streams BLOCKS packed in runs, each sorted by
 * address (bstream_runs): put in order here, in the section's own buffer
 * (inflated: ours), unless a section names blocks by index (the leak
 * check's, whose BLOCKS the model wrote in order). */
static void sort_blocks(struct sec *secs, struct snap *s)
{
    if (s->version < 6 || !s->unpacked[HSNAP_SEC_BLOCKS] || secs[HSNAP_SEC_LEAKS].seen ||
        secs[HSNAP_SEC_RETAINERS].seen || secs[HSNAP_SEC_HOLDERS].seen)
        return;
    uint64_t i = 1;
    while (i < s->nblocks && s->blocks[i - 1].addr < s->blocks[i].addr)
        i++;
    if (i < s->nblocks)
        qsort((struct hsnap_block *)(s->unpacked[HSNAP_SEC_BLOCKS] + 8), s->nblocks,
              sizeof *s->blocks, block_cmp);
}

static int check_blocks(struct snap *s, char *err, size_t errlen)
{
    for (uint64_t i = 0; i < s->nblocks; i++) {
        const struct hsnap_block *b = &s->blocks[i];
        if (b->trace >= s->ntraces)
            return fail(err, errlen, "section BLOCKS: block %llu: trace id %u out of range (%u traces)",
                        (unsigned long long)i, b->trace, s->ntraces);
        if (i && b->addr <= s->blocks[i - 1].addr)
            return fail(err, errlen, "section BLOCKS: block %llu: not sorted by address",
                        (unsigned long long)i);
    }
    return 0;
}

static int parse_required(struct sec *secs, struct snap *s, char *err, size_t errlen)
{
    static const uint32_t req[] = {HSNAP_SEC_META, HSNAP_SEC_MODULES, HSNAP_SEC_TRACES,
                                   HSNAP_SEC_STATS};
    int nostats = !secs[HSNAP_SEC_STATS].seen && (s->budget.skip & 1u << HSNAP_SEC_STATS);
    for (size_t i = 0; i < sizeof(req) / sizeof(req[0]) - (size_t)nostats; i++)
        if (!secs[req[i]].seen)
            return fail(err, errlen, "missing %s section", snap_section_name(req[i]));
    if (parse_meta(&secs[HSNAP_SEC_META], s, err, errlen) ||
        parse_modules(&secs[HSNAP_SEC_MODULES], s, err, errlen) ||
        parse_traces(&secs[HSNAP_SEC_TRACES], s, err, errlen))
        return -1;
    uint64_t n = s->ntraces;
    const void *items;
    if (nostats) { /* not read (snap_load_skip): zeros */
        if (snap_budget_take(&s->budget, n * sizeof(struct hsnap_stat), "STATS", err, errlen) < 0)
            return -1;
        size_t len = (size_t)(n + 1) * sizeof(struct hsnap_stat);
        void *z = mmap(NULL, len, PROT_READ, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
        if (z == MAP_FAILED)
            return fail(err, errlen, "out of memory");
        s->zeros = z;
        s->zeros_len = len;
        s->stats = z;
        return 0;
    }
    if (!secs[HSNAP_SEC_STATS].data && s->zeros && s->stats) /* stats_pick's rows */
        return 0;
    if (parse_array(&secs[HSNAP_SEC_STATS], 4, sizeof(struct hsnap_stat), &n, &items,
                    "STATS", err, errlen))
        return -1;
    if (n != s->ntraces)
        return fail(err, errlen, "section STATS: %llu entries for %u traces",
                    (unsigned long long)n, s->ntraces);
    s->stats = items;
    return 0;
}

/* STATE: 24 bytes, the state file's bound and most used. */
static int parse_state_use(struct sec *sec, struct snap *s, char *err, size_t errlen)
{
    uint32_t tail[2];
    if (sec->len != 24)
        return fail(err, errlen, "section STATE: %llu bytes, want 24", (unsigned long long)sec->len);
    memcpy(&s->state_bound, sec->data, 8);
    memcpy(&s->state_max, (const uint8_t *)sec->data + 8, 8);
    memcpy(tail, (const uint8_t *)sec->data + 16, 8);
    if (s->state_max > s->state_bound)
        return fail(err, errlen, "section STATE: %llu bytes used of %llu", (unsigned long long)s->state_max,
                    (unsigned long long)s->state_bound);
    s->state_flags = tail[0];
    return 0;
}

/* MAPPED: the reserved address space, and each mmap-kind trace's resident
 * bytes (32 + 16 * count; items sorted by trace, each at most its live
 * bytes when STATS says them). */
static int parse_mapped(const struct sec *sec, struct snap *s, char *err, size_t errlen)
{
    struct hsnap_mapped h;
    if (sec->len < sizeof h)
        return fail(err, errlen, "section MAPPED: %llu bytes, want at least %zu",
                    (unsigned long long)sec->len, sizeof h);
    memcpy(&h, sec->data, sizeof h);
    if (sec->len != sizeof h + (uint64_t)h.count * sizeof(struct hsnap_mapped_item))
        return fail(err, errlen, "section MAPPED: count %u does not match %llu bytes", h.count,
                    (unsigned long long)sec->len);
    if (h.reserved_bytes > (1ull << 52) || h.resident_bytes > (1ull << 52) ||
        h.reserved_ranges > h.reserved_bytes)
        return fail(err, errlen, "section MAPPED: %llu bytes reserved in %llu ranges: damaged",
                    (unsigned long long)h.reserved_bytes, (unsigned long long)h.reserved_ranges);
    if (!(s->resident = big_calloc(s->ntraces ? s->ntraces : 1, sizeof *s->resident)))
        return fail(err, errlen, "out of memory");
    uint64_t sum = 0;
    uint32_t last = 0;
    for (uint32_t i = 0; i < h.count; i++) {
        struct hsnap_mapped_item it;
        memcpy(&it, (const uint8_t *)sec->data + sizeof h + (size_t)i * sizeof it, sizeof it);
        if (it.trace >= s->ntraces)
            return fail(err, errlen, "section MAPPED: item %u names trace %u of %u", i, it.trace,
                        s->ntraces);
        if (i && it.trace <= last)
            return fail(err, errlen, "section MAPPED: item %u: traces not increasing", i);
        last = it.trace;
        s->resident[it.trace] = it.resident;
        sum += it.resident;
    }
    if (sum != h.resident_bytes)
        return fail(err, errlen, "section MAPPED: items add up to %llu bytes, the head says %llu",
                    (unsigned long long)sum, (unsigned long long)h.resident_bytes);
    s->mapped = h;
    s->has_mapped = 1;
    return 0;
}

/* UNLOADED: 4 + 4 * count bytes, a count per unloaded module. */
static int parse_unloaded(const struct sec *sec, struct snap *s, char *err, size_t errlen)
{
    uint32_t n, gone = 0;
    for (uint32_t i = 0; i < s->nmodules; i++)
        gone += (s->modules[i].flags & HSNAP_MODULE_UNLOADED) != 0;
    if (sec->len < sizeof n)
        return fail(err, errlen, "section UNLOADED: no count");
    memcpy(&n, sec->data, sizeof n);
    if (n != gone || sec->len != sizeof n + (uint64_t)n * sizeof n)
        return fail(err, errlen, "section UNLOADED: count %u, %u unloaded modules, %llu bytes",
                    n, gone, (unsigned long long)sec->len);
    const uint8_t *p = sec->data; /* the count, then one u32 per unloaded module */
    for (uint32_t i = 0; i < s->nmodules; i++)
        if (s->modules[i].flags & HSNAP_MODULE_UNLOADED)
            memcpy(&s->modules[i].until, p += sizeof n, sizeof n);
    return 0;
}

/* FAILED: 8 + 24 * count bytes, traces known, increasing, each failed. */
static int parse_failed(const struct sec *sec, struct snap *s, char *err, size_t errlen)
{
    uint32_t head[2];
    if (sec->len < sizeof head)
        return fail(err, errlen, "section FAILED: no count");
    memcpy(head, sec->data, sizeof head);
    uint64_t rest = sec->len - sizeof head;
    if (rest % sizeof(struct hsnap_failed) || rest / sizeof(struct hsnap_failed) != head[0])
        return fail(err, errlen, "section FAILED: count %u does not match %llu payload bytes",
                    head[0], (unsigned long long)rest);
    if (head[1])
        return fail(err, errlen, "section FAILED: reserved field %u, want 0", head[1]);
    const struct hsnap_failed *f = (const void *)(sec->data + sizeof head);
    for (uint32_t i = 0; i < head[0]; i++) {
        if (f[i].trace >= s->ntraces)
            return fail(err, errlen, "section FAILED: item %u names trace %u of %u", i,
                        f[i].trace, s->ntraces);
        if (i && f[i].trace <= f[i - 1].trace)
            return fail(err, errlen, "section FAILED: item %u: traces not increasing", i);
        if (!f[i].count || f[i].count > SNAP_MAX_FAILED)
            return fail(err, errlen, "section FAILED: item %u: count %llu", i,
                        (unsigned long long)f[i].count);
    }
    s->failed = head[0] ? f : NULL;
    s->nfailed = head[0];
    return 0;
}

/* A derived section (PYRETAIN, PYOWNED, RETAINERS, PEAK: what the shim
 * computed from BLOCKS and PYTYPES, the dominator tree, the blocks the
 * objects own, who retains each site, the peak's capture by trace) that
 * disagrees with them, decoded
 * with rc -1 and why in err: what it filled given back, its line kept
 * for snap_load to say, and the rest read.  Primary sections stay strict,
 * and so does LEAKS, derived too: a gate's verdict rests on it, and a
 * dropped one would pass a failing gate. */
static void snap_derived(struct snap *s, uint32_t type, int rc, char *err)
{
    if (rc == 0)
        return;
    if (type == HSNAP_SEC_PYRETAIN)
        pyretain_drop(s);
    else if (type == HSNAP_SEC_PYOWNED)
        pytypes_drop_owned(s);
    else if (type == HSNAP_SEC_PEAK) /* the capture: no peak then (peak_require says why) */
        free(s->peak_stats), s->peak_stats = NULL, memset(&s->peak, 0, sizeof s->peak),
        s->has_peak = 0, s->peak_dropped = 1;
    else if (type == HSNAP_SEC_HOLDERS)
        free(s->hold_buf), s->hold_buf = NULL, s->hold = NULL,
        s->nhold_ranges = s->nhold_tls = s->nhold_in = 0;
    else /* RETAINERS */
        s->retainers = NULL, s->nretainers = 0, s->has_retainers = 0;
    size_t had = s->dropped ? strlen(s->dropped) : 0, add = strlen(err);
    char *d = realloc(s->dropped, had + add + 2);
    if (d) {
        if (had)
            d[had++] = '\n';
        memcpy(d + had, err, add + 1);
        s->dropped = d;
    }
    err[0] = 0;
}

/* parse_optional's steps, in the order they must run: the heap's own
 * sections (BLOCKS first: the Python and leak sections index it), */
static int parse_heap_secs(struct sec *secs, struct snap *s, char *err, size_t errlen)
{
    uint64_t n;
    const void *items;
    if (secs[HSNAP_SEC_BLOCKS].seen) {
        if (parse_array(&secs[HSNAP_SEC_BLOCKS], 8, sizeof(struct hsnap_block), &n,
                        &items, "BLOCKS", err, errlen))
            return -1;
        s->nblocks = n;
        s->blocks = items;
        s->has_blocks = 1;
        sort_blocks(secs, s);
        if (check_blocks(s, err, errlen))
            return -1;
    }
    if (secs[HSNAP_SEC_TIMELINE].seen) {
        if (parse_array(&secs[HSNAP_SEC_TIMELINE], 4, sizeof(struct hsnap_point), &n,
                        &items, "TIMELINE", err, errlen))
            return -1;
        s->npoints = (uint32_t)n;
        s->points = items;
    }
    if (secs[HSNAP_SEC_LEAKS].seen) {
        s->leaks = secs[HSNAP_SEC_LEAKS].data;
        s->leaks_len = secs[HSNAP_SEC_LEAKS].len;
        if (lset_decode(s, s->leaks, s->leaks_len, err, errlen) < 0)
            return -1;
    }
    if (secs[HSNAP_SEC_SUPPRESSIONS].seen && secs[HSNAP_SEC_SUPPRESSIONS].len) {
        const struct sec *sp = &secs[HSNAP_SEC_SUPPRESSIONS];
        if (!(s->supp_text = malloc(sp->len + 1)))
            return fail(err, errlen, "out of memory");
        memcpy(s->supp_text, sp->data, sp->len);
        s->supp_text[sp->len] = 0;
    }
    if (secs[HSNAP_SEC_PEAK].seen)
        snap_derived(s, HSNAP_SEC_PEAK,
                     peak_decode(s, secs[HSNAP_SEC_PEAK].data, secs[HSNAP_SEC_PEAK].len, err, errlen),
                     err);
    if (secs[HSNAP_SEC_TEMPS].seen &&
        temps_decode(s, secs[HSNAP_SEC_TEMPS].data, secs[HSNAP_SEC_TEMPS].len, err, errlen) < 0)
        return -1;
    return 0;
}

/* the sections derived from BLOCKS (Python objects, retained sizes, owned
 * blocks, retainers, holders; a damaged one is dropped by snap_derived), */
static int parse_derived_secs(struct sec *secs, struct snap *s, char *err, size_t errlen)
{
    if (pyobjs_decode(s, secs[HSNAP_SEC_PYCODE].data, secs[HSNAP_SEC_PYCODE].len, /* after BLOCKS */
                      secs[HSNAP_SEC_PYTYPES].data, secs[HSNAP_SEC_PYTYPES].len, err, errlen))
        return -1;
    if (secs[HSNAP_SEC_PYRETAIN].seen && s->py.graph)
        snap_derived(s, HSNAP_SEC_PYRETAIN,
                     pyretain_decode(s, secs[HSNAP_SEC_PYRETAIN].data,
                                     secs[HSNAP_SEC_PYRETAIN].len, err, errlen), err);
    if (secs[HSNAP_SEC_PYTYPES].seen && secs[HSNAP_SEC_PYOWNED].seen) /* after PYTYPES */
        snap_derived(s, HSNAP_SEC_PYOWNED,
                     pytypes_decode_owned(s, secs[HSNAP_SEC_PYOWNED].data,
                                          secs[HSNAP_SEC_PYOWNED].len, err, errlen), err);
    if (secs[HSNAP_SEC_RETAINERS].seen) {
        s->has_retainers = 1;
        snap_derived(s, HSNAP_SEC_RETAINERS,
                     lset_decode_retainers(s, secs[HSNAP_SEC_RETAINERS].data,
                                           secs[HSNAP_SEC_RETAINERS].len, err, errlen), err);
    }
    if (secs[HSNAP_SEC_HOLDERS].seen && s->has_blocks)
        snap_derived(s, HSNAP_SEC_HOLDERS,
                     lset_decode_holders(s, secs[HSNAP_SEC_HOLDERS].data,
                                         secs[HSNAP_SEC_HOLDERS].len, err, errlen), err);
    return 0;
}

/* the process's sections over time and its threads, */
static int parse_process_secs(struct sec *secs, struct snap *s, char *err, size_t errlen)
{
    if (secs[HSNAP_SEC_SITELINE].seen &&
        siteline_decode(s, secs[HSNAP_SEC_SITELINE].data, secs[HSNAP_SEC_SITELINE].len,
                        secs[HSNAP_SEC_MAPLINE].data, secs[HSNAP_SEC_MAPLINE].len, err, errlen) < 0)
        return -1;
    if (secs[HSNAP_SEC_STATE].seen && parse_state_use(&secs[HSNAP_SEC_STATE], s, err, errlen) < 0)
        return -1;
    if (secs[HSNAP_SEC_FAILED].seen && parse_failed(&secs[HSNAP_SEC_FAILED], s, err, errlen) < 0)
        return -1;
    if (secs[HSNAP_SEC_MAPPED].seen && parse_mapped(&secs[HSNAP_SEC_MAPPED], s, err, errlen) < 0)
        return -1;
    if (secs[HSNAP_SEC_THREADS].seen &&
        snap_threads_decode(s, secs[HSNAP_SEC_THREADS].data, secs[HSNAP_SEC_THREADS].len, err,
                            errlen) < 0)
        return -1;
    if (secs[HSNAP_SEC_PYGCFREED].seen &&
        pygcfreed_decode(s, secs[HSNAP_SEC_PYGCFREED].data, secs[HSNAP_SEC_PYGCFREED].len,
                         err, errlen) < 0)
        return -1;
    if (secs[HSNAP_SEC_UNLOADED].seen &&
        parse_unloaded(&secs[HSNAP_SEC_UNLOADED], s, err, errlen) < 0)
        return -1;
    return 0;
}

/* and why a Python process has no types or no Python frames. */
static int parse_python_notes(struct sec *secs, struct snap *s, char *err, size_t errlen)
{
    if (secs[HSNAP_SEC_PYCAPPED].seen) { /* why a Python process has no PYTYPES */
        struct hsnap_pycapped c;
        if (secs[HSNAP_SEC_PYCAPPED].len != sizeof c)
            return fail(err, errlen, "section PYCAPPED: %llu bytes, want %zu",
                        (unsigned long long)secs[HSNAP_SEC_PYCAPPED].len, sizeof c);
        memcpy(&c, secs[HSNAP_SEC_PYCAPPED].data, sizeof c);
        s->py.capped_blocks = c.blocks, s->py.cap = c.cap;
    }
    if (secs[HSNAP_SEC_INHERITED].seen) { /* a fork child's inherited heap, summed */
        struct hsnap_inherited h;
        if (secs[HSNAP_SEC_INHERITED].len != sizeof h)
            return fail(err, errlen, "section INHERITED: %llu bytes, want %zu",
                        (unsigned long long)secs[HSNAP_SEC_INHERITED].len, sizeof h);
        memcpy(&h, secs[HSNAP_SEC_INHERITED].data, sizeof h);
        if (h.bytes > (1ull << 52) || h.blocks > (1ull << 52) ||
            !h.fork_epoch)
            return fail(err, errlen, "section INHERITED: %llu blocks of %llu bytes, epoch %u: "
                        "damaged", (unsigned long long)h.blocks, (unsigned long long)h.bytes,
                        h.fork_epoch);
        s->inherited = h;
        s->has_inherited = 1;
    }
    if (secs[HSNAP_SEC_PYUNREAD].seen) { /* a CPython whose frames were not read */
        struct hsnap_pyunread u;
        if (secs[HSNAP_SEC_PYUNREAD].len != sizeof u)
            return fail(err, errlen, "section PYUNREAD: %llu bytes, want %zu",
                        (unsigned long long)secs[HSNAP_SEC_PYUNREAD].len, sizeof u);
        memcpy(&u, secs[HSNAP_SEC_PYUNREAD].data, sizeof u);
        if (!u.why || u.why > HSNAP_PYUNREAD_WHY_MAX || (u.version & 0xffffu))
            return fail(err, errlen, "section PYUNREAD: reason %u, version %#x: not one written",
                        u.why, u.version);
        s->pyunread = u;
    }
    return 0;
}

static int parse_optional(struct sec *secs, struct snap *s, char *err, size_t errlen)
{
    if (parse_heap_secs(secs, s, err, errlen) < 0 ||
        parse_derived_secs(secs, s, err, errlen) < 0 ||
        parse_process_secs(secs, s, err, errlen) < 0 ||
        parse_python_notes(secs, s, err, errlen) < 0)
        return -1;
    return 0;
}

/* Byte and block counts: no process holds more than SNAP_MAX_SUM (4 PiB),
 * so larger values, and sums of one kind that pass it, are damage.  The
 * CLI adds them in signed 64-bit arithmetic (sizes may shrink in a diff);
 * with this bound, sums over thousands of snapshots cannot overflow. */
#define SNAP_MAX_SUM (1ull << 52)

struct sum {
    uint64_t v;
    const char *what;
};

/* Adds x to *acc; -1 when the sum passes SNAP_MAX_SUM. */
static int sum_add(struct sum *acc, uint64_t x)
{
    if (x > SNAP_MAX_SUM || (acc->v += x) > SNAP_MAX_SUM)
        return -1;
    return 0;
}

static int check_sums(const struct snap *s, char *err, size_t errlen)
{
    struct sum b = {0, "STATS live bytes"}, c = {0, "STATS live counts"};
    struct sum *bad = NULL;
    for (uint32_t i = 0; !s->zeros && i < s->ntraces && !bad; i++) /* zeros: not read */
        bad = sum_add(&b, s->stats[i].live_bytes) ? &b
            : sum_add(&c, s->stats[i].live_count) ? &c : NULL;
    struct sum m = {0, "META current bytes"}, p = {0, "META peak bytes"};
    if (!bad)
        bad = sum_add(&m, s->meta.current_bytes) ? &m : sum_add(&p, s->meta.peak_bytes) ? &p : NULL;
    struct sum k = {0, "BLOCKS sizes"};
    for (uint64_t i = 0; i < s->nblocks && !bad; i++)
        bad = sum_add(&k, s->blocks[i].size) ? &k : NULL;
    struct sum t = {0, "TIMELINE bytes"};
    for (uint32_t i = 0; i < s->npoints && !bad; i++, t.v = 0)
        bad = sum_add(&t, s->points[i].bytes) ? &t : NULL;
    struct sum l = {0, "LEAKS bytes"}, n = {0, "LEAKS blocks"};
    for (int i = 0; i < SNAP_NCLASS && !bad && s->lk.present; i++)
        bad = sum_add(&l, s->lk.total[i].bytes) ? &l : sum_add(&n, s->lk.total[i].blocks) ? &n : NULL;
    struct sum r = {0, "LEAKS record bytes"}, q = {0, "LEAKS record blocks"};
    for (uint64_t i = 0; s->lk.present && i < s->lk.head.nrecords && !bad; i++) {
        const struct hsnap_leak_record *x = &s->lk.records[i];
        bad = sum_add(&r, x->own_bytes) || sum_add(&r, x->indirect_bytes) ? &r
            : sum_add(&q, x->own_blocks) || sum_add(&q, x->indirect_blocks) ? &q : NULL;
    }
    struct sum rb = {0, "RETAINERS bytes"}, rk = {0, "RETAINERS blocks"};
    for (uint32_t i = 0; i < s->nretainers && !bad; i++)
        bad = sum_add(&rb, s->retainers[i].bytes) ? &rb
            : sum_add(&rk, s->retainers[i].blocks) ? &rk : NULL;
    if (bad)
        return fail(err, errlen, "%s add up to more than %llu: damaged", bad->what,
                    (unsigned long long)SNAP_MAX_SUM);
    return 0;
}

int snap_load_owned(uint8_t *buf, size_t len, const struct snap_budget *b, struct snap *s,
                    char *err, size_t errlen)
{
    static uint64_t serials;
    struct sec secs[SNAP_MAX_SECTIONS];
    memset(s, 0, sizeof(*s));
    memset(secs, 0, sizeof(secs));
    s->serial = ++serials;
    s->buf = buf;
    s->len = len;
    if (b)
        s->budget = *b;
    else
        snap_budget_init(&s->budget, len);
    int off = snap_budget_take(&s->budget, len, NULL, err, errlen);
    if (off == 0)
        off = snap_check_header(buf, len, len, err, errlen);
    if (off >= 0)
        memcpy(&s->version, buf + HSNAP_MAGIC_LEN, sizeof(s->version));
    if (off < 0 || walk_sections(buf, len, (size_t)off, secs, s, err, errlen) ||
        parse_required(secs, s, err, errlen) || parse_optional(secs, s, err, errlen) ||
        check_sums(s, err, errlen)) {
        snap_free(s);
        return -1;
    }
    return 0;
}

int snap_load_mem(const void *data, size_t len, struct snap *out, char *err,
                  size_t errlen)
{
    return snap_load_mem_within(data, len, NULL, out, err, errlen);
}

int snap_load_mem_within(const void *data, size_t len, const struct snap_budget *b,
                         struct snap *out, char *err, size_t errlen)
{
    uint8_t *buf = malloc(len ? len : 1);
    if (!buf) {
        memset(out, 0, sizeof(*out));
        return fail(err, errlen, "out of memory (%zu bytes)", len);
    }
    if (len)
        memcpy(buf, data, len);
    return snap_load_owned(buf, len, b, out, err, errlen);
}

int snap_attached_note(const struct snap *s, char *buf, size_t n)
{
    char when[64] = "?";
    if (!(s->meta.flags & HSNAP_META_ATTACHED))
        return 0;
    time_t t = (time_t)(s->meta.start_ns / 1000000000u);
    struct tm tm;
    if (localtime_r(&t, &tm))
        strftime(when, sizeof when, "%Y-%m-%dT%H:%M:%S%z", &tm);
    snprintf(buf, n, "attached at %s; blocks from before are not traced", when);
    return 1;
}

void snap_free(struct snap *s)
{
    for (uint32_t i = 0; s->modules && i < s->nmodules; i++) {
        free(s->modules[i].path);
        free(s->modules[i].build_id);
    }
    free(s->modules);
    free(s->mod_by_lo);
    free(s->hold_buf);
    pycode_free(s);
    pytypes_free(s);
    free(s->traces);
    free(s->ipbuf);
    free(s->iptab);
    free(s->nodes);
    free(s->traces_err);
    free(s->cmdline);
    free(s->exe);
    free(s->supp_text);
    free(s->dropped);
    free(s->buf);
    for (int i = 0; i < SNAP_MAX_SECTIONS; i++)
        free(s->unpacked[i]);
    free(s->peak_stats);
    free(s->temps);
    free(s->resident);
    free(s->threads);
    free(s->trace_thread);
    if (s->zeros)
        munmap(s->zeros, s->zeros_len);
    memset(s, 0, sizeof(*s));
}

const struct snap_module *snap_module_in(const struct snap *s, uint32_t trace, uint64_t ip)
{
    if (s->mod_by_lo) /* none unloaded */
        return snap_module_at(s, ip);
    const struct snap_module *then = NULL;
    for (uint32_t i = 0; i < s->nmodules; i++) {
        const struct snap_module *m = &s->modules[i];
        if (ip >= m->lo && ip < m->hi && (m->flags & HSNAP_MODULE_UNLOADED) && m->until > trace &&
            (!then || m->until < then->until))
            then = m;
    }
    return then ? then : snap_module_at(s, ip);
}

const struct snap_module *snap_module_at(const struct snap *s, uint64_t ip)
{
    if (s->mod_by_lo) {
        uint32_t lo = 0, hi = s->nmodules; /* the first whose range starts past ip */
        while (lo < hi) {
            uint32_t mid = lo + (hi - lo) / 2;
            if (s->modules[s->mod_by_lo[mid]].lo <= ip)
                lo = mid + 1;
            else
                hi = mid;
        }
        const struct snap_module *m = lo ? &s->modules[s->mod_by_lo[lo - 1]] : NULL;
        return m && ip < m->hi ? m : NULL;
    }
    for (uint32_t i = 0; i < s->nmodules; i++)
        if (ip >= s->modules[i].lo && ip < s->modules[i].hi)
            return &s->modules[i];
    return NULL;
}
