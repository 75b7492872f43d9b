/*
 * maps.c - the address ranges the leak check must not read: everything
 * that is not a readable mapping, from /proc/self/maps.
 *
 * A program may make part of a live block PROT_NONE (a guard page, as
 * valgrind's leak-segv-jmp test does) or unmap part of a large block; a
 * scan that reads it dies with SIGSEGV.  The model scans around these
 * holes.  They are read once per check, with the world stopped (no thread
 * can map or protect meanwhile), through open/read into the shim's own
 * memory: no stdio, no malloc.  The holes are the complement of the
 * readable mappings over the whole address space, adjacent readable
 * mappings merged, so there are about as many as there are mappings.
 */
#include <fcntl.h>
#include <unistd.h>

#include "inner.h"

#define MAPS_CHUNK (64u * 1024u)

/* /proc/self/maps, whole, in a mapping of *cap bytes; NULL on failure. */
static char *maps_read(size_t *len, size_t *cap)
{
    int fd = open("/proc/self/maps", O_RDONLY | O_CLOEXEC);
    char *buf = NULL;
    *len = *cap = 0;
    if (fd < 0)
        return NULL;
    for (;;) {
        if (*len == *cap) {
            char *nb = collect_host->map(*cap + MAPS_CHUNK);
            if (!nb)
                break;
            if (buf) {
                __builtin_memcpy(nb, buf, *len);
                collect_host->unmap(buf, *cap);
            }
            buf = nb;
            *cap += MAPS_CHUNK;
        }
        ssize_t r = read(fd, buf + *len, *cap - *len);
        if (r <= 0) {
            close(fd);
            if (r == 0)
                return buf;
            break;
        }
        *len += (size_t)r;
    }
    if (fd >= 0)
        close(fd);
    if (buf)
        collect_host->unmap(buf, *cap);
    return NULL;
}

static uintptr_t maps_hex(const char **p, const char *end)
{
    uintptr_t v = 0;
    for (; *p < end; (*p)++) {
        char c = **p;
        unsigned d = c >= '0' && c <= '9' ? (unsigned)(c - '0')
                   : c >= 'a' && c <= 'f' ? (unsigned)(c - 'a' + 10) : 16u;
        if (d == 16)
            break;
        v = v << 4 | d;
    }
    return v;
}

/* Appends [lo, hi) to the holes (room for one per line plus one). */
static void maps_hole(struct model_range *h, size_t *n, uintptr_t lo, uintptr_t hi)
{
    if (lo < hi)
        h[(*n)++] = (struct model_range){lo, hi};
}

/* Fills *holes (a mapping of *bytes bytes, release with maps_free) with
 * the unreadable ranges, sorted; 0, or -1 when /proc/self/maps cannot be
 * read (then there are none, and the scan trusts every block). */
int maps_holes(struct model_range **holes, size_t *n, size_t *bytes)
{
    size_t len, cap, lines = 1;
    char *text = maps_read(&len, &cap);
    *holes = NULL;
    *n = *bytes = 0;
    if (!text)
        return -1;
    for (size_t i = 0; i < len; i++)
        lines += text[i] == '\n';
    struct model_range *h = collect_host->map(lines * sizeof *h + 4096);
    if (!h) {
        collect_host->unmap(text, cap);
        return -1;
    }
    uintptr_t readable_end = 0;
    for (const char *p = text, *end = text + len; p < end;) {
        uintptr_t lo = maps_hex(&p, end);
        p += p < end && *p == '-';
        uintptr_t hi = maps_hex(&p, end);
        p += p < end && *p == ' ';
        int r = p < end && *p == 'r';
        if (r && hi > lo) {
            maps_hole(h, n, readable_end, lo);
            readable_end = hi;
        }
        while (p < end && *p++ != '\n')
            ;
    }
    maps_hole(h, n, readable_end, UINTPTR_MAX);
    collect_host->unmap(text, cap);
    *holes = h;
    *bytes = lines * sizeof *h + 4096;
    return 0;
}

void maps_free(struct model_range *holes, size_t bytes)
{
    if (holes)
        collect_host->unmap(holes, bytes);
}
