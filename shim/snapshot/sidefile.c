/*
 * sidefile.c - the side file: the unnamed scratch file beside a snapshot
 * (name_open_side) where BLOCKS, and the leak check's fork's LEAKS and
 * RETAINERS, are written as they are made, never held whole in memory
 * (PYTYPES and PYOWNED too, once made, before the retained sizes' pass,
 * and PYRETAIN as that pass makes it);
 * sections framed there (side_sec_begin/end: the header rewritten with
 * the length and checksum once known), indexed back (side_index) and
 * copied into the snapshot by the kernel (side_copy).  The snapshot's
 * own sections are framed the same way, in the snapshot.  A section is
 * compressed (zsec.c) as it is framed when the file's level says so; the
 * arrays of records most of a big snapshot is (BLOCKS, PYTYPES, PYRETAIN)
 * go to the compressor in byte planes (hsnap_planes.h), gathered here a
 * chunk at a time; BLOCKS, the biggest, packed in formed chunks
 * (hsnap_packed.h).
 * Prefix side_.
 * Callers hold the snapshot lock.
 */
#include <errno.h>
#include <string.h>
#include <unistd.h>
#include <zlib.h>

#include "hsnap_packed.h"
#include "hsnap_planes.h"
#include "hsnap_pyformat.h"
#include "snapshot.h"

/* A streamed section's chunk is gathered in this much (a 32-byte record's
 * chunk: 4,096 records); a section at hand goes in chunks of
 * HSNAP_PLANES_COUNT_MAX records straight from its buffer (side_planes_at),
 * which compress better and cost no copy. */
#define SIDE_PLANES_BYTES (128u * 1024u)
#define SIDE_PLANES_PT (8u * HSNAP_PLANES_COUNT_MAX) /* 8 planes of a chunk */
#define SIDE_PACKED_COUNT 2048u /* records in a packed chunk: at most 80 KiB */
_Static_assert(HSNAP_PACKED_LEAD + SIDE_PACKED_COUNT * HSNAP_PACKED_MOST <= SIDE_PLANES_PT,
               "a packed chunk fits pt");
_Static_assert(SIDE_PLANES_STRIDE <= HSNAP_PLANES_STRIDE_MAX, "a run's records fit a chunk");

void side_fail(struct side_file *f)
{
    if (!f->err)
        f->err = errno ? errno : EIO;
}

/* Raw bytes into the section: the payload, or the frame's output. */
static int side_write(void *arg, const void *p, size_t n)
{
    struct side_file *f = arg;
    if (sbuf_write_all(f->fd, p, n) != 0)
        return -1;
    f->crc = (uint32_t)crc32_z(f->crc, (const Bytef *)p, n);
    f->len += n;
    return 0;
}

/* count records (struct hsnap_block) at src as formed packed chunks into
 * the frame, each packed in the buffer mapped for the section (f->pt). */
static void side_packed_chunk(struct side_file *f, const uint8_t *src, uint32_t count)
{
    if (!f->pt && !(f->pt = arena_map(SIDE_PLANES_PT))) {
        side_fail(f);
        return;
    }
    for (uint32_t i = 0, k; i < count && !f->err; i += k) {
        k = count - i < SIDE_PACKED_COUNT ? count - i : SIDE_PACKED_COUNT;
        const struct hsnap_block *b = (const void *)(src + (size_t)i * sizeof *b);
        uint32_t head[2] = {k, (uint32_t)hsnap_packed_put_formed(f->pt, b, k)};
        if (zsec_feed(head, sizeof head, 0, side_write, f) != 0 ||
            zsec_feed(f->pt, head[1], 0, side_write, f) != 0)
            side_fail(f);
    }
}

/* count records of the run's stride at src as a chunk of planes into the
 * frame: 8 planes at a time (hsnap_planes_put_some) into a buffer mapped
 * for the section (f->pt), else a piece of one plane at a time; packed
 * when the section is. */
