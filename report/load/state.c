/*
 * state.c - reads a state file (shim/hsnap_state.h): what a process left
 * beside its output when it was killed, as a cut-short snapshot.
 *
 * The file is hostile input like any snapshot, and may have been torn by
 * the kill: the header is checked field by field (magic, version, sizes,
 * every region inside the file and apart from the others, the directory's
 * entries), the published document by its crc32, and the document itself
 * by the ordinary loader (snap.c) after this file has patched it: its live
 * sums replaced by the cells' (fresher: the hooks keep them at the
 * instant), META marked cut short, as of the last heartbeat, with the
 * state's pid.  Only the header page, the cells in use and the document
 * are read, never the sparse rest.  A torn counter reads as a consistent-
 * enough view: a site whose lines add up to less than nothing holds
 * nothing, and totals are raised to the live sums where these ran ahead.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>
#include <zlib.h>

#include "hsnap_state.h"
#include "input.h"
#include "state.h"

#define STATE_MAX_DOC (1ull << 34) /* a document this big is damage */

static int st_fail(char *err, size_t errlen, const char *why)
{
    snprintf(err, errlen, "state file: %s", why);
    return -1;
}

int state_is(const void *head, size_t len)
{
    return len >= 8 && memcmp(head, HSTATE_MAGIC, 8) == 0;
}

static int st_read(int fd, void *buf, uint64_t off, uint64_t len)
{
    for (uint64_t at = 0; at < len;) {
        ssize_t r = pread(fd, (char *)buf + at, len - at, (off_t)(off + at));
        if (r < 0 && errno == EINTR)
            continue;
        if (r <= 0)
            return -1;
        at += (uint64_t)r;
    }
    return 0;
}

/* The header's regions inside a file of size bytes and apart. */
static int st_check_head(const struct hsnap_state_head *h, uint64_t size, char *err,
                         size_t errlen)
{
    if (h->version != HSTATE_VERSION)
        return st_fail(err, errlen, "unknown version (a newer heapsnap wrote it)");
    if (h->header_size != HSTATE_PAGE || h->file_size != size)
        return st_fail(err, errlen, "header and file size disagree (truncated or damaged)");
    if (h->cells_off != HSTATE_PAGE || h->cells_len % HSTATE_CHUNK ||
        h->cells_len / HSTATE_CHUNK > HSTATE_DIR_MAX || h->cells_len > size - HSTATE_PAGE)
        return st_fail(err, errlen, "the cells lie outside the file: damaged");
    /* cells, stacks, doc 0, doc 1: each inside the file, none overlapping */
    uint64_t lo[4] = {h->cells_off, h->stacks_off, h->doc_off[0], h->doc_off[1]};
    uint64_t len[4] = {h->cells_len, h->stacks_cap, h->doc_cap, h->doc_cap};
    if (h->doc_cap > STATE_MAX_DOC || h->stacks_cap > STATE_MAX_DOC ||
        h->stacks_len > h->stacks_cap)
        return st_fail(err, errlen, "regions larger than the format allows: damaged");
    for (int i = 0; i < 4; i++) {
        if (lo[i] < HSTATE_PAGE || lo[i] > size || len[i] > size - lo[i])
            return st_fail(err, errlen, "a region lies outside the file: damaged");
        for (int j = 0; j < i; j++)
            if (lo[i] < lo[j] + len[j] && lo[j] < lo[i] + len[i])
                return st_fail(err, errlen, "two regions overlap: damaged");
    }
    if ((uint64_t)h->ndir * HSTATE_CHUNK > h->cells_len)
        return st_fail(err, errlen, "more chunks of cells than room for them: damaged");
    for (uint32_t i = 0; i < h->ndir; i++)
        if (h->dir[i] && ((h->dir[i] >> 16) == 0 || (h->dir[i] >> 16) > 0xfffe))
            return st_fail(err, errlen, "a chunk of cells names no line: damaged");
    if (h->doc_slot == HSTATE_NO_DOC)
        return st_fail(err, errlen, "the process ended before its state was first written "
                                    "(it lived less than a heartbeat)");
    if (h->doc_slot > 1 || !h->doc[h->doc_slot].len || h->doc[h->doc_slot].len > h->doc_cap)
        return st_fail(err, errlen, "no valid document: damaged");
    return 0;
}

