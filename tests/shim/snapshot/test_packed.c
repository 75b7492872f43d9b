/*
 * test_packed.c - hsnap_packed.h's packed BLOCKS records: what
 * hsnap_packed_put makes (the shim's, as it streams BLOCKS) hsnap_packed_get
 * (the CLI's and the dumper's) gives back exactly, for records in address
 * order as the shim writes them, for any records (unsorted, every field at
 * its extremes, the leak check's fields set), and at the sizes the
 * grammar promises (a small-step record in 4 bytes, none over
 * HSNAP_PACKED_MOST); a chunk cut short, with a byte too many, a varint
 * too long or a field out of range is refused, never read past its end.
 * The same for the formed chunks of format 7 (hsnap_packed_put_formed,
 * the shim's since): the lean form where the records allow it (3 bytes a
 * small-step record), the form they need where they do not (addresses
 * off 16-byte alignment, epochs apart, the model's fields).
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
static size_t round_trip_as(const struct hsnap_block *b, uint32_t count, int formed,
                           const char **why)
{
    size_t most = (size_t)count * HSNAP_PACKED_MOST + (formed ? HSNAP_PACKED_LEAD : 0);
    uint8_t *p = malloc(most + 1);
    struct hsnap_block *back = malloc((size_t)count * sizeof *back);
    p[most] = 0xa5;
    size_t n = formed ? hsnap_packed_put_formed(p, b, count) : hsnap_packed_put(p, b, count);
    uint8_t head[HSNAP_PACKED_HEAD];
    uint32_t v[2] = {count, (uint32_t)n}, got = 0;
    memcpy(head, v, sizeof v);
    *why = n > most || p[most] != 0xa5 ? "written past its bound"
           : (formed ? hsnap_packed_chunk_formed(head, &got) : hsnap_packed_chunk(head, &got)) != n
               ? "its head out of the chunk's bounds"
           : (formed ? hsnap_packed_get_formed : hsnap_packed_get)((uint8_t *)back, p, n,
                                                                  count) != 0
               ? "not read back"
           : memcmp(back, b, (size_t)count * sizeof *b) ? "not the records back"
                                                        : NULL;
    free(p), free(back);
    return *why ? 0 : n;
}

static size_t round_trip(const struct hsnap_block *b, uint32_t count, const char **why)
{
    return round_trip_as(b, count, 0, why);
}

/* N records as the shim streams them (ascending, 16-byte aligned, 64
 * traces, one epoch) from seed s. */
static void shim_like(struct hsnap_block *b, uint32_t n, uint64_t *s)
{
    uint64_t addr = 0x55550000a000ull;
    for (uint32_t i = 0; i < n; i++) {
        addr += 32 + 16 * (rnd(s) % 4);
        b[i] = (struct hsnap_block){.addr = addr, .size = 24 + rnd(s) % 8,
                                    .trace = (uint32_t)(rnd(s) % 64), .epoch = 3};
    }
}

/* N records of anything: every field, unsorted, the model's set. */
static void any_records(struct hsnap_block *b, uint32_t n, uint64_t *s)
{
    for (uint32_t i = 0; i < n; i++)
        b[i] = (struct hsnap_block){.addr = rnd(s), .size = rnd(s) >> (rnd(s) % 64),
                                    .trace = (uint32_t)rnd(s), .epoch = (uint32_t)rnd(s),
                                    .refcount = i % 3 ? (uint32_t)rnd(s) : 0,
                                    .cls = (uint8_t)(i % 5 ? rnd(s) : 0),
                                    .flags = (uint8_t)(i % 7 ? rnd(s) : 0),
                                    .reserved = (uint16_t)(i % 2 ? rnd(s) : 0)};
}

