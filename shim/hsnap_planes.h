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

#define HSNAP_PLANES_STRIDE_MAX 64u
#define HSNAP_PLANES_COUNT_MAX 16384u
#define HSNAP_PLANES_HEAD 8u /* a chunk's u32 stride, u32 count */

/* count records of stride bytes at src into planes at dst. */
static inline void hsnap_planes_put(uint8_t *dst, const uint8_t *src, uint32_t stride,
                                    uint32_t count)
{
    for (uint32_t j = 0; j < stride; j++)
        for (uint32_t i = 0; i < count; i++)
            dst[(size_t)j * count + i] = src[(size_t)i * stride + j];
}

/* The planes at src back into count records of stride bytes at dst. */
static inline void hsnap_planes_get(uint8_t *dst, const uint8_t *src, uint32_t stride,
                                    uint32_t count)
{
    for (uint32_t j = 0; j < stride; j++)
        for (uint32_t i = 0; i < count; i++)
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
