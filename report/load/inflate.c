/*
 * inflate.c - a snapshot section stored compressed (format 3, HSNAP_SEC_ZSTD)
 * made whole again.  The section is checked as stored first (head, one zstd
 * frame ending at the section's end, its declared size), then decompressed
 * into a buffer of its own whose size the section declares: the frame must
 * fill it exactly.  The buffer is made for that size at once (no copy as
 * it grows), but its pages are touched only as the output comes, so a
 * forged size costs only what the frame really holds, and the zstd window
 * is bounded so a frame cannot ask for a huge one.  A section may instead be
 * streamed: its output handed on chunk by chunk, never whole in memory.
 * Either way the declared size is charged to the file's budget (section.c)
 * before a byte is decompressed, so a bomb is refused at its head.  A
 * frame in planes (HSNAP_ZHEAD_PLANES, hsnap_planes.h) is streamed through
 * struct unplane, which puts each chunk's records back together and hands
 * them on: it must give exactly the declared size, in whole chunks.  A
 * frame of packed records (HSNAP_ZHEAD_PACKED, or HSNAP_ZHEAD_FORMED:
 * hsnap_packed.h) goes the same way, each chunk unpacked and checked
 * whole.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <zstd.h>

#include "cli.h"
#include "hsnap_format.h"
#include "hsnap_packed.h"
#include "hsnap_planes.h"
#include "snap.h"

#define SNAP_ZWINDOW_MAX 24 /* log2 of the largest zstd window accepted (16 MiB) */
#define SNAP_ZFIRST (1u << 20) /* a streamed section's chunk */

/* The frame's output after the head_len bytes of *buf (malloc'd for
 * want bytes after the head, whose pages are touched only as the output
 * comes: a forged size costs only what the frame really holds, and the
 * budget charged it before); -1 with a reason when the frame is damaged
 * or holds more or less than want. */
static int frame_inflate(ZSTD_DCtx *dc, const uint8_t *frame, size_t flen, uint8_t **buf,
                         size_t head_len, uint64_t want, const char *name, char *err,
                         size_t errlen)
{
    ZSTD_inBuffer in = {frame, flen, 0};
    ZSTD_outBuffer o = {NULL, 0, 0};
    for (;;) {
        if (o.pos == o.size && o.size < want) { /* the room, once */
            uint8_t *p = want <= SIZE_MAX - head_len ? big_realloc(*buf, head_len + (size_t)want)
                                                      : NULL;
            if (!p)
                return snap_section_fail(err, errlen, name, "out of memory (%llu bytes)",
                                         (unsigned long long)want);
            *buf = p;
            o.dst = p + head_len;
            o.size = (size_t)want;
        }
        size_t in0 = in.pos, out0 = o.pos;
        size_t r = ZSTD_decompressStream(dc, &o, &in);
        if (ZSTD_isError(r))
            return snap_section_fail(err, errlen, name, "damaged compressed data (zstd: %s)",
                                     ZSTD_getErrorName(r));
        if (r == 0)
            break;
        if (in.pos == in0 && o.pos == out0 && !(o.pos == o.size && o.size < want))
            return snap_section_fail(err, errlen, name, o.pos == want
                                     ? "its zstd frame holds more than the %llu bytes declared"
                                     : "its zstd frame is truncated (%llu bytes declared)",
                                     (unsigned long long)want);
    }
    if (o.pos != want)
        return snap_section_fail(err, errlen, name,
                                 "its zstd frame holds %zu bytes, %llu declared", o.pos,
                                 (unsigned long long)want);
    return 0;
}

/* The frame's output handed to sink in chunks of at most SNAP_ZFIRST bytes;
 * -1 with a reason as frame_inflate's.  bound: want is the most it may
 * hold (planes), not what it must. */
