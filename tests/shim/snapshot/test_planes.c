/*
 * test_planes.c - hsnap_planes.h's byte planes: hsnap_planes_put (16 x 8
 * bytes at a time with SSE2, 8 x 8, the rest a byte at a time) gives plane j as
 * byte j of every record, in order, for every stride and count the
 * format allows around the 8-byte blocks' edges, the same made 8 planes
 * at a time (hsnap_planes_put_some, as the side file makes them), and
 * hsnap_planes_get (the CLI's: 8 planes by 16 records with SSE2, 8 by 8,
 * the rest a byte at a time) gives the records back.
 */
#include <stdlib.h>
#include <string.h>

#include "hsnap_planes.h"
#include "unit.h"

TEST_BEGIN(planes_hold_byte_j_of_every_record_in_order)
{
    static const uint32_t strides[] = {1, 3, 7, 8, 9, 15, 16, 17, 20, 24, 31, 32, 33, 40, 63, 64};
    static const uint32_t counts[] = {1, 2, 7, 8, 9, 15, 16, 17, 24, 31, 32, 33, 63, 64, 65, 1000, 16384};
    uint8_t *src = malloc(64u * 16384), *dst = malloc(64u * 16384 + 8),
            *back = malloc(64u * 16384 + 8); /* + 8: the bytes past, checked */
    uint32_t seed = 99;
    for (size_t k = 0; k < 64u * 16384; k++)
        src[k] = (uint8_t)((seed = seed * 1103515245u + 12345u) >> 16);
    for (size_t s = 0; s < sizeof strides / sizeof *strides; s++)
        for (size_t c = 0; c < sizeof counts / sizeof *counts; c++) {
            uint32_t stride = strides[s], count = counts[c], bad = 0;
            memset(dst, 0xa5, (size_t)stride * count + 8);
            hsnap_planes_put(dst, src, stride, count);
            for (uint32_t j = 0; j < stride; j++)
                for (uint32_t i = 0; i < count; i++)
                    bad += dst[(size_t)j * count + i] != src[(size_t)i * stride + j];
            expect_true(bad == 0, "stride %u, count %u: %u bytes misplaced", stride, count, bad);
            expect_eq_u64(dst[(size_t)stride * count], 0xa5); /* nothing written past */
            memset(back, 0x5a, (size_t)stride * count + 8);
            hsnap_planes_get(back, dst, stride, count);
            expect_true(!memcmp(back, src, (size_t)stride * count), "stride %u, count %u: "
                        "not the records back", stride, count);
            expect_eq_u64(back[(size_t)stride * count], 0x5a); /* nothing written past */
        }
    free(src), free(dst), free(back);
}
TEST_END

TEST_BEGIN(planes_made_eight_at_a_time_are_the_same_planes)
{
    /* as sidefile.c makes them: planes [j, j + 8) at a time, the last
     * part shorter */
    enum { STRIDE = 29, COUNT = 1003 };
    static uint8_t src[STRIDE * COUNT], all[STRIDE * COUNT], some[STRIDE * COUNT];
    for (size_t k = 0; k < sizeof src; k++)
        src[k] = (uint8_t)(k * 7 + k / 13);
    hsnap_planes_put(all, src, STRIDE, COUNT);
    for (uint32_t j = 0; j < STRIDE; j += 8)
        hsnap_planes_put_some(some + (size_t)j * COUNT, src, STRIDE, COUNT, j,
                              j + 8 < STRIDE ? j + 8 : STRIDE);
    expect_true(!memcmp(all, some, sizeof all), "the planes differ");
}
TEST_END

int main(void)
{
    planes_hold_byte_j_of_every_record_in_order();
    planes_made_eight_at_a_time_are_the_same_planes();
    return 0;
}
