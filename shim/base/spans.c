/*
 * spans.c - address spans ([lo, hi) pairs) sorted by start in place: a
 * shell sort, since qsort may allocate (glibc's merge sort takes a buffer
 * from malloc) and the shim takes nothing from the host's malloc; the
 * arrays sorted are thousands at most (the leaked-reference scan's
 * excluded ranges, a module's symbols in a segment).
 */
#include "base.h"

void span_sort(uintptr_t (*s)[2], uint32_t n)
{
    for (uint32_t gap = n / 2; gap; gap = gap == 2 ? 1 : gap * 5 / 11)
        for (uint32_t i = gap; i < n; i++)
            for (uint32_t j = i; j >= gap && s[j - gap][0] > s[j][0]; j -= gap) {
                uintptr_t t0 = s[j][0], t1 = s[j][1];
                s[j][0] = s[j - gap][0], s[j][1] = s[j - gap][1];
                s[j - gap][0] = t0, s[j - gap][1] = t1;
            }
}
