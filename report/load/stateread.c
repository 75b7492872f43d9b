/*
 * stateread.c - reads a state file (shim/hsnap_state.h): what a process left
 * beside its output when it was killed, as a cut-short snapshot.
 *
 * The file is hostile input like any snapshot, and may have been torn by
 * the kill: the header is checked field by field (magic, version, sizes,
 * every region inside the file and apart from the others, the directory's
 * entries), the published document by its crc32, and the document itself
 * by the ordinary loader (snap.c) after this file has patched it: its live
 * sums replaced by the cells' (fresher: the hooks keep them at the
 * instant), META marked cut short, as of the last heartbeat, with the
 * state's pid; its compressed sections (a document of many traces) are
 * stored plain first.  Only the header page, the cells in use and the document
 * are read, never the sparse rest.  A torn counter reads as a consistent-
 * enough view: a site whose lines add up to less than nothing holds
 * nothing, and totals are raised to the live sums where these ran ahead.
 * What the reader holds is charged to a budget (section.c) sized by the
 * bytes it reads, not by the sparse file's bound, before it is allocated
 * or inflated.
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
#include "stateread.h"

#define STATE_MAX_DOC (1ull << 34) /* a document this big is damage */

_Static_assert(sizeof(((struct state_info *)0)->service) == HSTATE_SERVICE,
               "state_info holds the header's service name");

static int st_fail(char *err, size_t errlen, const char *why)
{
    snprintf(err, errlen, "state file: %s", why);
    return -1;
}

/* Charges bytes that what ("its stacks") declares to b: 0, or -1 with
 * "state file: WHAT: declares N bytes, past ..." in err. */
static int st_charge(struct snap_budget *b, uint64_t bytes, const char *what, char *err,
                     size_t errlen)
{
    char why[200];
    if (snap_budget_take(b, bytes, NULL, why, sizeof why) == 0)
        return 0;
    snprintf(err, errlen, "state file: %s: %s", what, why);
    return -1;
}

