/*
 * crc.c - the snapshot's and the state document's checksum: zlib's crc32
 * (the reflected polynomial 0xedb88320, hsnap_format.h's section crc32),
 * the same value as crc32_z gives, made with carry-less multiplication
 * where the CPU has it.  Every section is checksummed as it is written
 * (side_write), and each state document again as it is copied in
 * (state_publish): with zlib's table walk (1.2.13) alone, 12 M of the
 * 153 M instructions of `python3 -c pass` under the shim (callgrind),
 * nearly all on the helper thread; folded 64 bytes a turn with PCLMULQDQ
 * (Intel's "Fast CRC Computation for Generic Polynomials Using
 * PCLMULQDQ", as Chromium's zlib does), under 1 M.  The tail under 16
 * bytes, and buffers under 64, go to crc32_z.  The CPU is read as
 * scrub_init reads it (the loader's CPU_FEATURE_ACTIVE, not cpuid).
 * Prefix crc_.
 */
#include <immintrin.h>
#include <stdint.h>
#include <sys/platform/x86.h>
#include <zlib.h>

#include "base.h"

/* The fold of buf (len >= 64) into crc, both in the pre- and
 * post-inverted form zlib keeps inside crc32_z (the caller inverts);
 * len is consumed down to under 16 bytes, the rest left to the caller. */
__attribute__((target("pclmul,sse4.1"))) static uint32_t
crc_fold(const unsigned char **bufp, size_t *lenp, uint32_t crc)
{
    static const uint64_t __attribute__((aligned(16))) k1k2[] = {0x0154442bd4, 0x01c6e41596};
    static const uint64_t __attribute__((aligned(16))) k3k4[] = {0x01751997d0, 0x00ccaa009e};
    static const uint64_t __attribute__((aligned(16))) k5k0[] = {0x0163cd6124, 0x0000000000};
    static const uint64_t __attribute__((aligned(16))) poly[] = {0x01db710641, 0x01f7011641};
    const unsigned char *buf = *bufp;
    size_t len = *lenp;
    __m128i x0, x1, x2, x3, x4, x5, x6, x7, x8, y5, y6, y7, y8;

    x1 = _mm_loadu_si128((const __m128i *)(const void *)(buf + 0x00));
    x2 = _mm_loadu_si128((const __m128i *)(const void *)(buf + 0x10));
    x3 = _mm_loadu_si128((const __m128i *)(const void *)(buf + 0x20));
    x4 = _mm_loadu_si128((const __m128i *)(const void *)(buf + 0x30));
    x1 = _mm_xor_si128(x1, _mm_cvtsi32_si128((int)crc));
    x0 = _mm_load_si128((const __m128i *)(const void *)k1k2);
    buf += 64;
    len -= 64;
    while (len >= 64) { /* four lanes folded 512 bits forward */
        x5 = _mm_clmulepi64_si128(x1, x0, 0x00);
        x6 = _mm_clmulepi64_si128(x2, x0, 0x00);
        x7 = _mm_clmulepi64_si128(x3, x0, 0x00);
        x8 = _mm_clmulepi64_si128(x4, x0, 0x00);
        x1 = _mm_clmulepi64_si128(x1, x0, 0x11);
        x2 = _mm_clmulepi64_si128(x2, x0, 0x11);
        x3 = _mm_clmulepi64_si128(x3, x0, 0x11);
        x4 = _mm_clmulepi64_si128(x4, x0, 0x11);
        y5 = _mm_loadu_si128((const __m128i *)(const void *)(buf + 0x00));
        y6 = _mm_loadu_si128((const __m128i *)(const void *)(buf + 0x10));
        y7 = _mm_loadu_si128((const __m128i *)(const void *)(buf + 0x20));
        y8 = _mm_loadu_si128((const __m128i *)(const void *)(buf + 0x30));
        x1 = _mm_xor_si128(_mm_xor_si128(x1, x5), y5);
        x2 = _mm_xor_si128(_mm_xor_si128(x2, x6), y6);
        x3 = _mm_xor_si128(_mm_xor_si128(x3, x7), y7);
        x4 = _mm_xor_si128(_mm_xor_si128(x4, x8), y8);
        buf += 64;
        len -= 64;
    }
    x0 = _mm_load_si128((const __m128i *)(const void *)k3k4); /* the lanes into one */
    x5 = _mm_clmulepi64_si128(x1, x0, 0x00);
    x1 = _mm_clmulepi64_si128(x1, x0, 0x11);
    x1 = _mm_xor_si128(_mm_xor_si128(x1, x2), x5);
    x5 = _mm_clmulepi64_si128(x1, x0, 0x00);
    x1 = _mm_clmulepi64_si128(x1, x0, 0x11);
    x1 = _mm_xor_si128(_mm_xor_si128(x1, x3), x5);
    x5 = _mm_clmulepi64_si128(x1, x0, 0x00);
    x1 = _mm_clmulepi64_si128(x1, x0, 0x11);
    x1 = _mm_xor_si128(_mm_xor_si128(x1, x4), x5);
    while (len >= 16) { /* 128 bits at a time */
        x2 = _mm_loadu_si128((const __m128i *)(const void *)buf);
        x5 = _mm_clmulepi64_si128(x1, x0, 0x00);
        x1 = _mm_clmulepi64_si128(x1, x0, 0x11);
        x1 = _mm_xor_si128(_mm_xor_si128(x1, x2), x5);
        buf += 16;
        len -= 16;
    }
    /* 128 bits to 64, then Barrett's reduction to 32 */
    x2 = _mm_clmulepi64_si128(x1, x0, 0x10);
    x3 = _mm_setr_epi32(~0, 0, ~0, 0);
    x1 = _mm_srli_si128(x1, 8);
    x1 = _mm_xor_si128(x1, x2);
    x0 = _mm_loadl_epi64((const __m128i *)(const void *)k5k0);
    x2 = _mm_srli_si128(x1, 4);
    x1 = _mm_and_si128(x1, x3);
    x1 = _mm_clmulepi64_si128(x1, x0, 0x00);
    x1 = _mm_xor_si128(x1, x2);
    x0 = _mm_load_si128((const __m128i *)(const void *)poly);
    x2 = _mm_and_si128(x1, x3);
    x2 = _mm_clmulepi64_si128(x2, x0, 0x10);
    x2 = _mm_and_si128(x2, x3);
    x2 = _mm_clmulepi64_si128(x2, x0, 0x00);
    x1 = _mm_xor_si128(x1, x2);
    *bufp = buf;
    *lenp = len;
    return (uint32_t)_mm_extract_epi32(x1, 1);
}

/* 1 when crc_fold may run here, else 0 (crc_use forces a choice) */
static int crc_fast = -1;

void crc_use(int fast)
{
    crc_fast = fast && CPU_FEATURE_ACTIVE(PCLMULQDQ) && CPU_FEATURE_ACTIVE(SSE4_1);
}

uint32_t crc_update(uint32_t crc, const void *p, size_t n)
{
    const unsigned char *buf = p;
    if (!buf)
        return 0;
    if (crc_fast < 0)
        crc_use(1);
    if (crc_fast && n >= 64) {
        crc = ~crc_fold(&buf, &n, ~crc);
        if (!n)
            return crc;
    }
    return (uint32_t)crc32_z(crc, buf, n);
}
