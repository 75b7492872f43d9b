// link: shim/base/pagemap.c
/*
 * test_pagemap.c - pagemap_piece, a range's written pieces: in a private
 * mapping of 16 pages written on pages 0, 1, 4, 9 and 10, a gap of one
 * page cuts [0, 2), [4, 5), [9, 11); a gap of three keeps pages 2-3 inside
 * the first piece, [0, 5), [9, 11); a range that starts or ends inside a
 * page starts or ends its piece there; a range never written has none;
 * where pagemap cannot tell (no file), the whole range is one piece.
 */
#include <stdint.h>
#include <sys/mman.h>

#include "pagemap.h"
#include "unit.h"

#define PG PAGEMAP_PAGE
#define PAGES 16u

static struct pagemap pm;

/* The pieces of [lo, hi) at gap, as page numbers from base (byte offsets
 * for ends inside a page: lo and hi as given) into out[2k], [2k+1]. */
static unsigned pieces(uintptr_t base, uintptr_t lo, uintptr_t hi, unsigned gap, uintptr_t *out,
                       unsigned max)
{
    uintptr_t at = lo, a, b;
    unsigned k = 0;
    pm.n = 0;
    while (k < max && pagemap_piece(&pm, &at, hi, gap, &a, &b)) {
        out[2 * k] = a - base;
        out[2 * k + 1] = b - base;
        k++;
    }
    return k;
}

TEST_BEGIN(pagemap_piece_cuts_at_gaps)
    char *m = mmap(NULL, PAGES * PG, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
    expect_true(m != MAP_FAILED, "a mapping");
    pagemap_open(&pm);
    if (!pm.fd1) {
        printf("SKIP pagemap_piece_cuts_at_gaps: /proc/self/pagemap hides its flags here\n");
        munmap(m, PAGES * PG);
        return;
    }
    static const unsigned written[] = {0, 1, 4, 9, 10};
    for (unsigned i = 0; i < sizeof written / sizeof *written; i++)
        m[written[i] * PG] = 1;
    uintptr_t base = (uintptr_t)m, o[16];
    unsigned n = pieces(base, base, base + PAGES * PG, 1, o, 8);
    expect_eq_u64(n, 3);
    expect_true(o[0] == 0 && o[1] == 2 * PG && o[2] == 4 * PG && o[3] == 5 * PG &&
                    o[4] == 9 * PG && o[5] == 11 * PG,
                "gap 1: [%lu %lu) [%lu %lu) [%lu %lu) pages", o[0] / PG, o[1] / PG, o[2] / PG,
                o[3] / PG, o[4] / PG, o[5] / PG);
    n = pieces(base, base, base + PAGES * PG, 3, o, 8);
    expect_eq_u64(n, 2);
    expect_true(o[0] == 0 && o[1] == 5 * PG && o[2] == 9 * PG && o[3] == 11 * PG,
                "gap 3: [%lu %lu) [%lu %lu) pages", o[0] / PG, o[1] / PG, o[2] / PG, o[3] / PG);
    n = pieces(base, base + 100, base + 9 * PG + 50, 1, o, 8);
    expect_eq_u64(n, 3);
    expect_true(o[0] == 100 && o[1] == 2 * PG && o[4] == 9 * PG && o[5] == 9 * PG + 50,
                "inside pages: [%lu %lu) .. [%lu %lu)", o[0], o[1], o[4], o[5]);
    n = pieces(base, base + 5 * PG, base + 9 * PG, 1, o, 8);
    expect_eq_u64(n, 0);
    pagemap_close(&pm);
    n = pieces(base, base + 5 * PG, base + 9 * PG, 1, o, 8);
    expect_eq_u64(n, 1);
    expect_true(o[0] == 5 * PG && o[1] == 9 * PG, "cannot tell: the whole range");
    munmap(m, PAGES * PG);
TEST_END

int main(void)
{
    pagemap_piece_cuts_at_gaps();
    return 0;
}
