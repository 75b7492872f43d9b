/*
 * hsnap_planes.h - a compressed section's records stored in byte planes
 * (hsnap_format.h, HSNAP_ZHEAD_PLANES): a chunk of count records of
 * stride bytes is stored as stride planes, plane j holding byte j of
 * every record in order, so that zstd meets long runs of like bytes (the
 * high bytes of ascending addresses, small indices, flags) instead of
 * records whose fields interleave.  Blosc's "shuffle" filter, done here
 * in a few lines rather than linked: the shim writes the planes as it
 * streams a section, the CLI and the test dumper read them back.
 * Prefix hsnap_planes_.
 */
#ifndef HSNAP_PLANES_H
#define HSNAP_PLANES_H

#include <stddef.h>
#include <stdint.h>
#include <string.h>
#ifdef __SSE2__
#include <emmintrin.h>
#endif

#define HSNAP_PLANES_STRIDE_MAX 64u
#define HSNAP_PLANES_COUNT_MAX 16384u
#define HSNAP_PLANES_HEAD 8u /* a chunk's u32 stride, u32 count */

/* The 8 x 8 bytes of x transposed: byte r of x[c] becomes byte c of x[r]
 * (three rounds of swaps, 2 x 2 blocks of bytes, then of pairs, then of
 * quads: a few operations a byte instead of a load and a store). */
static inline void hsnap_planes_8x8(uint64_t x[8])
{
    for (unsigned r = 0; r < 8; r += 2) {
        uint64_t t = ((x[r] >> 8) ^ x[r + 1]) & 0x00ff00ff00ff00ffull;
        x[r + 1] ^= t, x[r] ^= t << 8;
    }
    for (unsigned r = 0; r < 8; r += r % 4 == 1 ? 3 : 1) {
        uint64_t t = ((x[r] >> 16) ^ x[r + 2]) & 0x0000ffff0000ffffull;
        x[r + 2] ^= t, x[r] ^= t << 16;
    }
    for (unsigned r = 0; r < 4; r++) {
        uint64_t t = ((x[r] >> 32) ^ x[r + 4]) & 0x00000000ffffffffull;
        x[r + 4] ^= t, x[r] ^= t << 32;
    }
}

#ifdef __SSE2__
/* 16 records by 8 bytes (record r's at src + r * stride) into 8 planes of
 * 16 bytes (plane c at dst + c * count): four rounds of interleaving (of
 * bytes, pairs, quads, then halves), a few instructions a 16-byte row
 * where the 8 x 8 swaps take a few a byte (scripts/bench/exitcount.py). */
static inline void hsnap_planes_16x8(uint8_t *dst, size_t count, const uint8_t *src,
                                     size_t stride)
{
    __m128i a[8], b[8], c[8];
    for (unsigned k = 0; k < 8; k++)
        a[k] = _mm_unpacklo_epi8(_mm_loadl_epi64((const __m128i *)(const void *)(src + 2 * k * stride)),
                                 _mm_loadl_epi64((const __m128i *)(const void *)(src + (2 * k + 1) * stride)));
    for (unsigned k = 0; k < 4; k++) { /* b[k]: planes 0-3 of records 4k..4k+3, b[k+4]: 4-7 */
        b[k] = _mm_unpacklo_epi16(a[2 * k], a[2 * k + 1]);
        b[k + 4] = _mm_unpackhi_epi16(a[2 * k], a[2 * k + 1]);
    }
    for (unsigned h = 0; h < 8; h += 4) /* c: planes (2p, 2p+1) of records 0-7, then 8-15 */
        for (unsigned k = 0; k < 2; k++) {
            c[h / 2 + k * 4] = _mm_unpacklo_epi32(b[h + 2 * k], b[h + 2 * k + 1]);
            c[h / 2 + k * 4 + 1] = _mm_unpackhi_epi32(b[h + 2 * k], b[h + 2 * k + 1]);
        }
    for (unsigned p = 0; p < 4; p++) {
        _mm_storeu_si128((__m128i *)(void *)(dst + 2 * p * count), _mm_unpacklo_epi64(c[p], c[p + 4]));
        _mm_storeu_si128((__m128i *)(void *)(dst + (2 * p + 1) * count),
                         _mm_unpackhi_epi64(c[p], c[p + 4]));
    }
}
#endif

/* Planes [j0, j1) of count records of stride bytes at src into dst
 * (plane j at dst + (j - j0) * count): 16 records by 8 bytes at a time
 * with SSE2, else 8 by 8, the rest (the last count % 8 records, a last
 * part of fewer than 8 planes) one byte at a time.  Little-endian. */
static inline void hsnap_planes_put_some(uint8_t *dst, const uint8_t *src, uint32_t stride,
                                         uint32_t count, uint32_t j0, uint32_t j1)
{
    uint32_t whole = count & ~7u, cols = j0 + ((j1 - j0) & ~7u), i0 = 0;
#ifdef __SSE2__
    for (i0 = 0; i0 + 16 <= count; i0 += 16)
        for (uint32_t j = j0; j < cols; j += 8)
            hsnap_planes_16x8(dst + (size_t)(j - j0) * count + i0, count,
                              src + (size_t)i0 * stride + j, stride);
#endif
    for (uint32_t i = i0; i < whole; i += 8)
        for (uint32_t j = j0; j < cols; j += 8) {
            uint64_t x[8];
            for (unsigned r = 0; r < 8; r++)
                memcpy(&x[r], src + (size_t)(i + r) * stride + j, 8);
            hsnap_planes_8x8(x);
            for (unsigned c = 0; c < 8; c++)
                memcpy(dst + (size_t)(j - j0 + c) * count + i, &x[c], 8);
        }
    for (uint32_t j = j0; j < j1; j++)
        for (uint32_t i = j < cols ? whole : 0; i < count; i++)
            dst[(size_t)(j - j0) * count + i] = src[(size_t)i * stride + j];
}

