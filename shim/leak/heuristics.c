/*
 * heuristics.c - memcheck's leak-check heuristics that heapsnap follows:
 * pointers a library hands out past a header of its own, which memcheck
 * (--leak-check-heuristics, all by default since 3.11) takes as reaching
 * the block ("reachable via heuristic"), where the interior-pointer rule
 * alone reads it possibly lost.
 *
 *   length64: the block's first 8 bytes hold its size less 8, and the
 *   pointer is to the byte after them.  SQLite's default allocator
 *   (sqlite3MemMalloc) keeps each allocation's size there and hands out
 *   block + 8, so every block of an open database (its connection, page
 *   cache, schema, prepared statements) is reached only that way: a
 *   Python program holding a sqlite3 connection at exit read 188 blocks,
 *   129 KB, possibly lost, memcheck none.  Such a block's reserved start
 *   is 8 (model.c's scan_is_start): a reference there is a start
 *   reference, as one to its first byte.
 *
 * memcheck's other three are left: stdstring (libstdc++'s copy-on-write
 * strings, gone with GCC 5's ABI), newarray and multipleinheritance need
 * to know that new[] or a C++ object made the block, which the shim,
 * hooking malloc, does not.  Blocks given a start already (a Python
 * object's, GObject's) keep it.  Prefix heur_.
 */
#include "leakinner.h"

uint64_t heur_mark(struct hsnap_block *b, uint64_t n, const struct model_range *h, size_t nh)
{
    uint64_t marked = 0;
    size_t k = 0;
    for (uint64_t i = 0; i < n; i++) {
        uintptr_t a = b[i].addr;
        while (k < nh && h[k].hi <= a)
            k++;
        if (b[i].reserved || b[i].size <= 8 || (a & 7) || (k < nh && h[k].lo < a + 8))
            continue; /* a start already, too short, or not readable (a hole) */
        if (*(const uint64_t *)a == b[i].size - 8) {
            b[i].reserved = 8;
            marked++;
        }
    }
    return marked;
}