/* The cells' live sums per trace into acc[0..n) (int64 pairs), and what
 * sites past n hold into *later. */
static int st_cells(int fd, const struct hsnap_state_head *h, int64_t (*acc)[2], uint32_t n,
                    uint64_t *later)
{
    struct hsnap_state_cell *c = malloc(HSTATE_CHUNK);
    if (!c)
        return -1;
    for (uint32_t i = 0; i < h->ndir; i++) {
        if (!h->dir[i])
            continue;
        uint64_t base = (uint64_t)(h->dir[i] & 0xffffu) * HSTATE_IDS;
        if (st_read(fd, c, h->cells_off + (uint64_t)i * HSTATE_CHUNK, HSTATE_CHUNK) != 0) {
            free(c);
            return -1;
        }
        for (uint32_t k = 0; k < HSTATE_IDS; k++) {
            if (base + k >= n) {
                if (c[k].bytes > 0 && (uint64_t)c[k].bytes < (1ull << 56))
                    *later += (uint64_t)c[k].bytes;
                continue;
            }
            /* wrapping adds: a torn or hostile cell is bounded below */
            acc[base + k][0] = (int64_t)((uint64_t)acc[base + k][0] + (uint64_t)c[k].count);
            acc[base + k][1] = (int64_t)((uint64_t)acc[base + k][1] + (uint64_t)c[k].bytes);
        }
    }
    free(c);
    return 0;
}

/* The document's section of type t: its payload's offset, or 0.  The
 * document is plain (format 2) as the shim writes it; anything else is
 * left to the loader to refuse. */
static uint64_t st_section(const uint8_t *d, uint64_t len, uint32_t t, uint64_t *plen)
{
    struct hsnap_section s;
    for (uint64_t at = sizeof(struct hsnap_header); at + sizeof s <= len;) {
        memcpy(&s, d + at, sizeof s);
        if (s.length > len - at - sizeof s)
            return 0;
        if (s.type == t) {
            *plen = s.length;
            return at + sizeof s;
        }
        at += sizeof s + s.length;
    }
    return 0;
}

static void st_recrc(uint8_t *d, uint64_t payload, uint64_t plen)
{
    uint32_t crc = (uint32_t)crc32_z(crc32_z(0, Z_NULL, 0), d + payload, plen);
    memcpy(d + payload - sizeof(struct hsnap_section) + 4, &crc, 4);
}

/* The document d (len bytes, ending in END) with a TRACES section of its
 * first n stacks (read from the state's stacks) before END: a new buffer
 * in *out, or -1 with the reason. */