static int frame_stream(ZSTD_DCtx *dc, const uint8_t *frame, size_t flen, uint64_t want,
                        void (*sink)(void *, const uint8_t *, size_t), void *ctx,
                        const char *name, char *err, size_t errlen, int bound)
{
    ZSTD_inBuffer in = {frame, flen, 0};
    uint8_t *chunk = malloc(SNAP_ZFIRST);
    uint64_t total = 0;
    int rc = 0;
    if (!chunk)
        return snap_section_fail(err, errlen, name, "out of memory");
    for (;;) {
        uint64_t room = want - total < SNAP_ZFIRST ? want - total : SNAP_ZFIRST;
        ZSTD_outBuffer o = {chunk, room ? (size_t)room : 1, 0};
        size_t in0 = in.pos, r = ZSTD_decompressStream(dc, &o, &in);
        if (ZSTD_isError(r)) {
            rc = snap_section_fail(err, errlen, name, "damaged compressed data (zstd: %s)",
                                   ZSTD_getErrorName(r));
            break;
        }
        if (total + o.pos > want) {
            rc = snap_section_fail(err, errlen, name,
                                   "its zstd frame holds more than the %llu bytes declared",
                                   (unsigned long long)want);
            break;
        }
        sink(ctx, chunk, o.pos);
        total += o.pos;
        if (r == 0)
            break;
        if (in.pos == in0 && o.pos == 0) {
            rc = snap_section_fail(err, errlen, name,
                                   "its zstd frame is truncated (%llu bytes declared)",
                                   (unsigned long long)want);
            break;
        }
    }
    free(chunk);
    if (rc == 0 && total != want && !bound)
        rc = snap_section_fail(err, errlen, name, "its zstd frame holds %llu bytes, %llu declared",
                               (unsigned long long)total, (unsigned long long)want);
    return rc;
}

/* A frame's content in planes, put back into records as it streams. */
struct unplane {
    uint8_t head[HSNAP_PLANES_HEAD];
    unsigned nhead;            /* bytes of the chunk's head so far */
    uint32_t stride, count;
    size_t need, have;         /* the chunk's bytes, and so far */
    uint8_t *in, *out;         /* a chunk's planes, and its records */
    uint64_t given, want;      /* records' bytes handed on, and declared */
    int bad;                   /* a chunk out of bounds or past want */
    uint32_t packed;           /* HSNAP_ZHEAD_PACKED or _FORMED: chunks of packed
                                  records (hsnap_packed.h), not planes; else 0 */
    void (*sink)(void *, const uint8_t *, size_t);
    void *ctx;                 /* sink's */
    uint8_t **buf;             /* without a sink: the payload's buffer, head first,
                                  then room for the declared size */
    size_t head_len;           /* ... its head's bytes */
};

/* Where a chunk's n bytes of records go: straight into the buffer (made
 * for the declared size: frame_unplane), or, for the sink, into u->out;
 * NULL past the declared size. */
static uint8_t *unplane_room(struct unplane *u, size_t n)
{
    if (u->given + n > u->want) {
        u->bad = 1;
        return NULL;
    }
    return u->sink ? u->out : *u->buf + u->head_len + u->given;
}

/* The n bytes unplane_room gave, filled: to the sink, or kept. */
static void unplane_given(struct unplane *u, const uint8_t *p, size_t n)
{
    if (u->sink)
        u->sink(u->ctx, p, n);
    u->given += n;
}

static void unplane_feed(void *arg, const uint8_t *p, size_t n)
{
    struct unplane *u = arg;
    while (n && !u->bad) {
        if (u->nhead < HSNAP_PLANES_HEAD) {
            size_t k = HSNAP_PLANES_HEAD - u->nhead < n ? HSNAP_PLANES_HEAD - u->nhead : n;
            memcpy(u->head + u->nhead, p, k);
            u->nhead += (unsigned)k;
            p += k;
            n -= k;
            if (u->nhead == HSNAP_PLANES_HEAD &&
                !(u->need = u->packed == HSNAP_ZHEAD_FORMED
                                ? hsnap_packed_chunk_formed(u->head, &u->count)
                            : u->packed ? hsnap_packed_chunk(u->head, &u->count)
                                        : hsnap_planes_chunk(u->head, &u->stride, &u->count)))
                u->bad = 1;
            u->have = 0;
            continue;
        }
        size_t k = u->need - u->have < n ? u->need - u->have : n;
        memcpy(u->in + u->have, p, k);
        u->have += k;
        p += k;
        n -= k;
        if (u->have == u->need) {
            size_t got = u->packed ? (size_t)u->count * sizeof(struct hsnap_block) : u->need;
            uint8_t *to = unplane_room(u, got);
            if (!to)
                break;
            if (!u->packed)
                hsnap_planes_get(to, u->in, u->stride, u->count);
            else if ((u->packed == HSNAP_ZHEAD_FORMED ? hsnap_packed_get_formed
                                                      : hsnap_packed_get)(to, u->in, u->need,
                                                                          u->count) != 0)
                u->bad = 1;
            if (!u->bad)
                unplane_given(u, to, got);
            u->nhead = 0;
        }
    }
}