TEST_BEGIN(packed_blocks_read_back_exactly)
{
    enum { N = 16384 };
    struct hsnap_block *b = calloc(N, sizeof *b);
    uint64_t s = 88172645463325252ull;
    shim_like(b, N, &s);
    const char *why;
    size_t n = round_trip(b, N, &why);
    expect_true(n, "ascending: %s", why);
    /* 4 bytes a record, the first address's 6 more */
    expect_true(n == 4u * N + 6, "ascending, 64 traces: %zu bytes for %u records", n, N);
    any_records(b, N, &s);
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

TEST_BEGIN(packed_formed_lean_in_three_bytes)
{
    enum { N = 16384 };
    struct hsnap_block *b = calloc(N, sizeof *b);
    uint64_t s = 88172645463325252ull;
    shim_like(b, N, &s);
    const char *why;
    size_t n = round_trip_as(b, N, 1, &why);
    expect_true(n, "lean: %s", why);
    /* 3 bytes a record (its address's step in 16s, its size, its trace's
     * step), the first address's 6 more, the form and the epoch 2 */
    expect_true(n == 3u * N + 6 + 2, "lean, 64 traces: %zu bytes for %u records", n, N);
    /* format 6's: 4 bytes a record, its first address 7 */
    expect_eq_u64(n ? round_trip(b, N, &why) - n : 0, (uint64_t)N - 2);
    free(b);
}
TEST_END

TEST_BEGIN(packed_formed_takes_what_records_need)
{
    enum { N = 4096 };
    struct hsnap_block *b = calloc(N, sizeof *b);
    uint64_t s = 0x9e3779b97f4a7c15ull;
    const char *why;
    /* one thing off the lean form at a time, first, in the middle, last */
    for (uint32_t at = 0; at < N; at += N / 2 - 1) {
        const char *what[] = {"an address 8-aligned", "an odd address", "an epoch apart",
                              "a refcount", "a class", "flags", "reserved"};
        for (unsigned k = 0; k < sizeof what / sizeof *what; k++) {
            shim_like(b, N, &s);
            switch (k) {
            case 0: b[at].addr += 8; break;
            case 1: b[at].addr += 1; break;
            case 2: b[at].epoch = 4; break;
            case 3: b[at].refcount = 2; break;
            case 4: b[at].cls = HSNAP_CLASS_DIRECT; break;
            case 5: b[at].flags = HSNAP_BLOCK_START; break;
            default: b[at].reserved = 1; break;
            }
            expect_true(round_trip_as(b, N, 1, &why), "%s at %u: %s", what[k], at, why);
        }
    }
    any_records(b, N, &s);
    expect_true(round_trip_as(b, N, 1, &why), "random: %s", why);
    for (uint32_t i = 0; i < 4; i++) /* the extremes, the lean form's too */
        b[i] = (struct hsnap_block){.addr = i & 1 ? UINT64_MAX - 15 : 0, .size = UINT64_MAX,
                                    .trace = i & 2 ? UINT32_MAX : 0, .epoch = UINT32_MAX};
    expect_true(round_trip_as(b, 4, 1, &why), "extremes, lean: %s", why);
    b[1].addr = UINT64_MAX, b[2].refcount = UINT32_MAX, b[2].cls = 255, b[3].reserved = 65535;
    expect_true(round_trip_as(b, 4, 1, &why), "extremes: %s", why);
    expect_true(round_trip_as(b, 1, 1, &why), "one record: %s", why);
    free(b);
}
TEST_END

TEST_BEGIN(packed_formed_chunk_damaged_is_refused)
{
    struct hsnap_block b[3] = {{.addr = 0x1000, .size = 300, .trace = 7, .epoch = 2},
                               {.addr = 0x1040, .size = 8, .trace = 5, .epoch = 2},
                               {.addr = 0x1080, .size = 1, .trace = 5, .epoch = 2}};
    uint8_t p[3 * HSNAP_PACKED_MOST + HSNAP_PACKED_LEAD + 16], out[3 * sizeof(struct hsnap_block)];
    for (int rich = 0; rich < 2; rich++) {
        b[2].cls = rich ? 3 : 0;
        size_t n = hsnap_packed_put_formed(p, b, 3);
        expect_eq_u64(p[0], rich ? 4u | HSNAP_PACKED_RICH : 4u); /* its form */
        expect_true(hsnap_packed_get_formed(out, p, n, 3) == 0, "whole, rich %d", rich);
        for (size_t k = 0; k < n; k++) /* cut anywhere: never read past, always refused */
            expect_true(hsnap_packed_get_formed(out, p, k, 3) < 0, "cut to %zu of %zu bytes", k, n);
        p[n] = 0;
        expect_true(hsnap_packed_get_formed(out, p, n + 1, 3) < 0, "a byte too many");
        expect_true(hsnap_packed_get_formed(out, p, n, 2) < 0, "two records of three's bytes");
        uint8_t form = p[0];
        p[0] = (uint8_t)(form | 0x10);
        expect_true(hsnap_packed_get_formed(out, p, n, 3) < 0, "a form with a bit unknown");
        p[0] = (uint8_t)((form & ~7u) | (HSNAP_PACKED_SHIFT_MAX + 1));
        expect_true(hsnap_packed_get_formed(out, p, n, 3) < 0, "a shift past 4");
        p[0] = form;
    }
    /* an address's step of 61 bits in 16s: 65 once shifted back */
    uint8_t wide[] = {4, 0, 0x80, 0x80, 0x80, 0x80, 0x80, 0x80, 0x80, 0x80, 0x10, 1, 1};
    expect_true(hsnap_packed_get_formed(out, wide, sizeof wide, 1) < 0, "an address of 65 bits");
    wide[10] = 0x0f; /* 60 bits: in range */
    expect_true(hsnap_packed_get_formed(out, wide, sizeof wide, 1) == 0, "an address of 64 bits");
    uint8_t epoch33[] = {4, 0x80, 0x80, 0x80, 0x80, 0x10, 1, 1, 0};
    expect_true(hsnap_packed_get_formed(out, epoch33, sizeof epoch33, 1) < 0, "an epoch of 33 bits");
    uint8_t empty_more[] = {HSNAP_PACKED_RICH, 1, 1, 0, 1, 0, 0, 0, 0};
    expect_true(hsnap_packed_get_formed(out, empty_more, sizeof empty_more, 1) < 0,
                "the rest said present, all zero");
    uint8_t head[HSNAP_PACKED_HEAD] = {0};
    uint32_t count, v[2] = {2, 7};
    memcpy(head, v, sizeof v);
    expect_eq_u64(hsnap_packed_chunk_formed(head, &count), 0); /* under 3 bytes a record */
    v[1] = 8;
    memcpy(head, v, sizeof v);
    expect_eq_u64(hsnap_packed_chunk_formed(head, &count), 8);
    v[1] = HSNAP_PACKED_LEAD + 2 * HSNAP_PACKED_MOST + 1;
    memcpy(head, v, sizeof v);
    expect_eq_u64(hsnap_packed_chunk_formed(head, &count), 0);
    v[0] = HSNAP_PACKED_COUNT_MAX + 1, v[1] = 4 * v[0];
    memcpy(head, v, sizeof v);
    expect_eq_u64(hsnap_packed_chunk_formed(head, &count), 0);
}
TEST_END

int main(void)
{
    packed_blocks_read_back_exactly();
    packed_chunk_damaged_is_refused();
    packed_formed_lean_in_three_bytes();
    packed_formed_takes_what_records_need();
    packed_formed_chunk_damaged_is_refused();
    return 0;
}
