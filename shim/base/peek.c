/*
 * peek.c - the ranges a frozen copy of the process may read by plain
 * loads (peek.h's peek_safe): the leak check's fork is the one thread of
 * its process, so no mapping it lists can go while it reads, and a copy
 * through process_vm_readv (which pins each page it reads, a system call
 * a field) buys it nothing.  Listed once from /proc/self/maps, after the
 * fork has put back what MADV_DONTFORK hid: the private mappings, anonymous
 * or of a file, that are readable, neighbours merged.  Left out, and read
 * by the system call as before: shared mappings (another process may
 * truncate the file under them: SIGBUS), the kernel's special ones
 * ([vvar] faults on some pages) and devices'.  The table is mapped for
 * the check and dropped after it; nothing here allocates.
 */
#include <stdint.h>

#include "base.h"
#include "peek.h"
#include "procmaps.h"

struct peek_frozen peek_fz;

struct peek_fill {
    struct peek_range *r;
    size_t n, cap;
};

/* Whether line l may be read by loads in the frozen copy. */
static int peek_line_safe(const struct procmaps_line *l)
{
    size_t len;
    const char *path = procmaps_path(l, &len);
    const char *perm = memchr(l->text, ' ', l->len);
    if (!l->readable || !perm || perm + 5 > l->text + l->len || perm[4] != 'p')
        return 0; /* unreadable, or shared */
    if (len == 0 || procmaps_path_is(path, len, "[heap]") ||
        procmaps_path_is(path, len, "[stack") || procmaps_path_is(path, len, "[anon:"))
        return 1;
    return path[0] == '/' && !procmaps_path_is(path, len, "/dev/");
}

static void peek_count(const struct procmaps_line *l, void *arg)
{
    (*(size_t *)arg)++;
}

static void peek_add(const struct procmaps_line *l, void *arg)
{
    struct peek_fill *f = arg;
    if (!peek_line_safe(l) || l->hi <= l->lo)
        return;
    if (f->n && f->r[f->n - 1].hi == l->lo)
        f->r[f->n - 1].hi = l->hi;
    else if (f->n < f->cap)
        f->r[f->n++] = (struct peek_range){l->lo, l->hi};
}

void peek_freeze(void)
{
    static char buf[8192]; /* the fork's one thread */
    size_t lines = 0;
    peek_thaw();
    if (procmaps_each(buf, sizeof buf, peek_count, &lines) != 0)
        return;
    struct peek_fill f = {NULL, 0, lines + 64};
    size_t len = f.cap * sizeof *f.r;
    if (!(f.r = arena_map(len)))
        return;
    if (procmaps_each(buf, sizeof buf, peek_add, &f) != 0 || f.n == f.cap) {
        arena_unmap(f.r, len); /* a mapping more than counted: none trusted */
        return;
    }
    peek_fz = (struct peek_frozen){f.r, f.n, len};
}

void peek_thaw(void)
{
    if (peek_fz.r)
        arena_unmap(peek_fz.r, peek_fz.len);
    peek_fz = (struct peek_frozen){NULL, 0, 0};
}
