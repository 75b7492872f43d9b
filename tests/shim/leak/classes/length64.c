/*
 * length64.c - blocks handed out past a length header, as SQLite's default
 * allocator hands them out (sqlite3MemMalloc: the block's first 8 bytes
 * hold its size less 8, the pointer given is block + 8).  memcheck's
 * length64 heuristic (on by default) calls such a block reachable through
 * that pointer; heapsnap follows it (shim/leak/heuristics.c).
 *   A (48 bytes, header 40): a global points at A+8            -> still reachable
 *   B (32 bytes, header 24): only A points at it, at B+8        -> still reachable
 *   C (40 bytes, header 99): a global points at C+8             -> possibly lost
 *                            (the header is not its size less 8)
 *   D (24 bytes, header 16): a global points at D+16 only       -> possibly lost
 *                            (only the byte after the header is a start)
 *   E (64 bytes, header 56): nothing points at it               -> direct leak
 *
 * Expected:
 *   still reachable: 48 + 32 = 80 bytes in 2 blocks (+ runtime)
 *   possibly lost:   40 + 24 = 64 bytes in 2 blocks at length64.c:32
 *   direct:          64 bytes in 1 blocks at length64.c:32
 *   indirect, cycle, suppressed: 0
 */
#include <stdint.h>
#include <stdlib.h>

#include "leakfix.h"

uintptr_t g_a, g_c, g_d;

/* n bytes after a header that holds hdr (n for SQLite's), the header's
 * end returned. */
static LF_NOINLINE uint64_t *l64_alloc(size_t n, uint64_t hdr)
{
    uint64_t *p = calloc(1, n + 8);
    p[0] = hdr;
    return p + 1;
}

static LF_NOINLINE void build(void)
{
    uint64_t *a = l64_alloc(40, 40);
    a[0] = (uintptr_t)l64_alloc(24, 24);
    g_a = (uintptr_t)a;
    g_c = (uintptr_t)l64_alloc(32, 99);
    g_d = (uintptr_t)l64_alloc(16, 16) + 8;
    a = l64_alloc(56, 56);
    a = NULL;
}

int main(void)
{
    build();
    lf_scrub();
    return 0;
}