static void side_planes_chunk(struct side_file *f, const uint8_t *src, uint32_t count)
{
    uint8_t plane[1024];
    uint32_t stride = f->pl_stride, head[2] = {stride, count};
    if (!count || f->err)
        return;
    if (f->packed) {
        side_packed_chunk(f, src, count);
        return;
    }
    int bad = zsec_feed(head, sizeof head, 0, side_write, f) != 0;
    if (!f->pt)
        f->pt = arena_map(SIDE_PLANES_PT);
    for (uint32_t j = 0; f->pt && j < stride && !bad; j += 8) {
        uint32_t j1 = j + 8 < stride ? j + 8 : stride;
        hsnap_planes_put_some(f->pt, src, stride, count, j, j1);
        bad = zsec_feed(f->pt, (size_t)(j1 - j) * count, 0, side_write, f) != 0;
    }
    for (uint32_t j = 0; !f->pt && j < stride && !bad; j++) /* plane j, a piece at a time */
        for (uint32_t i = 0; i < count && !bad;) {
            uint32_t k = 0;
            for (; k < sizeof plane && i < count; k++, i++)
                plane[k] = src[(size_t)i * stride + j];
            bad = zsec_feed(plane, k, 0, side_write, f) != 0;
        }
    if (bad)
        side_fail(f);
}

/* The gathered records as a chunk of planes, and the bytes past the last
 * whole record as a chunk of stride 1, into the frame. */
static void side_planes_flush(struct side_file *f)
{
    uint32_t stride = f->pl_stride, count = (uint32_t)(f->pl_n / stride);
    uint32_t left = (uint32_t)(f->pl_n % stride), one = 1, head[2];
    side_planes_chunk(f, f->pl, count);
    if (left && f->packed) { /* packed chunks hold whole records only */
        errno = EINVAL;
        side_fail(f);
    } else if (left && !f->err) {
        head[0] = one;
        head[1] = left;
        if (zsec_feed(head, sizeof head, 0, side_write, f) != 0 ||
            zsec_feed(f->pl + (size_t)count * stride, left, 0, side_write, f) != 0)
            side_fail(f);
    }
    f->pl_n = 0;
}

/* A new run of records of stride bytes (<= SIDE_PLANES_STRIDE; 1: bytes
 * as they are) in a section begun with side_sec_begin_planes. */
void side_planes(struct side_file *f, uint32_t stride)
{
    if (!f->pl || stride < 1 || stride > SIDE_PLANES_STRIDE)
        return;
    side_planes_flush(f);
    f->pl_stride = stride;
}

void side_out(struct side_file *f, const void *p, size_t n)
{
    if (f->err || !n || f->fd < 0)
        return;
    f->raw += n;
    if (f->packed && !f->pl_n && n % f->pl_stride == 0) { /* whole records: no copy */
        side_packed_chunk(f, p, (uint32_t)(n / f->pl_stride));
        return;
    }
    if (f->pl) { /* gathered into whole chunks of the run's records */
        size_t count = SIDE_PLANES_BYTES / f->pl_stride;
        size_t cap = (count < HSNAP_PLANES_COUNT_MAX ? count : HSNAP_PLANES_COUNT_MAX) * f->pl_stride;
        for (const uint8_t *s = p; n;) {
            size_t k = cap - f->pl_n < n ? cap - f->pl_n : n;
            memcpy(f->pl + f->pl_n, s, k);
            f->pl_n += k;
            s += k;
            n -= k;
            if (f->pl_n == cap)
                side_planes_flush(f);
        }
        return;
    }
    if (f->z ? zsec_feed(p, n, 0, side_write, f) != 0 : side_write(f, p, n) != 0)
        side_fail(f);
}

/* room bytes after the section's header are left for side_sec_end (not
 * in the checksum yet); size: the payload's bytes after them, or
 * ZSEC_UNKNOWN.  Compressed at f->level, but for a payload too small to
 * gain (the frame's header and checksum alone are ~20 bytes). */
void side_sec_begin(struct side_file *f, size_t room, uint64_t size)
{
    side_sec_begin_planes(f, room, size, 0);
}

/* As side_sec_begin, its payload in planes of records of stride bytes
 * (side_planes starts other runs) when it is compressed and the chunk's
 * buffer can be mapped; stride 0: not. */
void side_sec_begin_planes(struct side_file *f, size_t room, uint64_t size, uint32_t stride)
{
    char zero[sizeof(struct hsnap_section) + sizeof(struct hsnap_zhead) + HSNAP_ZHEAD_MAX] = {0};
    f->len = f->raw = 0;
    f->crc = (uint32_t)crc32_z(0, Z_NULL, 0);
    f->z = f->packed = 0;
    if (f->err || f->fd < 0)
        return;
    if (room > HSNAP_ZHEAD_MAX) {
        errno = EINVAL;
        side_fail(f);
        return;
    }
    int big = size == ZSEC_UNKNOWN || size >= SIDE_ZMIN;
    if (f->level > 0 && big && stride >= 1 && stride <= SIDE_PLANES_STRIDE &&
        (f->pl = arena_map(SIDE_PLANES_BYTES)) != NULL) {
        f->pl_stride = stride;
        f->pl_n = 0; /* the frame's content is not the payload's size: none pledged */
        if (size != ZSEC_UNKNOWN)
            f->hint = size;
        size = ZSEC_UNKNOWN;
    }
    f->z = f->level > 0 && big && zsec_begin(f->level, size, f->hint) == 0;
    if (!f->z && f->pl) {
        arena_unmap(f->pl, SIDE_PLANES_BYTES);
        f->pl = NULL;
        f->pl_stride = 0;
    }
    size_t head = sizeof(struct hsnap_section) + (f->z ? sizeof(struct hsnap_zhead) : 0) + room;
    if ((f->at = lseek(f->fd, 0, SEEK_CUR)) < 0 || sbuf_write_all(f->fd, zero, head) != 0)
        side_fail(f);
}

