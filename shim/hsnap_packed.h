/*
 * hsnap_packed.h - BLOCKS stored packed (hsnap_format.h,
 * HSNAP_ZHEAD_PACKED, HSNAP_ZHEAD_FORMED): a chunk of struct hsnap_block
 * records as varints of what changes from one record to the next.  In
 * address order (a run's, bstream_runs), a block's address is past the one
 * before, its size small, its trace near the one before at a few stacks
 * and its epoch small, so a 32-byte record takes 4-8 bytes before zstd
 * sees it, where zstd and the byte planes spent ~215 of a kept block's
 * ~715 exit-snapshot instructions on all 32 (scripts/bench/instrcount.py,
 * --only kept).  The formed chunks (format 7, the shim's) say once, in a
 * form byte, what most chunks share: addresses aligned (the difference in
 * 16s), one epoch, no leak check's fields; a record is then 3 varints
 * (packed_formed_lean_in_three_bytes), fewer bytes for zstd to chew,
 * which it packs tighter too (scripts/bench/instrcount.py).  The shim
 * packs as it streams BLOCKS, the CLI and the test dumper unpack both; a
 * chunk is checked whole (every varint inside it, every field in range,
 * exactly its bytes used) before its records are handed on.
 *
 *   chunk  := u32 count (1..HSNAP_PACKED_COUNT_MAX), u32 bytes, record[count]
 *             taking exactly bytes bytes (at most count * HSNAP_PACKED_MOST)
 *   record := uv(addr - addr before), uv(size), uv(zigzag(trace - trace before)),
 *             uv(epoch << 1 | more), then when more: uv(refcount), u8 cls,
 *             u8 flags, uv(reserved)
 *   uv     := LEB128, at most 10 bytes; the differences wrap (mod 2^64 for
 *             addresses, 2^32 for traces) and the record before a chunk's
 *             first is all zero, so any records pack, sorted or not.
 *
 *   formed chunk (format 7) := u32 count, u32 bytes, u8 form,
 *             uv(epoch) unless form has HSNAP_PACKED_RICH, frecord[count],
 *             all in exactly bytes bytes (from the form on; at most
 *             HSNAP_PACKED_LEAD + count * HSNAP_PACKED_MOST)
 *   form   := shift (bits 0-2, 0..HSNAP_PACKED_SHIFT_MAX) | HSNAP_PACKED_RICH
 *   frecord := uv((addr - addr before) >> shift), uv(size),
 *             uv(zigzag(trace - trace before)), then with RICH what a
 *             record has after them; else its epoch is the chunk's, the
 *             rest 0.  Every address of the chunk is a multiple of
 *             2^shift, so the differences are too (mod 2^64).
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
#define HSNAP_PACKED_LEAD 6u           /* a formed chunk's form and epoch at most */
#define HSNAP_PACKED_SHIFT_MAX 4u      /* a form's shift at most: 16-byte alignment */
#define HSNAP_PACKED_RICH 0x8u         /* form: records carry epoch and the model's fields */

static inline uint8_t *hsnap_packed_uv(uint8_t *p, uint64_t v)
{
    while (v >= 0x80) {
        *p++ = (uint8_t)(v | 0x80);
        v >>= 7;
    }
    *p++ = (uint8_t)v;
    return p;
}

/* count records at src as records of form at p (a formed chunk's, or with
 * HSNAP_PACKED_RICH and shift 0 format 6's: the same fields); *low gathers
 * the addresses' bits, *rich whether a record is of an epoch other than
 * epoch or has the model's fields.  The end of what was written.  Always
 * inlined: a constant form leaves its branches out. */
static inline __attribute__((always_inline)) uint8_t *
hsnap_packed_put_records(uint8_t *p, const struct hsnap_block *src, uint32_t count, unsigned form,
                         uint32_t epoch, uint64_t *low, uint64_t *rich)
{
    const unsigned shift = form & 7u;
    uint64_t addr = 0, lo = 0, ri = 0;
    uint32_t trace = 0;
    for (uint32_t i = 0; i < count; i++) {
        const struct hsnap_block *b = &src[i];
        uint32_t dt = b->trace - trace, model = b->refcount | b->cls | b->flags | b->reserved;
        lo |= b->addr;
        ri |= (b->epoch ^ epoch) | model;
        p = hsnap_packed_uv(p, (b->addr - addr) >> shift);
        p = hsnap_packed_uv(p, b->size);
        p = hsnap_packed_uv(p, (uint32_t)(dt << 1) ^ (uint32_t)-(dt >> 31));
        if (form & HSNAP_PACKED_RICH) {
            p = hsnap_packed_uv(p, (uint64_t)b->epoch << 1 | (model != 0));
            if (model) {
                p = hsnap_packed_uv(p, b->refcount);
                *p++ = b->cls;
                *p++ = b->flags;
                p = hsnap_packed_uv(p, b->reserved);
            }
        }
        addr = b->addr;
        trace = b->trace;
    }
    *low = lo;
    *rich = ri;
    return p;
}

/* count records at src packed into dst (room for count *
 * HSNAP_PACKED_MOST bytes), format 6's chunk; the bytes written. */
static inline size_t hsnap_packed_put(uint8_t *dst, const struct hsnap_block *src,
                                      uint32_t count)
{
    uint64_t low, rich;
    return (size_t)(hsnap_packed_put_records(dst, src, count, HSNAP_PACKED_RICH, 0, &low, &rich) -
                    dst);
}