const char *state_full_why(uint32_t flags)
{
    flags &= HSTATE_UNWRITTEN - 1; /* not a full file: state_load_noted says it, its errno too */
    if (!flags)
        return NULL;
    if (flags & HSTATE_FULL_DISK)
        return "the disk was full";
    if (flags & HSTATE_FULL_REACH)
        return "the state file was out of the process's reach";
    return "the state file was full (HEAPSNAP_STATE)";
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
int state_head_check(const struct hsnap_state_head *h, uint64_t size, char *err, size_t errlen)
{
    if (h->version != HSTATE_VERSION)
        return st_fail(err, errlen, "unknown version (a newer heapsnap wrote it)");
    if (h->header_size != HSTATE_PAGE || h->file_size != size)
        return st_fail(err, errlen, "header and file size disagree (truncated or damaged)");
    if (h->cells_off != HSTATE_PAGE || h->cells_len % HSTATE_CHUNK ||
        h->cells_len / HSTATE_CHUNK > HSTATE_DIR_MAX || h->cells_len > size - HSTATE_PAGE)
        return st_fail(err, errlen, "the cells lie outside the file: damaged");
    /* cells, stacks, doc 0, doc 1: each inside the file, none overlapping */
    uint64_t lo[5] = {h->cells_off, h->stacks_off, h->doc_off[0], h->doc_off[1], h->traces_off};
    uint64_t len[5] = {h->cells_len, h->stacks_cap, h->doc_cap, h->doc_cap, h->traces_cap};
    if (h->doc_cap > STATE_MAX_DOC || h->stacks_cap > STATE_MAX_DOC ||
        h->traces_cap > STATE_MAX_DOC || h->stacks_len > h->stacks_cap ||
        (uint64_t)h->stacks_n * 8 > h->traces_cap)
        return st_fail(err, errlen, "regions larger than the format allows: damaged");
    for (int i = 0; i < 5; i++) {
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
    /* no document because the file filled first (on a loaded machine the
     * disk can fill before the first heartbeat): that is the reason */
    const char *full = h->doc_slot == HSTATE_NO_DOC ? state_full_why(h->flags) : NULL;
    if (full) {
        char why[200];
        snprintf(why, sizeof why, "its process wrote no document into it: %s before the first "
                 "(HEAPSNAP_VERBOSE=1 says more)", full);
        return st_fail(err, errlen, why);
    }
    if (h->doc_slot == HSTATE_NO_DOC && h->beats < 2)
        return st_fail(err, errlen, "the process ended before its state was first written "
                                    "(it lived less than a heartbeat)");
    if (h->doc_slot == HSTATE_NO_DOC) {
        char why[200];
        snprintf(why, sizeof why, "its process lived %llu heartbeats but wrote no document into "
                 "it (the file was out of its reach or full; HEAPSNAP_VERBOSE=1 says why)",
                 (unsigned long long)h->beats);
        return st_fail(err, errlen, why);
    }
    if (h->doc_slot > 1 || !h->doc[h->doc_slot].len || h->doc[h->doc_slot].len > h->doc_cap)
        return st_fail(err, errlen, "no valid document: damaged");
    return 0;
}

/* The header read from fd (a regular file whose fstat is sb) into *h and
 * checked (state_head_check); b sized by the bytes it says it uses, or
 * those on disk when fewer (its holes read as zeros): not the sparse
 * bound.  The check of both readers, state_load and state_sums_read. */
int state_header_check(int fd, const struct stat *sb, struct hsnap_state_head *h,
                       struct snap_budget *b, char *err, size_t errlen)
{
    if ((uint64_t)sb->st_size < HSTATE_PAGE || st_read(fd, h, 0, sizeof *h) != 0)
        return st_fail(err, errlen, "shorter than its header (truncated)");
    if (state_head_check(h, (uint64_t)sb->st_size, err, errlen) != 0)
        return -1;
    uint64_t used = HSTATE_PAGE + (uint64_t)h->ndir * HSTATE_CHUNK + h->stacks_len +
                    (uint64_t)h->stacks_n * 8 + h->doc[h->doc_slot].len;
    uint64_t disk = (uint64_t)sb->st_blocks * 512;
    snap_budget_init(b, disk < used ? disk : used);
    return 0;
}

/* The published document of a checked header, charged to b, read and
 * its crc32 checked: into *out (malloc'd, the caller's to free, even on
 * failure).  0, or -1 with the reason in err. */
int state_doc_read(int fd, const struct hsnap_state_head *h, struct snap_budget *b,
                   uint8_t **out, char *err, size_t errlen)
{
    const struct hsnap_state_doc *dd = &h->doc[h->doc_slot];
    *out = NULL;
    if (st_charge(b, dd->len, "its document", err, errlen) < 0)
        return -1;
    if (!(*out = malloc(dd->len)))
        return st_fail(err, errlen, "out of memory");
    if (st_read(fd, *out, h->doc_off[h->doc_slot], dd->len) != 0 ||
        (uint32_t)crc32_z(crc32_z(0, Z_NULL, 0), *out, dd->len) != dd->crc32)
        return st_fail(err, errlen, "its document does not match its checksum: damaged");
    return 0;
}

/* The cells' live sums per trace into acc[0..n) (int64 pairs), and what
 * sites past n hold into *later. */
int state_cells_read(int fd, const struct hsnap_state_head *h, int64_t (*acc)[2], uint32_t n,
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
 * document is plain (st_plain); anything else is left to the loader to
 * refuse. */
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

/* n bytes of p at *o + *w, *o grown as needed; 0, or -1 out of memory. */
static int st_append(uint8_t **o, uint64_t *w, uint64_t *cap, const void *p, uint64_t n)
{
    if (*w + n > *cap) {
        uint64_t c = *cap ? *cap : 4096;
        while (c < *w + n)
            c *= 2;
        uint8_t *q = realloc(*o, c);
        if (!q)
            return -1;
        *o = q, *cap = c;
    }
    memcpy(*o + *w, p, n);
    *w += n;
    return 0;
}

/* Charges to b what st_plain makes of d (len bytes): each section as it
 * is, or as its zhead says it inflates.  0, or -1 with the reason naming the first section past it. */
static int st_plain_charge(const uint8_t *d, uint64_t len, struct snap_budget *b, char *err,
                           size_t errlen)
{
    struct hsnap_section s;
    struct hsnap_zhead zh;
    char name[48];
    uint64_t at = sizeof(struct hsnap_header);
    for (; at + sizeof s <= len; at += sizeof s + s.length) {
        memcpy(&s, d + at, sizeof s);
        if (s.length > len - at - sizeof s)
            break;
        uint64_t out = sizeof s + s.length;
        if ((s.type & HSNAP_SEC_ZSTD) && s.length >= sizeof zh) {
            memcpy(&zh, d + at + sizeof s, sizeof zh);
            out = zh.raw_len > UINT64_MAX / 4 ? UINT64_MAX / 2 : sizeof s + zh.raw_len;
        }
        snprintf(name, sizeof name, "section %s", snap_section_name(s.type & ~HSNAP_SEC_ZSTD));
        if (st_charge(b, out, name, err, errlen) < 0)
            return -1;
    }
    return 0;
}

/* The document d (*len bytes, its crc checked) with every section stored
 * compressed (HSNAP_SEC_ZSTD: the shim compresses a document of many
 * traces) inflated and stored plain, in a buffer of its own in *out (NULL
 * when none was compressed); what does not parse is copied as it is, for
 * the loader to refuse.  0, or -1 with the reason. */
static int st_plain(const uint8_t *d, uint64_t *len, struct snap_budget *b, uint8_t **out,
                    char *err, size_t errlen)
{
    struct hsnap_section s;
    uint64_t at = sizeof(struct hsnap_header), w = 0, cap = 0;
    uint8_t *o = NULL;
    /* the output (its doublings included), charged before any inflates */
    if (st_plain_charge(d, *len, b, err, errlen) < 0) {
        *out = NULL;
        return -1;
    }
    int any = 0, r = *len < at ? 0 : st_append(&o, &w, &cap, d, at);
    while (r == 0 && at + sizeof s <= *len) {
        memcpy(&s, d + at, sizeof s);
        if (s.length > *len - at - sizeof s)
            break;
        const uint8_t *p = d + at + sizeof s;
        uint8_t *raw = NULL;
        uint64_t rlen = s.length;
        at += sizeof s + s.length;
        if (s.type & HSNAP_SEC_ZSTD) {
            r = snap_section_inflate(p, s.length, snap_section_name(s.type & ~HSNAP_SEC_ZSTD), b,
                                     &raw, &rlen, err, errlen);
            b->left += r == 0 ? rlen : 0; /* held only until copied */
            s.type &= ~HSNAP_SEC_ZSTD;
            s.length = rlen;
            s.crc32 = r == 0 ? (uint32_t)crc32_z(crc32_z(0, Z_NULL, 0), raw, rlen) : 0;
            p = raw;
            any = 1;
        }
        if (r == 0 &&
            (st_append(&o, &w, &cap, &s, sizeof s) || st_append(&o, &w, &cap, p, s.length)))
            r = st_fail(err, errlen, "out of memory");
        free(raw);
    }
    if (r == 0 && at < *len && st_append(&o, &w, &cap, d + at, *len - at))
        r = st_fail(err, errlen, "out of memory");
    if (r != 0 || !any) {
        free(o);
        *out = NULL;
        return r;
    }
    struct hsnap_header hh;
    memcpy(&hh, o, sizeof hh);
    hh.file_size = w;
    memcpy(o, &hh, sizeof hh);
    *out = o;
    *len = w;
    return 0;
}

static void st_recrc(uint8_t *d, uint64_t payload, uint64_t plen)
{
    uint32_t crc = (uint32_t)crc32_z(crc32_z(0, Z_NULL, 0), d + payload, plen);
    memcpy(d + payload - sizeof(struct hsnap_section) + 4, &crc, 4);
}

/* The stack of trace record t into o (u16 depth, u16 flags, u32 0, u64
 * ip[depth], innermost first) from the nodes (nn of them); 0, or -1 when
 * a node is missing or the walk does not end at the root. */
static int st_stack(const struct hsnap_state_trace *t, const struct hsnap_state_node *nodes,
                    uint64_t nn, uint8_t *o)
{
    uint16_t hd[4] = {t->depth, t->flags, 0, 0};
    uint32_t x = t->node;
    memcpy(o, hd, 8);
    for (unsigned i = 0; i < t->depth; i++) {
        if (!x || x >= nn || !nodes[x].set || nodes[x].parent >= x)
            return -1;
        memcpy(o + 8 + (uint64_t)i * 8, &nodes[x].ip, 8);
        x = nodes[x].parent;
    }
    return x == 0 ? 0 : -1;
}

/* A section of type t and payload p (plen bytes) at o + *w. */
static void st_put_sec(uint8_t *o, uint64_t *w, uint32_t t, const uint8_t *p, uint64_t plen)
{
    struct hsnap_section sec = {.type = t, .length = plen};
    sec.crc32 = (uint32_t)crc32_z(crc32_z(0, Z_NULL, 0), p ? p : o + *w + sizeof sec, plen);
    if (p)
        memcpy(o + *w + sizeof sec, p, plen);
    memcpy(o + *w, &sec, sizeof sec);
    *w += sizeof sec + plen;
}

/* A trace's live blocks and bytes from its cells' sums (a torn or
 * negative sum holds nothing). */
void state_live(const int64_t acc[2], uint64_t *count, uint64_t *bytes)
{
    int64_t c = acc[0], b = acc[1];
    *count = c > 0 && b >= 0 ? ((uint64_t)c + (1u << 15)) >> 16 : 0;
    *bytes = *count ? (uint64_t)b : 0;
}

/* The document's PEAK capture p (plen bytes) at o + *w, less the items of
 * traces past N (a shim before the fix in peak_put counted a capture the
 * hooks made after the document's traces were): its head's sums less
 * theirs.  A capture that does not parse is copied as it is, for the
 * loader to refuse. */
static void st_capture(uint8_t *o, uint64_t *w, const uint8_t *p, uint64_t plen, uint32_t N)
{
    struct hsnap_peak head;
    struct hsnap_peak_item it;
    if (plen < sizeof head || (memcpy(&head, p, sizeof head),
                               plen != sizeof head + (uint64_t)head.count * sizeof it)) {
        st_put_sec(o, w, HSNAP_SEC_PEAK, p, plen);
        return;
    }
    uint8_t *q = o + *w + sizeof(struct hsnap_section) + sizeof head;
    uint32_t kept = 0;
    for (uint32_t i = 0; i < head.count; i++) {
        memcpy(&it, p + sizeof head + (uint64_t)i * sizeof it, sizeof it);
        if (it.trace < N) {
            memcpy(q + (uint64_t)kept++ * sizeof it, &it, sizeof it);
            continue;
        }
        head.blocks -= it.blocks;
        head.bytes -= it.bytes;
    }
    head.count = kept;
    memcpy(o + *w + sizeof(struct hsnap_section), &head, sizeof head);
    st_put_sec(o, w, HSNAP_SEC_PEAK, NULL, sizeof head + (uint64_t)kept * sizeof it);
}

/* PEAK at o + *w: the cells' sums, when they hold more than the document's
 * capture p (plen bytes: the process was at its peak when killed, as a
 * growing one is); else the capture as it is. */
static void st_peak(uint8_t *o, uint64_t *w, const uint8_t *p, uint64_t plen, int64_t (*acc)[2],
                    uint32_t N, const struct hsnap_state_head *h)
{
    struct hsnap_peak head;
    uint64_t cur = 0, blocks = 0, c, b;
    for (uint32_t id = 0; id < N; id++) {
        state_live(acc[id], &c, &b);
        cur += b;
        blocks += c;
    }
    if (plen < sizeof head || (memcpy(&head, p, sizeof head), cur <= head.bytes)) {
        st_capture(o, w, p, plen, N);
        return;
    }
    head.t_ns = h->beat_ns > h->start_ns ? h->beat_ns - h->start_ns : 0;
    head.bytes = cur;
    head.blocks = blocks;
    head.flags |= HSNAP_PEAK_AT_SNAPSHOT;
    head.count = 0;
    uint8_t *q = o + *w + sizeof(struct hsnap_section) + sizeof head;
    for (uint32_t id = 0; id < N; id++) {
        state_live(acc[id], &c, &b);
        if (!c)
            continue;
        struct hsnap_peak_item it = {.trace = id, .blocks = c, .bytes = b};
        memcpy(q + (uint64_t)head.count++ * sizeof it, &it, sizeof it);
    }
    memcpy(o + *w + sizeof(struct hsnap_section), &head, sizeof head);
    st_put_sec(o, w, HSNAP_SEC_PEAK, NULL, sizeof head + (uint64_t)head.count * sizeof(struct hsnap_peak_item));
}

/* The most the sections of d before END (end bytes) take once
 * st_with_traces has grown them, whatever their number: each STATS and
 * TEMPS by N - n records, each PEAK to N items (a damaged document may
 * hold several of each).  A section that overruns ends the count: the
 * copy stops there too. */
static uint64_t st_out_size(const uint8_t *d, uint64_t end, uint32_t n, uint32_t N)
{
    struct hsnap_section s;
    uint64_t at = sizeof(struct hsnap_header), total = at;
    for (; at + sizeof s <= end; at += sizeof s + s.length) {
        memcpy(&s, d + at, sizeof s);
        if (s.length > end - at - sizeof s)
            break;
        uint64_t out = s.length;
        if (s.type == HSNAP_SEC_STATS)
            out += (uint64_t)(N - n) * sizeof(struct hsnap_stat);
        else if (s.type == HSNAP_SEC_TEMPS)
            out += (uint64_t)(N - n) * 8;
        else if (s.type == HSNAP_SEC_PEAK)
            out += sizeof(struct hsnap_peak) + (uint64_t)N * sizeof(struct hsnap_peak_item);
        total += sizeof s + out;
    }
    return total;
}

/* The document d (len bytes, ending in END, n traces in its STATS) made a
 * whole snapshot of the state's N >= n traces: STATS and TEMPS grown to N
 * (the traces born after it count nothing yet: st_patch gives their live
 * sums), and a TRACES section of their stacks (from the traces and nodes)
 * before END: a new buffer in *out, or -1 with the reason. */
/* st_with_traces' steps.  The document's sections copied from d into o
 * at *w, STATS and TEMPS grown from n records to N (the new ones zero),
 * PEAK rebuilt from acc (st_peak); 0, or -1 with err. */
static int st_copy_secs(const uint8_t *d, uint64_t len, uint8_t *o, uint64_t *w, uint32_t n,
                        uint32_t N, int64_t (*acc)[2], const struct hsnap_state_head *h,
                        char *err, size_t errlen)
{
    struct hsnap_section s;
    for (uint64_t at = *w; at + sizeof s <= len;) {
        memcpy(&s, d + at, sizeof s);
        if (s.length > len - at - sizeof s)
            return st_fail(err, errlen, "its document's sections overrun it: damaged");
        const uint8_t *p = d + at + sizeof s;
        uint64_t grow = s.type == HSNAP_SEC_STATS ? sizeof(struct hsnap_stat)
                        : s.type == HSNAP_SEC_TEMPS ? 8 : 0;
        uint64_t head = s.type == HSNAP_SEC_TEMPS ? 8 : 4;
        if (s.type == HSNAP_SEC_PEAK) {
            st_peak(o, w, p, s.length, acc, N, h);
        } else if (grow && s.length >= head) {
            memcpy(o + *w + sizeof s, p, s.length);
            memcpy(o + *w + sizeof s, &N, 4); /* the count; the new records count nothing */
            memset(o + *w + sizeof s + s.length, 0, (uint64_t)(N - n) * grow);
            st_put_sec(o, w, s.type, NULL, s.length + (uint64_t)(N - n) * grow);
        } else {
            memcpy(o + *w, d + at, sizeof s + s.length);
            *w += sizeof s + s.length;
        }
        at += sizeof s + s.length;
    }
    return 0;
}

/* TRACES (tlen bytes) at *w: the N stacks rebuilt from their nodes;
 * 0, or -1 with err. */
static int st_put_traces(uint8_t *o, uint64_t *w, const struct hsnap_state_trace *tr,
                         const struct hsnap_state_node *nodes, uint64_t nn, uint32_t N,
                         uint64_t tlen, char *err, size_t errlen)
{
    uint64_t tw = *w + sizeof(struct hsnap_section);
    memcpy(o + tw, &N, 4);
    tw += 4;
    for (uint32_t i = 0; i < N; i++) {
        if (tr[i].depth > 256 || st_stack(&tr[i], nodes, nn, o + tw) != 0)
            return st_fail(err, errlen, "its stacks end early or do not chain: damaged");
        tw += 8 + (uint64_t)tr[i].depth * 8;
    }
    st_put_sec(o, w, HSNAP_SEC_TRACES, NULL, tlen);
    return 0;
}

static int st_with_traces(int fd, const struct hsnap_state_head *h, const uint8_t *d,
                          uint64_t len, uint32_t n, uint32_t N, int64_t (*acc)[2],
                          struct snap_budget *b, uint8_t **out, uint64_t *outlen, char *err,
                          size_t errlen)
{
    struct hsnap_section end, s;
    if (len < sizeof(struct hsnap_header) + sizeof end ||
        (memcpy(&end, d + len - sizeof end, sizeof end), end.type != HSNAP_SEC_END || end.length))
        return st_fail(err, errlen, "its document does not end: damaged");
    if (n > N || N != h->stacks_n || (uint64_t)N * 8 > h->traces_cap || h->stacks_len % 16)
        return st_fail(err, errlen, "its document counts more sites than it has stacks: damaged");
    uint64_t nn = h->stacks_len / 16, tlen = 4, total = 0;
    if (st_charge(b, (uint64_t)N * 8 + h->stacks_len, "its stacks", err, errlen) < 0)
        return -1;
    struct hsnap_state_trace *tr = malloc((uint64_t)N * 8 + 1);
    struct hsnap_state_node *nodes = malloc(h->stacks_len + 1);
    uint8_t *o = NULL;
    int rc = -1;
    if (!tr || !nodes) {
        st_fail(err, errlen, "out of memory");
        goto out;
    }
    if (st_read(fd, tr, h->traces_off, (uint64_t)N * 8) != 0 ||
        st_read(fd, nodes, h->stacks_off, h->stacks_len) != 0) {
        st_fail(err, errlen, "cannot read its stacks");
        goto out;
    }
    for (uint32_t i = 0; i < N; i++)
        tlen += 8 + (uint64_t)tr[i].depth * 8;
    /* the sections as st_copy_secs writes them, TRACES, END */
    total = st_out_size(d, len - sizeof end, n, N) + sizeof s + tlen + sizeof end;
    if (st_charge(b, total, "its sites", err, errlen) < 0)
        goto out;
    if (!(o = malloc(total))) {
        st_fail(err, errlen, "out of memory");
        goto out;
    }
    uint64_t w = sizeof(struct hsnap_header);
    memcpy(o, d, w);
    if (st_copy_secs(d, len - sizeof end, o, &w, n, N, acc, h, err, errlen) < 0 ||
        st_put_traces(o, &w, tr, nodes, nn, N, tlen, err, errlen) < 0)
        goto out;
    memcpy(o + w, &end, sizeof end);
    w += sizeof end;
    struct hsnap_header hh;
    memcpy(&hh, o, sizeof hh);
    hh.file_size = w;
    memcpy(o, &hh, sizeof hh);
    *out = o;
    *outlen = w;
    o = NULL;
    rc = 0;
out:
    free(o);
    free(tr);
    free(nodes);
    return rc;
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
            memcpy(&s, p, sizeof s);
            state_live(acc[id], &s.live_count, &s.live_bytes);
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

/* The header's service name into out (HSTATE_SERVICE bytes): what the
 * shim copied, cut at the first byte that is not printable ASCII (the
 * field is the process's to write, and ends up in labels). */
static void st_service(const struct hsnap_state_head *h, char *out)
{
    size_t i = 0;
    for (; i + 1 < HSTATE_SERVICE && h->service[i] >= 0x20 && h->service[i] < 0x7f; i++)
        out[i] = h->service[i];
    out[i] = 0;
}

void state_info_fill(const struct hsnap_state_head *h, struct state_info *info)
{
    info->pid = h->pid;
    info->beat_ns = h->beat_ns;
    info->beats = h->beats;
    info->state = h->state;
    info->flags = h->flags;
    info->unwritten_err = h->flags >> HSTATE_ERR_SHIFT;
    info->size = h->file_size;
    info->start_ns = h->start_ns;
    uint64_t doc_ns = h->doc[h->doc_slot].t_ns;
    info->behind_ns = h->doc_fresh == 1 ? 0 : h->beat_ns > doc_ns ? h->beat_ns - doc_ns : 1;
    st_service(h, info->service);
    info->used = HSTATE_PAGE + (uint64_t)h->ndir * HSTATE_CHUNK + h->stacks_len +
                 (uint64_t)h->stacks_n * 8 + h->doc[h->doc_slot].len;
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
    return state_load_within(path, UINT64_MAX, out, info, err, errlen);
}

int state_load_within(const char *path, uint64_t cap, struct snap *out, struct state_info *info,
                      char *err, size_t errlen)
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
    struct snap_budget b;
    if (state_header_check(fd, &sb, &h, &b, err, errlen) != 0)
        goto out;
    if (b.bound > cap)
        b.bound = b.left = cap, b.capped = 1;
    if (state_doc_read(fd, &h, &b, &doc, err, errlen) != 0)
        goto out;
    uint64_t dlen = h.doc[h.doc_slot].len;
    uint8_t *plain = NULL;
    if (st_plain(doc, &dlen, &b, &plain, err, errlen) != 0)
        goto out;
    if (plain) {
        free(doc);
        doc = plain;
    }
    uint32_t n = st_ntraces(doc, dlen), N = h.stacks_n;
    if (st_charge(&b, (uint64_t)N * sizeof *acc, "its cells", err, errlen) < 0)
        goto out;
    if (N && !(acc = calloc(N, sizeof *acc))) {
        st_fail(err, errlen, "out of memory");
        goto out;
    }
    if (state_cells_read(fd, &h, acc, N, &info->later_bytes) != 0) {
        st_fail(err, errlen, "cannot read its cells");
        goto out;
    }
    uint8_t *full = NULL;
    uint64_t flen = 0;
    if (st_with_traces(fd, &h, doc, dlen, n, N, acc, &b, &full, &flen, err, errlen) != 0)
        goto out;
    st_patch(full, flen, acc, N, &h);
    free(acc); /* neither is read again: the snapshot holds full alone */
    free(doc);
    acc = NULL, doc = NULL;
    /* full is handed over, not copied: a copy held it twice at the peak */
    rc = snap_load_owned(full, flen, &b, out, err, errlen);
    if (rc != 0)
        goto out;
    state_info_fill(&h, info);
out:
    free(acc);
    free(doc);
    close(fd);
    return rc;
}
