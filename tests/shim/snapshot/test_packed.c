/*
 * test_packed.c - hsnap_packed.h's packed BLOCKS records: what
 * hsnap_packed_put makes (the shim's, as it streams BLOCKS) hsnap_packed_get
 * (the CLI's and the dumper's) gives back exactly, for records in address
 * order as the shim writes them, for any records (unsorted, every field at
 * its extremes, the leak check's fields set), and at the sizes the
 * grammar promises (a small-step record in 4 bytes, none over
 * HSNAP_PACKED_MOST); a chunk cut short, with a byte too many, a varint
 * too long or a field out of range is refused, never read past its end.
 */
#include <stdlib.h>
#include <string.h>

#include "hsnap_packed.h"
#include "unit.h"

static uint64_t rnd(uint64_t *s)
{
    *s ^= *s << 13, *s ^= *s >> 7, *s ^= *s << 17;
    return *s;
}

/* count records packed and read back: the bytes they took, or 0 with why
 * in *why (put nothing past count * HSNAP_PACKED_MOST, get the same). */
static size_t round_trip(const struct hsnap_block *b, uint32_t count, const char **why)
{
    uint8_t *p = malloc((size_t)count * HSNAP_PACKED_MOST + 1);
    struct hsnap_block *back = malloc((size_t)count * sizeof *back);
    p[(size_t)count * HSNAP_PACKED_MOST] = 0xa5;
    size_t n = hsnap_packed_put(p, b, count);
    *why = n > (size_t)count * HSNAP_PACKED_MOST || p[(size_t)count * HSNAP_PACKED_MOST] != 0xa5
               ? "written past its bound"
           : hsnap_packed_get((uint8_t *)back, p, n, count) != 0 ? "not read back"
           : memcmp(back, b, (size_t)count * sizeof *b) ? "not the records back"
                                                        : NULL;
    free(p), free(back);
    return *why ? 0 : n;
}

TEST_BEGIN(packed_blocks_read_back_exactly)
{
    enum { N = 16384 };
    struct hsnap_block *b = calloc(N, sizeof *b);
    uint64_t s = 88172645463325252ull, addr = 0x55550000a000ull;
    for (uint32_t i = 0; i < N; i++) { /* the shim's: ascending, few traces, small epochs */
        addr += 32 + 16 * (rnd(&s) % 4);
        b[i] = (struct hsnap_block){.addr = addr, .size = 24 + rnd(&s) % 8,
                                    .trace = (uint32_t)(rnd(&s) % 64), .epoch = 0};
    }
    const char *why;
    size_t n = round_trip(b, N, &why);
    expect_true(n, "ascending: %s", why);
    /* 4 bytes a record, the first address's 6 more */
    expect_true(n == 4u * N + 6, "ascending, 64 traces: %zu bytes for %u records", n, N);
    for (uint32_t i = 0; i < N; i++) /* anything: every field, unsorted, the model's set */
        b[i] = (struct hsnap_block){.addr = rnd(&s), .size = rnd(&s) >> (rnd(&s) % 64),
                                    .trace = (uint32_t)rnd(&s), .epoch = (uint32_t)rnd(&s),
                                    .refcount = i % 3 ? (uint32_t)rnd(&s) : 0,
                                    .cls = (uint8_t)(i % 5 ? rnd(&s) : 0),
                                    .flags = (uint8_t)(i % 7 ? rnd(&s) : 0),
                                    .reserved = (uint16_t)(i % 2 ? rnd(&s) : 0)};
    expect_true(round_trip(b, N, &why), "random: %s", why);
    for (uint32_t i = 0; i < 4; i++) /* the extremes */
        b[i] = (struct hsnap_block){.addr = i & 1 ? UINT64_MAX : 0, .size = UINT64_MAX,
                                    .trace = i & 2 ? UINT32_MAX : 0, .epoch = UINT32_MAX,
                                    .refcount = UINT32_MAX, .cls = 255, .flags = 255,
                                    .reserved = UINT16_MAX};
    expect_true(round_trip(b, 4, &why), "extremes: %s", why);
    free(b);
}
TEST_END

TEST_BEGIN(packed_chunk_damaged_is_refused)
{
    struct hsnap_block b[3] = {{.addr = 0x1000, .size = 300, .trace = 7, .epoch = 2},
                               {.addr = 0x1040, .size = 8, .trace = 5},
                               {.addr = 0x1080, .size = 1, .trace = 5, .cls = 3}};
    uint8_t p[3 * HSNAP_PACKED_MOST + 16], out[3 * sizeof(struct hsnap_block)];
    size_t n = hsnap_packed_put(p, b, 3);
    expect_true(hsnap_packed_get(out, p, n, 3) == 0, "whole");
    for (size_t k = 0; k < n; k++) /* cut anywhere: never read past, always refused */
        expect_true(hsnap_packed_get(out, p, k, 3) < 0, "cut to %zu of %zu bytes", k, n);
    p[n] = 0;
    expect_true(hsnap_packed_get(out, p, n + 1, 3) < 0, "a byte too many");
    expect_true(hsnap_packed_get(out, p, n, 2) < 0, "two records of three's bytes");
    uint8_t longv[] = {0x80, 0x80, 0x80, 0x80, 0x80, 0x80, 0x80, 0x80, 0x80, 0x02, 1, 1, 0};
    expect_true(hsnap_packed_get(out, longv, sizeof longv, 1) < 0, "an address of 65 bits");
    uint8_t trace33[] = {1, 1, 0x80, 0x80, 0x80, 0x80, 0x10, 0};
    expect_true(hsnap_packed_get(out, trace33, sizeof trace33, 1) < 0, "a trace of 33 bits");
    uint8_t empty_more[] = {1, 1, 0, 1, 0, 0, 0, 0};
    expect_true(hsnap_packed_get(out, empty_more, sizeof empty_more, 1) < 0,
                "the rest said present, all zero");
    uint8_t head[HSNAP_PACKED_HEAD] = {0};
    uint32_t count, v[2] = {2, 7};
    memcpy(head, v, sizeof v);
    expect_eq_u64(hsnap_packed_chunk(head, &count), 0); /* under 4 bytes a record */
    v[0] = HSNAP_PACKED_COUNT_MAX + 1, v[1] = 4 * v[0];
    memcpy(head, v, sizeof v);
    expect_eq_u64(hsnap_packed_chunk(head, &count), 0);
    v[0] = 3, v[1] = (uint32_t)n;
    memcpy(head, v, sizeof v);
    expect_eq_u64(hsnap_packed_chunk(head, &count), n);
    expect_eq_u64(count, 3);
}
TEST_END

int main(void)
{
    packed_blocks_read_back_exactly();
    packed_chunk_damaged_is_refused();
    return 0;
}
