/*
 * bigmem.c - the CLI's big buffers (a section decompressed whole, an array
 * by trace or by block), asked of the kernel on huge pages.
 *
 * A report on a big program's snapshot (1.15M traces, 650k blocks) holds a
 * few hundred MiB of such buffers, each written once in order or filled at
 * random.  Each of their 4 KiB pages was a page fault, and each fault costs
 * 6-17 microseconds on a virtual machine (`heapsnap leaks` on torchtrain.py's
 * snapshot: 92k faults, a third of its samples), and a TLB miss a page as the
 * decoders fill them at random.  madvise(MADV_HUGEPAGE) on a buffer of 2 MiB
 * or more lets the kernel back it with 2 MiB pages where the host allows it
 * (transparent_hugepage "madvise" or "always"); elsewhere it is a no-op, and
 * the pages still come as they are first touched, so a buffer sized by a
 * forged header costs what the input really fills (to 2 MiB).  The
 * allocator is glibc's, unchanged: these wrap its calls, and the memory goes
 * back with free.  glibc's own glibc.malloc.hugetlb=1 tunable does the same
 * for every allocation, but only when set before the process starts.
 */
#include <stdint.h>
#include <stdlib.h>
#include <sys/mman.h>

#include "cli.h"

#define BIG_MIN ((size_t)2 << 20) /* a huge page: nothing smaller can be one */
#define BIG_PAGE ((uintptr_t)4096)

/* The whole pages under [p, p + n) advised; errors (an old kernel, no
 * transparent huge pages) change nothing. */
static void big_advise(void *p, size_t n)
{
#ifdef MADV_HUGEPAGE
    if (!p || n < BIG_MIN)
        return;
    uintptr_t lo = (uintptr_t)p & ~(BIG_PAGE - 1);
    uintptr_t hi = ((uintptr_t)p + n + BIG_PAGE - 1) & ~(BIG_PAGE - 1);
    (void)madvise((void *)lo, hi - lo, MADV_HUGEPAGE);
#else
    (void)p;
    (void)n;
#endif
}

void *big_malloc(size_t n)
{
    void *p = malloc(n);
    big_advise(p, n);
    return p;
}

/* Advised after calloc (which refuses a k * n that overflows): a buffer
 * this big is most often a fresh mapping of glibc's, zero and untouched,
 * whose pages still come as they are used.  (Zeroing advised memory here
 * instead made `heapsnap leaks` on a 1.15M-trace snapshot hold 8% more at
 * its peak for no fewer faults.) */
void *big_calloc(size_t k, size_t n)
{
    void *p = calloc(k, n);
    if (p)
        big_advise(p, k * n);
    return p;
}

void *big_realloc(void *q, size_t n)
{
    void *p = realloc(q, n);
    big_advise(p, n);
    return p;
}
