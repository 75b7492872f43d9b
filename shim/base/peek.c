/*
 * peek.c - the ranges a frozen copy of the process may read by plain
 * loads (peek_safe): the leak check's fork is the one thread of
 * its process, so no mapping it lists can go while it reads, and a copy
 * through process_vm_readv (which pins each page it reads, a system call
 * a field) buys it nothing.  Listed once from /proc/self/maps, after the
 * fork has put back what MADV_DONTFORK hid: the private mappings, anonymous
 * or of a file, that are readable, neighbours merged.  Left out, and read
 * by the system call as before: shared mappings (another process may
 * truncate the file under them: SIGBUS), the kernel's special ones
 * ([vvar] faults on some pages) and devices'.  The fork's own mappings
 * may go (its scratch, freed as it reads): the caller cuts them out
 * (peek_forget), or a range merged with one of them reads past its end
 * once it is unmapped.  The table is the caller's (mapped for the
 * check); nothing here allocates.
 */
#include <fcntl.h>
#include <stdint.h>
#include <string.h>

#include "peek.h"
#include "procmaps.h"

struct peek_frozen peek_fz;
int peek_mem_fd1;

/* Kept only where a read of a word of this stack works: a filter or a
 * module that refuses the reads leaves the copies to process_vm_readv. */
void peek_mem_on(void)
{
    if (peek_mem_fd1)
        return;
    uint64_t a = 1, b = 0;
    int fd = open("/proc/self/mem", O_RDONLY | O_CLOEXEC);
    if (fd >= 0 && (pread(fd, &b, sizeof b, (off_t)(uintptr_t)&a) != (ssize_t)sizeof b || b != 1)) {
        close(fd);
        fd = -1;
    }
    peek_mem_fd1 = fd + 1;
}

void peek_mem_off(void)
{
    if (peek_mem_fd1)
        close(peek_mem_fd1 - 1);
    peek_mem_fd1 = 0;
}

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

void peek_freeze(struct peek_range *r, size_t cap)
{
    char buf[8192]; /* procmaps' lines: on the stack, not the shim's bss */
    struct peek_fill f = {r, 0, cap};
    peek_thaw();
    if (!r || procmaps_each(buf, sizeof buf, peek_add, &f) != 0 || f.n == f.cap)
        return; /* unread, or a mapping past the room: none trusted */
    peek_fz = (struct peek_frozen){r, f.n, cap};
}

void peek_forget(uintptr_t lo, uintptr_t hi)
{
    struct peek_range *r = peek_fz.r;
    size_t n = peek_fz.n, i = 0, j = n;
    if (!n || hi <= lo)
        return;
    while (i < j) { /* the first range ending past lo */
        size_t m = i + (j - i) / 2;
        if (r[m].hi <= lo)
            i = m + 1;
        else
            j = m;
    }
    while (i < n && r[i].lo < hi) {
        if (r[i].lo < lo && r[i].hi > hi) { /* a hole: two ranges */
            if (n == peek_fz.cap) {
                peek_thaw();
                return;
            }
            memmove(&r[i + 2], &r[i + 1], (n - i - 1) * sizeof *r);
            r[i + 1] = (struct peek_range){hi, r[i].hi};
            r[i].hi = lo;
            n++;
            break;
        }
        if (r[i].lo < lo) { /* its back */
            r[i++].hi = lo;
        } else if (r[i].hi > hi) { /* its front */
            r[i].lo = hi;
            break;
        } else { /* all of it */
            memmove(&r[i], &r[i + 1], (n - i - 1) * sizeof *r);
            n--;
        }
    }
    peek_fz.n = n;
}

void peek_thaw(void)
{
    peek_fz = (struct peek_frozen){NULL, 0, 0};
}