void side_sec_begin_packed(struct side_file *f, size_t room, uint64_t size)
{
    side_sec_begin_planes(f, room, size, sizeof(struct hsnap_block));
    f->packed = f->pl != NULL;
}

void side_abandon(struct side_file *f)
{
    if (f->pl)
        arena_unmap(f->pl, SIDE_PLANES_BYTES);
    if (f->pt)
        arena_unmap(f->pt, SIDE_PLANES_PT);
    if (f->fd >= 0)
        close(f->fd);
    *f = (struct side_file){.fd = -1, .level = f->level};
}

/* The section's header, with head (room bytes, as reserved) before the
 * payload written since side_sec_begin; compressed, the frame is closed
 * and struct hsnap_zhead goes before head. */
void side_sec_end(struct side_file *f, uint32_t type, const void *head, size_t room)
{
    char pre[sizeof(struct hsnap_zhead) + HSNAP_ZHEAD_MAX];
    size_t npre = 0;
    uint32_t planes = f->packed ? HSNAP_ZHEAD_FORMED : f->pl ? HSNAP_ZHEAD_PLANES : 0;
    if (f->pl) {
        side_planes_flush(f);
        arena_unmap(f->pl, SIDE_PLANES_BYTES);
        f->pl = NULL;
    }
    if (f->pt) {
        arena_unmap(f->pt, SIDE_PLANES_PT);
        f->pt = NULL;
    }
    f->pl_stride = 0;
    f->packed = 0;
    if (f->err || f->fd < 0)
        return;
    if (f->z) {
        struct hsnap_zhead zh = {f->raw + room, (uint32_t)room, planes};
        if (zsec_feed(NULL, 0, 1, side_write, f) != 0) {
            side_fail(f);
            return;
        }
        memcpy(pre, &zh, sizeof zh);
        npre = sizeof zh;
        type |= HSNAP_SEC_ZSTD;
    }
    if (room)
        memcpy(pre + npre, head, room);
    npre += room;
    uint32_t crc = f->crc;
    if (npre)
        crc = (uint32_t)crc32_combine(crc32_z(crc32_z(0, Z_NULL, 0), (const Bytef *)pre, npre),
                                      crc, (z_off_t)f->len);
    struct hsnap_section h = {type, crc, f->len + npre};
    if (pwrite(f->fd, &h, sizeof h, f->at) != (ssize_t)sizeof h ||
        (npre && pwrite(f->fd, pre, npre, f->at + (off_t)sizeof h) != (ssize_t)npre))
        side_fail(f);
}

/* n bytes at p, a run's records, into the open section in planes: the
 * whole chunks straight from p, the rest as side_out gathers it. */
static void side_planes_at(struct side_file *f, const uint8_t *p, size_t n)
{
    size_t whole = (size_t)f->pl_stride * HSNAP_PLANES_COUNT_MAX;
    if (f->pl && !f->pl_n)
        for (; n >= whole && !f->err; p += whole, n -= whole) {
            f->raw += whole;
            side_planes_chunk(f, p, HSNAP_PLANES_COUNT_MAX);
        }
    side_out(f, p, n);
}

/* PYTYPES in planes, a run per array (hsnap_pyformat.h): 1 when its
 * head's counts add up to n, else 0 (written as it is). */