static int st_with_traces(int fd, const struct hsnap_state_head *h, const uint8_t *d,
                          uint64_t len, uint32_t n, uint8_t **out, uint64_t *outlen, char *err,
                          size_t errlen)
{
    struct hsnap_section end, sec = {HSNAP_SEC_TRACES, 0, 0};
    struct hsnap_header hh;
    if (len < sizeof hh + sizeof end || (memcpy(&end, d + len - sizeof end, sizeof end),
                                         end.type != HSNAP_SEC_END || end.length))
        return st_fail(err, errlen, "its document does not end: damaged");
    if (n > h->stacks_n)
        return st_fail(err, errlen, "its document counts more sites than it has stacks: damaged");
    uint8_t *stk = malloc(h->stacks_len ? h->stacks_len : 1);
    if (!stk)
        return st_fail(err, errlen, "out of memory");
    if (st_read(fd, stk, h->stacks_off, h->stacks_len) != 0) {
        free(stk);
        return st_fail(err, errlen, "cannot read its stacks");
    }
    uint64_t at = 0, outlen_traces = 0;
    for (uint32_t i = 0, prev = 0; i < n; i++) { /* first pass: checks and size */
        uint16_t hd[4];
        if (h->stacks_len - at < 8 || (memcpy(hd, stk + at, 8), hd[2] > hd[0]) || hd[2] > prev ||
            (h->stacks_len - at - 8) / 8 < (uint64_t)(hd[0] - hd[2])) {
            free(stk);
            return st_fail(err, errlen, "its stacks end early or do not chain: damaged");
        }
        at += 8 + (uint64_t)(hd[0] - hd[2]) * 8;
        outlen_traces += 8 + (uint64_t)hd[0] * 8;
        prev = hd[0];
    }
    sec.length = 4 + outlen_traces;
    uint64_t total = len + sizeof sec + sec.length;
    uint8_t *o = malloc(total);
    if (!o) {
        free(stk);
        return st_fail(err, errlen, "out of memory");
    }
    uint64_t k = len - sizeof end, w = k + sizeof sec + 4;
    memcpy(o, d, k);
    memcpy(o + k + sizeof sec, &n, 4);
    const uint8_t *prev = NULL;
    at = 0;
    for (uint32_t i = 0; i < n; i++) { /* second pass: each stack whole */
        uint16_t hd[4];
        memcpy(hd, stk + at, 8);
        uint64_t own = (uint64_t)(hd[0] - hd[2]) * 8;
        uint8_t *t = o + w;
        memcpy(t, hd, 4);
        memset(t + 4, 0, 4);
        memcpy(t + 8, stk + at + 8, own);
        if (hd[2]) /* the outer frames: the previous stack's, whole by now */
            memcpy(t + 8 + own, prev + 8 + ((uint64_t)prev[0] | (uint64_t)prev[1] << 8) * 8 -
                                    (uint64_t)hd[2] * 8, (uint64_t)hd[2] * 8);
        prev = t;
        w += 8 + (uint64_t)hd[0] * 8;
        at += 8 + own;
    }
    sec.crc32 = (uint32_t)crc32_z(crc32_z(0, Z_NULL, 0), o + k + sizeof sec, sec.length);
    memcpy(o + k, &sec, sizeof sec);
    memcpy(o + total - sizeof end, &end, sizeof end);
    memcpy(&hh, o, sizeof hh);
    hh.file_size = total;
    memcpy(o, &hh, sizeof hh);
    free(stk);
    *out = o;
    *outlen = total;
    return 0;
}

/* STATS and META of the document d patched with the cells' sums. */
static void st_patch(uint8_t *d, uint64_t len, int64_t (*acc)[2], uint32_t n,
                     const struct hsnap_state_head *h)
{
    uint64_t plen = 0, at = st_section(d, len, HSNAP_SEC_STATS, &plen), cur = 0, blocks = 0;
    if (at && plen == 4 + (uint64_t)n * sizeof(struct hsnap_stat)) {
        for (uint32_t id = 0; id < n; id++) {
            struct hsnap_stat s;
            uint8_t *p = d + at + 4 + (uint64_t)id * sizeof s;
            int64_t c = acc[id][0], b = acc[id][1];
            memcpy(&s, p, sizeof s);
            s.live_count = c > 0 && b >= 0 ? ((uint64_t)c + (1u << 15)) >> 16 : 0;
            s.live_bytes = s.live_count ? (uint64_t)b : 0;
            if (s.total_count < s.live_count)
                s.total_count = s.live_count;
            if (s.total_bytes < s.live_bytes)
                s.total_bytes = s.live_bytes;
            memcpy(p, &s, sizeof s);
            cur += s.live_bytes;
            blocks += s.live_count;
        }
        st_recrc(d, at, plen);
    }
    at = st_section(d, len, HSNAP_SEC_META, &plen);
    if (at && plen >= sizeof(struct hsnap_meta)) {
        struct hsnap_meta m;
        memcpy(&m, d + at, sizeof m);
        m.pid = h->pid;
        m.ppid = h->ppid;
        m.start_ns = h->start_ns;
        if (h->beat_ns > m.time_ns)
            m.time_ns = h->beat_ns;
        m.reason = HSNAP_REASON_KILLED;
        m.flags = (m.flags | HSNAP_META_CUT_SHORT) & ~(HSNAP_META_HAS_BLOCKS | HSNAP_META_HAS_LEAKS);
        m.current_bytes = cur;
        m.live_blocks = blocks;
        if (m.peak_bytes < cur)
            m.peak_bytes = cur;
        memcpy(d + at, &m, sizeof m);
        st_recrc(d, at, plen);
    }
}

