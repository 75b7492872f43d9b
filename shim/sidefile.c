/*
 * sidefile.c - the side file: the unnamed scratch file beside a snapshot
 * (name_open_side) where BLOCKS, and the leak check's fork's LEAKS and
 * RETAINERS, are written as they are made, never held whole in memory;
 * sections framed there (side_sec_begin/end: the header rewritten with
 * the length and checksum once known), indexed back (side_index) and
 * copied into the snapshot by the kernel (side_copy).  Prefix side_.
 * Callers hold the snapshot lock.
 */
#include <errno.h>
#include <string.h>
#include <unistd.h>
#include <zlib.h>

#include "shim.h"

void side_fail(struct side_file *f)
{
    if (!f->err)
        f->err = errno ? errno : EIO;
}

void side_out(struct side_file *f, const void *p, size_t n)
{
    if (f->err || !n || f->fd < 0)
        return;
    if (sbuf_write_all(f->fd, p, n) != 0) {
        side_fail(f);
        return;
    }
    f->crc = (uint32_t)crc32_z(f->crc, (const Bytef *)p, n);
    f->len += n;
}

/* room bytes after the section's header are left for side_sec_end (not
 * in the checksum yet). */
void side_sec_begin(struct side_file *f, size_t room)
{
    char zero[sizeof(struct hsnap_section) + 8] = {0};
    f->len = 0;
    f->crc = (uint32_t)crc32_z(0, Z_NULL, 0);
    if (f->err || f->fd < 0)
        return;
    if ((f->at = lseek(f->fd, 0, SEEK_CUR)) < 0 ||
        sbuf_write_all(f->fd, zero, sizeof(struct hsnap_section) + room) != 0)
        side_fail(f);
}

/* The section's header, with head (room bytes, as reserved) before the
 * payload written since side_sec_begin. */
void side_sec_end(struct side_file *f, uint32_t type, const void *head, size_t room)
{
    uint32_t crc = f->crc;
    if (room)
        crc = (uint32_t)crc32_combine(crc32_z(crc32_z(0, Z_NULL, 0), (const Bytef *)head, room),
                                      crc, (z_off_t)f->len);
    struct hsnap_section h = {type, crc, f->len + room};
    if (f->err || f->fd < 0)
        return;
    if (pwrite(f->fd, &h, sizeof h, f->at) != (ssize_t)sizeof h ||
        (room && pwrite(f->fd, head, room, f->at + (off_t)sizeof h) != (ssize_t)room))
        side_fail(f);
}

/* A section whose payload is at hand. */
void side_sec_whole(struct side_file *f, uint32_t type, const void *p, size_t n)
{
    side_sec_begin(f, 0);
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
        if (pread(fd, &h, sizeof h, at) != (ssize_t)sizeof h || h.length > (uint64_t)(end - at) ||
            h.type > HSNAP_SEC_RETAINERS || h.type == 0)
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
