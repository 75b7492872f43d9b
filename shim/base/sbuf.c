/*
 * sbuf.c - the snapshot writer's growable buffers, in the shim's own memory
 * (whole mmaps from arena_map, never the host's malloc), and the raw write
 * of bytes to a file descriptor.
 *
 * A buffer that fails to grow is marked (err) and ignores later appends, so
 * a writer appends a whole section without checking each step and looks
 * at err once.  Buffers double, by mremap: the pages move, they are not
 * copied, so a buffer is never resident twice while it grows.  The leak
 * check's copy of a million blocks is about 40 MiB (made in its fork, or
 * in place as a fallback).
 */
#include <errno.h>
#include <fcntl.h>
#include <string.h>
#include <unistd.h>

#include "base.h"

#define SBUF_MIN (64u * 1024u)
#define SBUF_POPULATE (64u * 1024u) /* sbuf_reserve_all's least */

int sbuf_reserve(struct sbuf *b, size_t n)
{
    if (b->err)
        return -1;
    if (b->len + n <= b->cap)
        return 0;
    size_t cap = b->cap ? b->cap * 2 : SBUF_MIN;
    while (cap < b->len + n)
        cap *= 2;
    char *p = b->p ? arena_remap(b->p, b->cap, cap) : arena_map(cap);
    if (!p) {
        b->err = 1;
        return -1;
    }
    b->p = p;
    b->cap = cap;
    return 0;
}

/* sbuf_reserve for a caller that writes all n bytes next (a section's
 * payload of a known size): their pages made resident at once
 * (arena_populate) when the room is new and at least SBUF_POPULATE. */
int sbuf_reserve_all(struct sbuf *b, size_t n)
{
    size_t from = b->cap > b->len ? b->cap : b->len; /* the room that is new */
    if (sbuf_reserve(b, n) != 0)
        return -1;
    if (n >= SBUF_POPULATE && b->len + n > from)
        arena_populate(b->p + from, b->len + n - from);
    return 0;
}

void sbuf_put(struct sbuf *b, const void *data, size_t n)
{
    if (sbuf_reserve(b, n) == 0) {
        memcpy(b->p + b->len, data, n);
        b->len += n;
    }
}

void sbuf_u32(struct sbuf *b, uint32_t v)
{
    sbuf_put(b, &v, sizeof v);
}

void sbuf_u64(struct sbuf *b, uint64_t v)
{
    sbuf_put(b, &v, sizeof v);
}

void sbuf_free(struct sbuf *b)
{
    arena_unmap(b->p, b->cap);
    *b = (struct sbuf){0};
}

/* Appends a whole small file (e.g. /proc/self/cmdline). */
void sbuf_file(struct sbuf *b, const char *path)
{
    int fd = open(path, O_RDONLY | O_CLOEXEC);
    if (fd < 0)
        return;
    for (;;) {
        if (sbuf_reserve(b, 4096) != 0)
            break;
        ssize_t n = read(fd, b->p + b->len, 4096);
        if (n <= 0)
            break;
        b->len += (size_t)n;
    }
    close(fd);
}

/* Writes all n bytes of p to fd (retrying short writes and EINTR); 0 or -1. */
int sbuf_write_all(int fd, const void *p, size_t n)
{
    const char *c = p;
    while (n) {
        ssize_t w = write(fd, c, n);
        if (w < 0 && errno == EINTR)
            continue;
        if (w <= 0)
            return -1;
        c += w;
        n -= (size_t)w;
    }
    return 0;
}
