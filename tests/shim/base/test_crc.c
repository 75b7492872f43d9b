// link: shim/base/crc.c
/*
 * test_crc.c - crc_update gives zlib's crc32_z value, bit for bit (the
 * readers check sections and the state document against zlib): every
 * length from 0 to 600 at each of 16 alignments, a buffer of a few MiB,
 * and a buffer fed in uneven pieces as side_write feeds a section; with
 * the CPU's folding path (skipped where the CPU has no PCLMULQDQ) and
 * with zlib's table walk alone.
 */
#include <stdint.h>
#include <stdlib.h>
#include <sys/platform/x86.h>
#include <zlib.h>

#include "base.h"
#include "unit.h"

#define BIG (3u * 1024u * 1024u + 77u)

static unsigned char *data;

static void fill(void)
{
    uint64_t x = 0x9e3779b97f4a7c15ull;
    data = malloc(BIG + 64);
    for (size_t i = 0; i < BIG + 64; i++) {
        x ^= x << 13, x ^= x >> 7, x ^= x << 17;
        data[i] = (unsigned char)x;
    }
}

/* 0 when every length and alignment agrees with zlib, else the first
 * length that does not, plus one */
static size_t first_wrong(void)
{
    for (size_t off = 0; off < 16; off++)
        for (size_t n = 0; n <= 600; n++) {
            uint32_t seed = (uint32_t)(n * 2654435761u);
            if (crc_update(seed, data + off, n) != (uint32_t)crc32_z(seed, data + off, n))
                return n + 1;
        }
    return 0;
}

static int pieces_agree(void)
{
    uint32_t a = 0, b = 0;
    size_t at = 0, step = 1;
    while (at < BIG) {
        size_t n = BIG - at < step ? BIG - at : step;
        a = crc_update(a, data + at, n);
        at += n;
        step = step * 3 + 1 > 200000 ? 5 : step * 3 + 1;
    }
    b = (uint32_t)crc32_z(0, data, BIG);
    return a == b;
}

TEST_BEGIN(crc_folded_equals_zlib_every_length)
{
    if (!CPU_FEATURE_ACTIVE(PCLMULQDQ) || !CPU_FEATURE_ACTIVE(SSE4_1)) {
        printf("SKIP crc_folded_equals_zlib_every_length: no PCLMULQDQ here\n");
        return;
    }
    crc_use(1);
    size_t w = first_wrong();
    expect_eq_u64(w, 0);
    expect_eq_u64(crc_update(0, data, BIG), (uint32_t)crc32_z(0, data, BIG));
    expect_eq_u64(crc_update(0xdeadbeef, data + 3, BIG - 3),
                  (uint32_t)crc32_z(0xdeadbeef, data + 3, BIG - 3));
    expect_true(pieces_agree(), "a section fed in pieces differs from zlib's");
    expect_eq_u64(crc_update(0, NULL, 0), 0);
}
TEST_END

TEST_BEGIN(crc_table_walk_equals_zlib_every_length)
{
    crc_use(0);
    expect_eq_u64(first_wrong(), 0);
    expect_eq_u64(crc_update(0, data, BIG), (uint32_t)crc32_z(0, data, BIG));
    expect_true(pieces_agree(), "a section fed in pieces differs from zlib's");
    crc_use(1);
}
TEST_END

int main(void)
{
    fill();
    crc_folded_equals_zlib_every_length();
    crc_table_walk_equals_zlib_every_length();
    return 0;
}