/* The traces the document holds (its TRACES count), 0 when it has none. */
static uint32_t st_ntraces(const uint8_t *d, uint64_t len)
{
    uint64_t plen = 0, at = st_section(d, len, HSNAP_SEC_STATS, &plen);
    uint32_t n = 0;
    if (at && plen >= 4)
        memcpy(&n, d + at, 4);
    return (uint64_t)n * sizeof(struct hsnap_stat) + 4 == plen ? n : 0;
}

int state_load(const char *path, struct snap *out, struct state_info *info, char *err,
               size_t errlen)
{
    struct stat sb;
    struct hsnap_state_head h;
    uint8_t *doc = NULL;
    int64_t (*acc)[2] = NULL;
    int fd = in_open(path, &sb, err, errlen), rc = -1;
    memset(out, 0, sizeof *out);
    memset(info, 0, sizeof *info);
    if (fd < 0)
        return -1;
    if ((uint64_t)sb.st_size < HSTATE_PAGE || st_read(fd, &h, 0, sizeof h) != 0) {
        st_fail(err, errlen, "shorter than its header (truncated)");
        goto out;
    }
    if (st_check_head(&h, (uint64_t)sb.st_size, err, errlen) != 0)
        goto out;
    const struct hsnap_state_doc *dd = &h.doc[h.doc_slot];
    if (!(doc = malloc(dd->len))) {
        st_fail(err, errlen, "out of memory");
        goto out;
    }
    if (st_read(fd, doc, h.doc_off[h.doc_slot], dd->len) != 0 ||
        (uint32_t)crc32_z(crc32_z(0, Z_NULL, 0), doc, dd->len) != dd->crc32) {
        st_fail(err, errlen, "its document does not match its checksum: damaged");
        goto out;
    }
    uint32_t n = st_ntraces(doc, dd->len);
    if (n && !(acc = calloc(n, sizeof *acc))) {
        st_fail(err, errlen, "out of memory");
        goto out;
    }
    if (st_cells(fd, &h, acc, n, &info->later_bytes) != 0) {
        st_fail(err, errlen, "cannot read its cells");
        goto out;
    }
    uint8_t *full = NULL;
    uint64_t flen = 0;
    if (st_with_traces(fd, &h, doc, dd->len, n, &full, &flen, err, errlen) != 0)
        goto out;
    st_patch(full, flen, acc, n, &h);
    rc = snap_load_mem(full, flen, out, err, errlen);
    free(full);
    if (rc != 0)
        goto out;
    rc = -1;
    info->pid = h.pid;
    info->beat_ns = h.beat_ns;
    info->beats = h.beats;
    info->state = h.state;
    info->flags = h.flags;
    info->size = h.file_size;
    info->used = HSTATE_PAGE + (uint64_t)h.ndir * HSTATE_CHUNK + h.stacks_len + 2 * dd->len;
    rc = 0;
out:
    free(acc);
    free(doc);
    close(fd);
    return rc;
}