/* count records of stride bytes at src into planes at dst. */
static inline void hsnap_planes_put(uint8_t *dst, const uint8_t *src, uint32_t stride,
                                    uint32_t count)
{
    hsnap_planes_put_some(dst, src, stride, count, 0, stride);
}

#ifdef __SSE2__
/* hsnap_planes_16x8 the other way: 8 planes of 16 bytes (plane c at src +
 * c * count) into 16 records by 8 bytes (record r's at dst + r * stride):
 * three rounds of interleaving (bytes, pairs, quads), each vector then
 * two records.  The CLI reads every planar section through this (a
 * PyTorch snapshot's STATS and PEAK: 44 MB), where a byte at a time was
 * a tenth of run's summary. */
static inline void hsnap_planes_8x16(uint8_t *dst, size_t stride, const uint8_t *src,
                                     size_t count)
{
    __m128i a[8], b[8], c[8];
    for (unsigned p = 0; p < 8; p++)
        a[p] = _mm_loadu_si128((const __m128i *)(const void *)(src + p * count));
    for (unsigned k = 0; k < 4; k++) { /* b[k]: planes 2k, 2k+1 of records 0-7; b[k+4]: 8-15 */
        b[k] = _mm_unpacklo_epi8(a[2 * k], a[2 * k + 1]);
        b[k + 4] = _mm_unpackhi_epi8(a[2 * k], a[2 * k + 1]);
    }
    for (unsigned h = 0; h < 8; h += 4) { /* c[h..h+3]: planes 0-3, 4-7 of records 0-3, 4-7 */
        c[h] = _mm_unpacklo_epi16(b[h], b[h + 1]);
        c[h + 1] = _mm_unpackhi_epi16(b[h], b[h + 1]);
        c[h + 2] = _mm_unpacklo_epi16(b[h + 2], b[h + 3]);
        c[h + 3] = _mm_unpackhi_epi16(b[h + 2], b[h + 3]);
    }
    for (unsigned h = 0; h < 8; h += 4)
        for (unsigned k = 0; k < 2; k++) { /* records 2 at a time, 8 planes each */
            unsigned r = 2 * h + 4 * k;
            __m128i lo = _mm_unpacklo_epi32(c[h + k], c[h + k + 2]),
                    hi = _mm_unpackhi_epi32(c[h + k], c[h + k + 2]);
            __m128i lo2 = _mm_unpackhi_epi64(lo, lo), hi2 = _mm_unpackhi_epi64(hi, hi);
            _mm_storel_epi64((__m128i *)(void *)(dst + r * stride), lo);
            _mm_storel_epi64((__m128i *)(void *)(dst + (r + 1) * stride), lo2);
            _mm_storel_epi64((__m128i *)(void *)(dst + (r + 2) * stride), hi);
            _mm_storel_epi64((__m128i *)(void *)(dst + (r + 3) * stride), hi2);
        }
}
#endif

/* The planes at src back into count records of stride bytes at dst: 8
 * planes by 16 records at a time with SSE2, else 8 by 8 (hsnap_planes_8x8
 * is its own inverse), the rest a byte at a time. */
static inline void hsnap_planes_get(uint8_t *dst, const uint8_t *src, uint32_t stride,
                                    uint32_t count)
{
    uint32_t whole = count & ~7u, cols = stride & ~7u, i0 = 0;
#ifdef __SSE2__
    for (i0 = 0; i0 + 16 <= count; i0 += 16)
        for (uint32_t j = 0; j < cols; j += 8)
            hsnap_planes_8x16(dst + (size_t)i0 * stride + j, stride, src + (size_t)j * count + i0,
                              count);
#endif
    for (uint32_t i = i0; i < whole; i += 8)
        for (uint32_t j = 0; j < cols; j += 8) {
            uint64_t x[8];
            for (unsigned c = 0; c < 8; c++)
                memcpy(&x[c], src + (size_t)(j + c) * count + i, 8);
            hsnap_planes_8x8(x);
            for (unsigned r = 0; r < 8; r++)
                memcpy(dst + (size_t)(i + r) * stride + j, &x[r], 8);
        }
    for (uint32_t j = 0; j < stride; j++)
        for (uint32_t i = j < cols ? whole : 0; i < count; i++)
            dst[(size_t)i * stride + j] = src[(size_t)j * count + i];
}

/* A chunk's head read: its bytes (stride * count), or 0 when out of
 * bounds. */
static inline size_t hsnap_planes_chunk(const uint8_t head[HSNAP_PLANES_HEAD], uint32_t *stride,
                                        uint32_t *count)
{
    memcpy(stride, head, 4);
    memcpy(count, head + 4, 4);
    if (*stride < 1 || *stride > HSNAP_PLANES_STRIDE_MAX || *count < 1 ||
        *count > HSNAP_PLANES_COUNT_MAX)
        return 0;
    return (size_t)*stride * *count;
}

#endif
