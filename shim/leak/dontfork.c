/*
 * dontfork.c - the memory a leak check's fork does not inherit: pages the
 * program marked MADV_DONTFORK are absent from the child, and
 * MADV_WIPEONFORK ones are zero there, so a pointer held only there would
 * be missed on a fork where the in-place check finds it.  With the world
 * stopped, just before the fork, the parent lists those mappings (the
 * "dc" and "wf" VmFlags of /proc/self/smaps) and copies their readable
 * pages into one mapping the child inherits; the child moves each copy
 * back to its address (mremap: no second copy), with its protection and
 * advice, so that the roots, blocks and maps it reads are the parent's.
 * smaps rather than a record of the program's madvise calls: it sees
 * raw system calls and calls made before the shim started, and needs no
 * hook; its cost is a walk of the page tables within the stop.  Only the
 * program's kinds of memory are copied (anonymous, shared memory, the brk
 * heap; never the shim's own), at most DFK_MAX_BYTES: past that, one
 * warning, and the rest is left out.  Prefix dfk_.
 */
#include <sys/mman.h>

#include "base/sysmap.h"

#include "leakinner.h"
#include "procmaps.h"

#define DFK_MAX_BYTES (64ul << 20) /* copied per check */
#define DFK_MAX_RANGES 256u        /* mappings copied per check */

struct dfk_range {
    uintptr_t lo, hi;
    size_t off;     /* in the copy */
    int prot;       /* PROT_READ, | PROT_WRITE */
    int advice;     /* MADV_DONTFORK or MADV_WIPEONFORK */
};

static struct {
    struct dfk_range r[DFK_MAX_RANGES]; /* one check at a time (the snapshot lock) */
    unsigned n;
    size_t skipped;          /* bytes left out: past the caps */
    char *copy;              /* host->map'd, copy_len bytes */
    size_t copy_len;
    struct dfk_range cur;    /* the smaps entry being read */
    int cur_ok;              /* it is readable, the program's kind */
    int warned;
} dfk;

/* A mapping header: anonymous, shared memory or the brk heap, readable. */
static void dfk_header(const struct procmaps_line *l, void *arg)
{
    const char *perm = memchr(l->text, ' ', l->len), *end = l->text + l->len;
    size_t len;
    const char *path = procmaps_path(l, &len);
    dfk.cur = (struct dfk_range){l->lo, l->hi, 0, PROT_READ, 0};
    dfk.cur_ok = 0;
    if (!perm || end - perm < 5 || !l->readable || l->hi <= l->lo)
        return;
    if (perm[2] == 'w')
        dfk.cur.prot |= PROT_WRITE;
    dfk.cur_ok = procmaps_programs(l) || procmaps_path_is(path, len, "[heap]");
}

/* Whether the VmFlags line's flags hold two-letter flag f. */
static int dfk_flag(const char *s, const char *end, const char *f)
{
    for (; s + 2 <= end; s++)
        if (s[0] == f[0] && s[1] == f[1] && (s + 2 == end || s[2] == ' ') && s[-1] == ' ')
            return 1;
    return 0;
}

static void dfk_overlaps_own(uintptr_t lo, uintptr_t hi, void *arg)
{
    if (lo < dfk.cur.hi && hi > dfk.cur.lo)
        *(int *)arg = 1;
}

/* The entry's VmFlags: a "dc" or "wf" mapping of the program's is noted. */
static void dfk_flags(const char *text, size_t len)
{
    const char *s = text + 8, *end = text + len; /* past "VmFlags:" */
    int own = 0;
    if (!dfk.cur_ok)
        return;
    dfk.cur_ok = 0;
    dfk.cur.advice = dfk_flag(s, end, "dc") ? MADV_DONTFORK
                   : dfk_flag(s, end, "wf") ? MADV_WIPEONFORK : 0;
    if (!dfk.cur.advice)
        return;
    collect_host->own_maps(dfk_overlaps_own, &own);
    if (own)
        return;
    size_t size = dfk.cur.hi - dfk.cur.lo;
    if (dfk.n == DFK_MAX_RANGES || dfk.copy_len + size > DFK_MAX_BYTES) {
        dfk.skipped += size;
        return;
    }
    dfk.cur.off = dfk.copy_len;
    dfk.r[dfk.n++] = dfk.cur;
    dfk.copy_len += size;
}

static void dfk_line(const char *text, size_t len, void *arg)
{
    if (len >= 8 && !memcmp(text, "VmFlags:", 8))
        dfk_flags(text, len);
    else
        procmaps_parse(text, len, dfk_header, NULL);
}

/* With the world stopped, before the fork: the copy of what the child
 * will not inherit.  Nothing to copy, or no copy made (warned): the child
 * goes without. */
void dfk_copy(void)
{
    static char buf[8192];
    dfk.n = 0;
    dfk.skipped = dfk.copy_len = 0;
    dfk.copy = NULL;
    if (procmaps_lines("/proc/self/smaps", buf, sizeof buf, dfk_line, NULL) != 0)
        dfk.n = 0;
    if (dfk.copy_len && !(dfk.copy = collect_host->map(dfk.copy_len))) {
        dfk.skipped += dfk.copy_len;
        dfk.n = 0;
        dfk.copy_len = 0;
    }
    for (unsigned i = 0; i < dfk.n; i++)
        memcpy(dfk.copy + dfk.r[i].off, (const void *)dfk.r[i].lo, dfk.r[i].hi - dfk.r[i].lo);
    if (dfk.skipped && !dfk.warned++)
        collect_host->warn("leak check: memory marked MADV_DONTFORK past 64 MiB is not copied "
                           "to its fork: pointers held only there are not seen ",
                           "(HEAPSNAP_LEAK_FORK=0 checks in place)", "");
}

/* In the child, before anything is read: each copy back at its address. */
void dfk_restore(void)
{
    for (unsigned i = 0; i < dfk.n; i++) {
        const struct dfk_range *r = &dfk.r[i];
        size_t size = r->hi - r->lo;
        void *to = sys_mremap(dfk.copy + r->off, size, size, MREMAP_MAYMOVE | MREMAP_FIXED,
                          (void *)r->lo);
        if (to == MAP_FAILED) {
            sys_munmap(dfk.copy + r->off, size); /* the shim's, never a root */
            continue;
        }
        if (r->prot != (PROT_READ | PROT_WRITE))
            sys_mprotect(to, size, r->prot);
        madvise(to, size, r->advice); /* its mapping stands apart, as in the parent */
    }
    dfk.n = 0;
    dfk.copy = NULL; /* every page moved or gone */
}

/* In the parent, once the fork is made (or failed): the copy goes. */
void dfk_release(void)
{
    if (dfk.copy)
        collect_host->unmap(dfk.copy, dfk.copy_len);
    dfk.copy = NULL;
    dfk.n = 0;
}