static int side_pytypes(struct side_file *f, const uint8_t *p, size_t n)
{
    struct hsnap_pytypes_head h;
    if (n < sizeof h)
        return 0;
    memcpy(&h, p, sizeof h);
    uint64_t objs = h.nobjects * sizeof(struct hsnap_pyobj),
             types = (uint64_t)h.ntypes * sizeof(struct hsnap_pytype),
             links = (h.nlinks + h.nparents) * sizeof(struct hsnap_pylink);
    if (h.nobjects > n || h.names_len > n || h.nlinks > n || h.nparents > n ||
        sizeof h + objs + types + h.names_len + links != n)
        return 0;
    side_sec_begin_planes(f, 0, n, 1);
    side_out(f, p, sizeof h);
    side_planes(f, sizeof(struct hsnap_pyobj));
    side_planes_at(f, p + sizeof h, objs);
    side_planes(f, sizeof(struct hsnap_pytype));
    side_planes_at(f, p + sizeof h + objs, types);
    side_planes(f, 1);
    side_out(f, p + sizeof h + objs + types, h.names_len);
    side_planes(f, sizeof(struct hsnap_pylink));
    side_planes_at(f, p + n - links, links);
    return 1;
}

/* The sections at hand that are a head and an array of records: the
 * head's bytes and a record's (side_sec_whole writes the records in
 * planes).  RETAINERS' pairs are 40 bytes of small sums and sites each,
 * a million of them in import torch's check, whose bytes compressed as
 * they lay were most of the check's fork's zstd time. */
static const struct side_records {
    uint32_t type, head, stride;
} side_records[] = {
    {HSNAP_SEC_PYRETAIN, 0, sizeof(struct hsnap_pyretain)},
    {HSNAP_SEC_PEAK, sizeof(struct hsnap_peak), sizeof(struct hsnap_peak_item)},
    {HSNAP_SEC_RETAINERS, HSNAP_RETAINERS_HEAD, sizeof(struct hsnap_retainer)},
};

/* A section whose payload is at hand; the arrays of records in planes
 * (side_records, the Python ones: side_pytypes). */
void side_sec_whole(struct side_file *f, uint32_t type, const void *p, size_t n)
{
    const struct side_records *r = NULL;
    for (size_t i = 0; i < sizeof side_records / sizeof *side_records; i++)
        if (side_records[i].type == type && n >= side_records[i].head)
            r = &side_records[i];
    if (r) { /* the head as it is, then the records */
        side_sec_begin_planes(f, 0, n, 1);
        side_out(f, p, r->head);
        side_planes(f, r->stride);
        side_planes_at(f, (const uint8_t *)p + r->head, n - r->head);
    } else if (type != HSNAP_SEC_PYTYPES || !side_pytypes(f, p, n)) {
        side_sec_begin(f, 0, n);
        side_out(f, p, n);
    }
    side_sec_end(f, type, NULL, 0);
}

void side_sink_planes(void *f, uint64_t bytes)
{
    side_sec_begin_planes(f, 0, bytes, 1);
}

void side_sink_run(void *f, uint32_t stride)
{
    side_planes(f, stride);
}

void side_sink_put(void *f, const void *p, size_t n)
{
    side_out(f, p, n);
}

/* Reads the side file's section headers; 0, or -1 (damaged). */
int side_index(int fd, struct side_index *sd)
{
    struct hsnap_section h;
    off_t end = fd < 0 ? 0 : lseek(fd, 0, SEEK_END);
    memset(sd, 0, sizeof *sd);
    for (off_t at = 0; at < end; at += (off_t)(sizeof h + h.length)) {
        if (pread(fd, &h, sizeof h, at) != (ssize_t)sizeof h || h.length > (uint64_t)(end - at))
            return -1;
        h.type &= ~HSNAP_SEC_ZSTD;
        if (h.type >= SIDE_TYPES || h.type == 0)
            return -1;
        sd->at[h.type] = at;
        sd->len[h.type] = sizeof h + h.length;
    }
    return end < 0 ? -1 : 0;
}

/* Copies [at, at + len) of the side file to fd's end: in the kernel, or
 * through a buffer mapped where copy_file_range cannot. */
int side_copy(int fd, int side, off_t at, uint64_t len)
{
    const size_t room = 65536;
    char *buf;
    int r = 0;
    while (len) {
        ssize_t k = copy_file_range(side, &at, fd, NULL, len, 0);
        if (k < 0 && errno == EINTR)
            continue;
        if (k <= 0)
            break;
        len -= (uint64_t)k;
    }
    if (!len)
        return 0;
    if (!(buf = arena_map(room)))
        return -1;
    while (len) {
        ssize_t k = pread(side, buf, len < room ? len : room, at);
        if (k < 0 && errno == EINTR)
            continue;
        if (k <= 0 || sbuf_write_all(fd, buf, (size_t)k) != 0) {
            r = -1;
            break;
        }
        at += k;
        len -= (uint64_t)k;
    }
    arena_unmap(buf, room);
    return r;
}
