/*
 * procmaps.h - the one reader of /proc/self/maps, for every room that needs
 * the process's mappings: the unwinder (where the main stack is), the leak
 * check (a thread stack's mapping, the memory it must not read, and from
 * smaps what its fork does not inherit).  It reads with read(2) into the
 * caller's buffer and hands over one line at a time: no stdio, no malloc,
 * so it may run with the world stopped or from the allocator's own
 * start-up.  Header-only: the rooms share no file.
 */
#ifndef HEAPSNAP_PROCMAPS_H
#define HEAPSNAP_PROCMAPS_H

#include <fcntl.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>
#include <unistd.h>

struct procmaps_line {
    uintptr_t lo, hi;  /* [lo, hi) */
    int readable;      /* 'r' in its permissions */
    int writable;      /* 'w' */
    const char *text;  /* the whole line, without its newline */
    size_t len;
};
typedef void (*procmaps_fn)(const struct procmaps_line *l, void *arg);

/* The path field of a maps line ("" for an anonymous mapping). */
static inline const char *procmaps_path(const struct procmaps_line *l, size_t *len)
{
    const char *s = l->text, *end = l->text + l->len;
    for (int field = 0; field < 5; field++) {
        while (s < end && *s != ' ')
            s++;
        while (s < end && *s == ' ')
            s++;
    }
    *len = (size_t)(end - s);
    return s;
}

static inline int procmaps_path_is(const char *s, size_t len, const char *p)
{
    size_t k = strlen(p);
    return len >= k && !memcmp(s, p, k);
}

/* Anonymous, or shared memory (System V, memfd, /dev/shm, MAP_SHARED
 * anonymous): the program's own kinds of memory. */
static inline int procmaps_programs(const struct procmaps_line *l)
{
    size_t len;
    const char *p = procmaps_path(l, &len);
    return len == 0 || procmaps_path_is(p, len, "[anon:") || procmaps_path_is(p, len, "/SYSV") ||
           procmaps_path_is(p, len, "/dev/zero") || procmaps_path_is(p, len, "/memfd:") ||
           procmaps_path_is(p, len, "/dev/shm/");
}

/* Readable and writable, of the program's own kinds: what the leak check
 * may take for the program's mapped memory (roots_add_mapped). */
static inline int procmaps_programs_rw(const struct procmaps_line *l)
{
    if (l->len < 30 || !l->readable)
        return 0;
    const char *perm = memchr(l->text, ' ', l->len);
    return perm && perm[2] == 'w' && procmaps_programs(l);
}

static inline uintptr_t procmaps_hex(const char **s, const char *end)
{
    uintptr_t v = 0;
    for (; *s < end; (*s)++) {
        char c = **s;
        unsigned d = c >= '0' && c <= '9' ? (unsigned)(c - '0')
                   : c >= 'a' && c <= 'f' ? (unsigned)(c - 'a' + 10) : 16u;
        if (d == 16)
            break;
        v = v << 4 | d;
    }
    return v;
}

static inline void procmaps_parse(const char *text, size_t len, procmaps_fn fn, void *arg)
{
    const char *s = text, *end = text + len;
    struct procmaps_line l = {.text = text, .len = len};
    l.lo = procmaps_hex(&s, end);
    if (s == end || *s++ != '-')
        return;
    l.hi = procmaps_hex(&s, end);
    l.readable = s + 1 < end && s[1] == 'r';
    l.writable = s + 2 < end && s[2] == 'w';
    fn(&l, arg);
}

/* Calls fn(text, len, arg) for each line of path (a /proc file), without
 * its newline; buf (cap bytes) holds at most one line at a time.  0, or
 * -1 when the file could not be opened or read whole. */
static inline int procmaps_lines(const char *path, char *buf, size_t cap,
                                 void (*fn)(const char *text, size_t len, void *arg), void *arg)
{
    int fd = open(path, O_RDONLY | O_CLOEXEC);
    size_t have = 0;
    ssize_t n;
    if (fd < 0)
        return -1;
    while ((n = read(fd, buf + have, cap - have)) > 0) {
        have += (size_t)n;
        size_t start = 0;
        for (size_t i = 0; i < have; i++)
            if (buf[i] == '\n') {
                fn(buf + start, i - start, arg);
                start = i + 1;
            }
        memmove(buf, buf + start, have - start);
        have -= start;
        if (have == cap) /* an absurd line: dropped */
            have = 0;
    }
    close(fd);
    return n < 0 ? -1 : 0;
}

struct procmaps_each_ctx {
    procmaps_fn fn;
    void *arg;
};

static inline void procmaps_each_line(const char *text, size_t len, void *arg)
{
    const struct procmaps_each_ctx *c = arg;
    procmaps_parse(text, len, c->fn, c->arg);
}

/* Calls fn for each line of /proc/self/maps, in the kernel's (ascending)
 * order (procmaps_lines' buffer and result). */
static inline int procmaps_each(char *buf, size_t cap, procmaps_fn fn, void *arg)
{
    struct procmaps_each_ctx c = {fn, arg};
    return procmaps_lines("/proc/self/maps", buf, cap, procmaps_each_line, &c);
}

#endif
