/*
 * hsnap_packed.h - BLOCKS stored packed (hsnap_format.h,
 * HSNAP_ZHEAD_PACKED): a chunk of struct hsnap_block records as varints
 * of what changes from one record to the next.  In address order (a
 * run's, bstream_runs), a block's address is past the one before, its
 * size small, its trace near the one before at a few stacks and its
 * epoch small, so a 32-byte record takes 4-8 bytes before zstd sees it,
 * where zstd and the byte planes spent ~215 of a kept block's ~715
 * exit-snapshot instructions on all 32 (scripts/bench/instrcount.py,
 * --only kept).  The shim packs as it streams BLOCKS, the
 * CLI and the test dumper unpack; a chunk is checked whole (every varint
 * inside it, every field in range, exactly its bytes used) before its
 * records are handed on.
 *
 *   chunk  := u32 count (1..HSNAP_PACKED_COUNT_MAX), u32 bytes, record[count]
 *             taking exactly bytes bytes (at most count * HSNAP_PACKED_MOST)
 *   record := uv(addr - addr before), uv(size), uv(zigzag(trace - trace before)),
 *             uv(epoch << 1 | more), then when more: uv(refcount), u8 cls,
 *             u8 flags, uv(reserved)
 *   uv     := LEB128, at most 10 bytes; the differences wrap (mod 2^64 for
 *             addresses, 2^32 for traces) and the record before a chunk's
 *             first is all zero, so any records pack, sorted or not.
 * Prefix hsnap_packed_.
 */
#ifndef HSNAP_PACKED_H
#define HSNAP_PACKED_H

#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include "hsnap_format.h"

#define HSNAP_PACKED_HEAD 8u           /* a chunk's u32 count, u32 bytes */
#define HSNAP_PACKED_COUNT_MAX 16384u  /* records in a chunk */
#define HSNAP_PACKED_MOST 40u          /* a record's bytes at most: 10+10+5+5, 5+1+1+3 */

static inline uint8_t *hsnap_packed_uv(uint8_t *p, uint64_t v)
{
    while (v >= 0x80) {
        *p++ = (uint8_t)(v | 0x80);
        v >>= 7;
    }
    *p++ = (uint8_t)v;
    return p;
}

/* count records at src packed into dst (room for count *
 * HSNAP_PACKED_MOST bytes); the bytes written. */
static inline size_t hsnap_packed_put(uint8_t *dst, const struct hsnap_block *src,
                                      uint32_t count)
{
    uint8_t *p = dst;
    uint64_t addr = 0;
    uint32_t trace = 0;
    for (uint32_t i = 0; i < count; i++) {
        const struct hsnap_block *b = &src[i];
        uint32_t dt = b->trace - trace;
        unsigned more = (b->refcount | b->cls | b->flags | b->reserved) != 0;
        p = hsnap_packed_uv(p, b->addr - addr);
        p = hsnap_packed_uv(p, b->size);
        p = hsnap_packed_uv(p, (uint32_t)(dt << 1) ^ (uint32_t)-(dt >> 31));
        p = hsnap_packed_uv(p, (uint64_t)b->epoch << 1 | more);
        if (more) {
            p = hsnap_packed_uv(p, b->refcount);
            *p++ = b->cls;
            *p++ = b->flags;
            p = hsnap_packed_uv(p, b->reserved);
        }
        addr = b->addr;
        trace = b->trace;
    }
    return (size_t)(p - dst);
}

/* A varint at *p, not past end, of at most bits bits; 0, or -1. */
static inline int hsnap_packed_rv(const uint8_t **p, const uint8_t *end, unsigned bits,
                                  uint64_t *v)
{
    uint64_t x = 0;
    for (unsigned s = 0; s < 70 && *p < end; s += 7) {
        uint8_t c = *(*p)++;
        if (s == 63 && c > 1)
            return -1;
        x |= (uint64_t)(c & 0x7f) << s;
        if (!(c & 0x80)) {
            *v = x;
            return bits < 64 && x >> bits ? -1 : 0;
        }
    }
    return -1;
}

/* A chunk's head read: its packed bytes, or 0 when out of bounds. */
static inline size_t hsnap_packed_chunk(const uint8_t head[HSNAP_PACKED_HEAD], uint32_t *count)
{
    uint32_t n;
    memcpy(count, head, 4);
    memcpy(&n, head + 4, 4);
    if (*count < 1 || *count > HSNAP_PACKED_COUNT_MAX || n < 4u * *count ||
        n > HSNAP_PACKED_MOST * *count)
        return 0;
    return n;
}

/* The n packed bytes at src back into count records at dst (count *
 * sizeof(struct hsnap_block) bytes, any alignment); 0, or -1 when they do
 * not make exactly count records. */
static inline int hsnap_packed_get(uint8_t *dst, const uint8_t *src, size_t n, uint32_t count)
{
    const uint8_t *p = src, *end = src + n;
    struct hsnap_block b = {0};
    for (uint32_t i = 0; i < count; i++) {
        uint64_t da, size, zt, em, rc = 0, res = 0;
        if (hsnap_packed_rv(&p, end, 64, &da) || hsnap_packed_rv(&p, end, 64, &size) ||
            hsnap_packed_rv(&p, end, 32, &zt) || hsnap_packed_rv(&p, end, 33, &em))
            return -1;
        b.addr += da;
        b.size = size;
        b.trace += (uint32_t)(zt >> 1) ^ (uint32_t)-(uint32_t)(zt & 1);
        b.epoch = (uint32_t)(em >> 1);
        b.refcount = 0;
        b.cls = b.flags = 0;
        b.reserved = 0;
        if (em & 1) {
            if (hsnap_packed_rv(&p, end, 32, &rc) || end - p < 2)
                return -1;
            b.refcount = (uint32_t)rc;
            b.cls = *p++;
            b.flags = *p++;
            if (hsnap_packed_rv(&p, end, 16, &res) || !(rc | b.cls | b.flags | res))
                return -1;
            b.reserved = (uint16_t)res;
        }
        memcpy(dst + (size_t)i * sizeof b, &b, sizeof b);
    }
    return p == end ? 0 : -1;
}

#endif
