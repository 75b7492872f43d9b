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
 * compressed (zsec.c) as it is framed when the file's level says so.
 * Prefix side_.
 * Callers hold the snapshot lock.
 */
#include <errno.h>
#include <string.h>
#include <unistd.h>
#include <zlib.h>

#include "snapshot.h"

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

void side_out(struct side_file *f, const void *p, size_t n)
{
    if (f->err || !n || f->fd < 0)
        return;
    f->raw += n;
    if (f->z ? zsec_feed(p, n, 0, side_write, f) != 0 : side_write(f, p, n) != 0)
        side_fail(f);
}

/* room bytes after the section's header are left for side_sec_end (not
 * in the checksum yet); size: the payload's bytes after them, or
 * ZSEC_UNKNOWN.  Compressed at f->level, but for a payload too small to
 * gain (the frame's header and checksum alone are ~20 bytes). */
void side_sec_begin(struct side_file *f, size_t room, uint64_t size)
{
    char zero[sizeof(struct hsnap_section) + sizeof(struct hsnap_zhead) + HSNAP_ZHEAD_MAX] = {0};
    f->len = f->raw = 0;
    f->crc = (uint32_t)crc32_z(0, Z_NULL, 0);
    f->z = 0;
    if (f->err || f->fd < 0)
        return;
    if (room > HSNAP_ZHEAD_MAX) {
        errno = EINVAL;
        side_fail(f);
        return;
    }
    f->z = f->level > 0 && (size == ZSEC_UNKNOWN || size >= SIDE_ZMIN) &&
           zsec_begin(f->level, size, f->hint) == 0;
    size_t head = sizeof(struct hsnap_section) + (f->z ? sizeof(struct hsnap_zhead) : 0) + room;
    if ((f->at = lseek(f->fd, 0, SEEK_CUR)) < 0 || sbuf_write_all(f->fd, zero, head) != 0)
        side_fail(f);
}

/* The section's header, with head (room bytes, as reserved) before the
 * payload written since side_sec_begin; compressed, the frame is closed
 * and struct hsnap_zhead goes before head. */
void side_sec_end(struct side_file *f, uint32_t type, const void *head, size_t room)
{
    char pre[sizeof(struct hsnap_zhead) + HSNAP_ZHEAD_MAX];
    size_t npre = 0;
    if (f->err || f->fd < 0)
        return;
    if (f->z) {
        struct hsnap_zhead zh = {f->raw + room, (uint32_t)room, 0};
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

/* A section whose payload is at hand. */
void side_sec_whole(struct side_file *f, uint32_t type, const void *p, size_t n)
{
    side_sec_begin(f, 0, n);
    side_out(f, p, n);
    side_sec_end(f, type, NULL, 0);
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
 * through a buffer where copy_file_range cannot. */
int side_copy(int fd, int side, off_t at, uint64_t len)
{
    static char buf[65536]; /* the snapshot lock */
    while (len) {
        ssize_t k = copy_file_range(side, &at, fd, NULL, len, 0);
        if (k < 0 && errno == EINTR)
            continue;
        if (k <= 0)
            break;
        len -= (uint64_t)k;
    }
    while (len) {
        ssize_t k = pread(side, buf, len < sizeof buf ? len : sizeof buf, at);
        if (k < 0 && errno == EINTR)
            continue;
        if (k <= 0 || sbuf_write_all(fd, buf, (size_t)k) != 0)
            return -1;
        at += k;
        len -= (uint64_t)k;
    }
    return 0;
}