/* A frame in planes (or packed): its records streamed to sink, or into
 * *buf after its head_len bytes; -1 with a reason. */
static int frame_unplane(ZSTD_DCtx *dc, const uint8_t *frame, size_t flen, uint64_t want,
                         uint32_t packed,
                         void (*sink)(void *, const uint8_t *, size_t), void *ctx,
                         uint8_t **buf, size_t head_len, const char *name, char *err,
                         size_t errlen)
{
    size_t most = (size_t)HSNAP_PLANES_STRIDE_MAX * HSNAP_PLANES_COUNT_MAX;
    _Static_assert(HSNAP_PACKED_LEAD + HSNAP_PACKED_MOST * HSNAP_PACKED_COUNT_MAX <=
                           HSNAP_PLANES_STRIDE_MAX * HSNAP_PLANES_COUNT_MAX &&
                       sizeof(struct hsnap_block) * HSNAP_PACKED_COUNT_MAX <=
                           HSNAP_PLANES_STRIDE_MAX * HSNAP_PLANES_COUNT_MAX,
                   "a packed chunk and its records fit the planes' buffers");
    struct unplane u = {.want = want, .packed = packed, .sink = sink, .ctx = ctx, .buf = buf,
                        .head_len = head_len};
    u.in = malloc(most);
    u.out = sink ? malloc(most) : NULL;
    if (!sink && want) { /* the declared size, whose pages are touched only as records come */
        uint8_t *q = want <= SIZE_MAX - head_len ? big_realloc(*buf, head_len + (size_t)want)
                                                  : NULL;
        if (!q) {
            free(u.in);
            return snap_section_fail(err, errlen, name, "out of memory (%llu bytes)",
                                     (unsigned long long)want);
        }
        *buf = q;
    }
    int rc = !u.in || (sink && !u.out) ? snap_section_fail(err, errlen, name, "out of memory")
             /* a chunk's head is 8 bytes for 1 at least: 9 times the payload bounds it */
             : frame_stream(dc, frame, flen, want > UINT64_MAX / 16 ? UINT64_MAX : want * 9 + 16,
                            unplane_feed, &u, name, err, errlen, 1);
    free(u.in);
    free(u.out);
    if (rc == 0 && (u.bad || u.nhead || u.given != want))
        rc = snap_section_fail(err, errlen, name, packed
                               ? "its packed records hold %llu bytes%s, %llu declared"
                               : "its planes hold %llu bytes%s, %llu declared",
                               (unsigned long long)u.given,
                               u.bad || u.nhead ? " and a bad chunk" : "",
                               (unsigned long long)want);
    return rc;
}

/* A section stored compressed (HSNAP_SEC_ZSTD): zhead, head, one frame
 * ending at the section's end.  The payload goes into a buffer of its own
 * (*out, the caller's to free, even on failure), or with sink, to sink. */