/* A formed chunk's form and epoch at dst; the end of them. */
static inline uint8_t *hsnap_packed_put_lead(uint8_t *dst, unsigned form, uint32_t epoch)
{
    *dst++ = (uint8_t)form;
    return form & HSNAP_PACKED_RICH ? dst : hsnap_packed_uv(dst, epoch);
}

/* count (>= 1) records at src as a formed chunk's bytes after its head,
 * into dst (room for HSNAP_PACKED_LEAD + count * HSNAP_PACKED_MOST): the
 * lean form when the records allow (the shim's streamed BLOCKS: aligned,
 * one epoch, no model), tried first in one pass that sees whether they
 * do; else packed again in the form they need.  The bytes written. */
static inline size_t hsnap_packed_put_formed(uint8_t *dst, const struct hsnap_block *src,
                                             uint32_t count)
{
    const uint32_t epoch = src[0].epoch;
    uint64_t low, rich;
    uint8_t *p = hsnap_packed_put_lead(dst, HSNAP_PACKED_SHIFT_MAX, epoch);
    p = hsnap_packed_put_records(p, src, count, HSNAP_PACKED_SHIFT_MAX, epoch, &low, &rich);
    unsigned shift = 0;
    while (shift < HSNAP_PACKED_SHIFT_MAX && !(low >> shift & 1))
        shift++;
    const unsigned form = shift | (rich ? HSNAP_PACKED_RICH : 0u);
    if (form == HSNAP_PACKED_SHIFT_MAX)
        return (size_t)(p - dst);
    p = hsnap_packed_put_lead(dst, form, epoch);
    return (size_t)(hsnap_packed_put_records(p, src, count, form, epoch, &low, &rich) - dst);
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

/* A formed chunk's head read: its bytes after the head, or 0 when out
 * of bounds. */
static inline size_t hsnap_packed_chunk_formed(const uint8_t head[HSNAP_PACKED_HEAD],
                                               uint32_t *count)
{
    uint32_t n;
    memcpy(count, head, 4);
    memcpy(&n, head + 4, 4);
    if (*count < 1 || *count > HSNAP_PACKED_COUNT_MAX || n < 2u + 3u * *count ||
        n > HSNAP_PACKED_LEAD + HSNAP_PACKED_MOST * *count)
        return 0;
    return n;
}

/* count records of form (as hsnap_packed_put_records writes them; epoch:
 * the chunk's) from *p, not past end, into dst (count * sizeof(struct
 * hsnap_block) bytes, any alignment); 0, or -1 when a varint runs past
 * end or a field is out of range (an address's difference of more than
 * 64 bits once shifted back, the model's fields said present but all 0). */
static inline int hsnap_packed_get_records(uint8_t *dst, const uint8_t **p, const uint8_t *end,
                                           uint32_t count, unsigned form, uint64_t epoch)
{
    const unsigned shift = form & 7u;
    struct hsnap_block b = {0};
    for (uint32_t i = 0; i < count; i++) {
        uint64_t da, size, zt, em = epoch << 1, rc = 0, res = 0;
        if (hsnap_packed_rv(p, end, 64 - shift, &da) || hsnap_packed_rv(p, end, 64, &size) ||
            hsnap_packed_rv(p, end, 32, &zt) ||
            ((form & HSNAP_PACKED_RICH) && hsnap_packed_rv(p, end, 33, &em)))
            return -1;
        b.addr += da << shift;
        b.size = size;
        b.trace += (uint32_t)(zt >> 1) ^ (uint32_t)-(uint32_t)(zt & 1);
        b.epoch = (uint32_t)(em >> 1);
        b.refcount = 0;
        b.cls = b.flags = 0;
        b.reserved = 0;
        if (em & 1) {
            if (hsnap_packed_rv(p, end, 32, &rc) || end - *p < 2)
                return -1;
            b.refcount = (uint32_t)rc;
            b.cls = *(*p)++;
            b.flags = *(*p)++;
            if (hsnap_packed_rv(p, end, 16, &res) || !(rc | b.cls | b.flags | res))
                return -1;
            b.reserved = (uint16_t)res;
        }
        memcpy(dst + (size_t)i * sizeof b, &b, sizeof b);
    }
    return 0;
}

/* The n packed bytes at src (format 6's chunk) back into count records at
 * dst (count * sizeof(struct hsnap_block) bytes, any alignment); 0, or -1
 * when they do not make exactly count records. */
static inline int hsnap_packed_get(uint8_t *dst, const uint8_t *src, size_t n, uint32_t count)
{
    const uint8_t *p = src, *end = src + n;
    return hsnap_packed_get_records(dst, &p, end, count, HSNAP_PACKED_RICH, 0) || p != end ? -1
                                                                                            : 0;
}

/* A formed chunk's n bytes after its head at src back into count records
 * at dst (as hsnap_packed_get); 0, or -1 when they do not make exactly
 * count records of a form written (shift in range, no unknown bit). */
static inline int hsnap_packed_get_formed(uint8_t *dst, const uint8_t *src, size_t n,
                                          uint32_t count)
{
    const uint8_t *p = src, *end = src + n;
    uint64_t epoch = 0;
    if (n < 1)
        return -1;
    const unsigned form = *p++;
    if ((form & ~(7u | HSNAP_PACKED_RICH)) || (form & 7u) > HSNAP_PACKED_SHIFT_MAX)
        return -1;
    if (!(form & HSNAP_PACKED_RICH) && hsnap_packed_rv(&p, end, 32, &epoch))
        return -1;
    return hsnap_packed_get_records(dst, &p, end, count, form, epoch) || p != end ? -1 : 0;
}

#endif