static int section_inflate(const uint8_t *data, uint64_t len, const char *name,
                           struct snap_budget *b, uint8_t **out,
                           void (*sink)(void *, const uint8_t *, size_t), void *ctx,
                           uint64_t *outlen, char *err, size_t errlen)
{
    struct hsnap_zhead zh;
    if (len < sizeof zh)
        return snap_section_fail(err, errlen, name, "compressed, but %llu bytes is no head",
                                 (unsigned long long)len);
    memcpy(&zh, data, sizeof zh);
    if (zh.head_len > HSNAP_ZHEAD_MAX || zh.head_len > len - sizeof zh ||
        zh.head_len > zh.raw_len ||
        (zh.flags && zh.flags != HSNAP_ZHEAD_PLANES && zh.flags != HSNAP_ZHEAD_PACKED &&
         zh.flags != HSNAP_ZHEAD_FORMED))
        return snap_section_fail(err, errlen, name, "bad compressed head (head %u of %llu bytes)",
                                 zh.head_len, (unsigned long long)zh.raw_len);
    const uint8_t *frame = data + sizeof zh + zh.head_len;
    size_t flen = (size_t)(len - sizeof zh - zh.head_len);
    uint64_t want = zh.raw_len - zh.head_len;
    size_t fsz = ZSTD_findFrameCompressedSize(frame, flen);
    if (ZSTD_isError(fsz))
        return snap_section_fail(err, errlen, name, "damaged zstd frame (%s)",
                                 ZSTD_getErrorName(fsz));
    if (fsz != flen)
        return snap_section_fail(err, errlen, name, "%zu bytes after its zstd frame",
                                 flen - fsz);
    unsigned long long cs = ZSTD_getFrameContentSize(frame, flen);
    if (cs == ZSTD_CONTENTSIZE_ERROR)
        return snap_section_fail(err, errlen, name, "damaged zstd frame header");
    if (cs != ZSTD_CONTENTSIZE_UNKNOWN && cs != want && !zh.flags)
        return snap_section_fail(err, errlen, name,
                                 "its zstd frame holds %llu bytes, %llu declared", cs,
                                 (unsigned long long)want);
    /* a streamed payload is not held: it need only fit in what is left */
    struct snap_budget was = b ? *b : (struct snap_budget){0};
    int packed = zh.flags == HSNAP_ZHEAD_PACKED || zh.flags == HSNAP_ZHEAD_FORMED;
    if ((packed ? snap_budget_take_packed : snap_budget_take)(
            b, zh.raw_len, name, err, errlen) < 0)
        return -1;
    if (sink && b)
        *b = was;
    if (zh.raw_len > SIZE_MAX / 2 || (!sink && !(*out = malloc(zh.head_len ? zh.head_len : 1))))
        return snap_section_fail(err, errlen, name, "out of memory (%llu bytes)",
                                 (unsigned long long)zh.raw_len);
    if (sink)
        sink(ctx, data + sizeof zh, zh.head_len);
    else
        memcpy(*out, data + sizeof zh, zh.head_len);
    ZSTD_DCtx *dc = ZSTD_createDCtx();
    int r = !dc || ZSTD_isError(ZSTD_DCtx_setParameter(dc, ZSTD_d_windowLogMax, SNAP_ZWINDOW_MAX))
        ? snap_section_fail(err, errlen, name, "out of memory")
        : zh.flags
        ? frame_unplane(dc, frame, flen, want, packed ? zh.flags : 0, sink, ctx, out,
                        zh.head_len, name, err, errlen)
        : sink ? frame_stream(dc, frame, flen, want, sink, ctx, name, err, errlen, 0)
        : frame_inflate(dc, frame, flen, out, zh.head_len, want, name, err, errlen);
    ZSTD_freeDCtx(dc);
    *outlen = zh.raw_len;
    return r;
}

int snap_section_inflate(const uint8_t *data, uint64_t len, const char *name,
                         struct snap_budget *b, uint8_t **out, uint64_t *outlen, char *err,
                         size_t errlen)
{
    return section_inflate(data, len, name, b, out, NULL, NULL, outlen, err, errlen);
}

int snap_section_stream(const uint8_t *data, uint64_t len, const char *name,
                        struct snap_budget *b,
                        void (*sink)(void *ctx, const uint8_t *p, size_t n), void *ctx,
                        uint64_t *outlen, char *err, size_t errlen)
{
    return section_inflate(data, len, name, b, NULL, sink, ctx, outlen, err, errlen);
}
