/*
 * cfisame.h - the compare behind cfi.c's exact repeat: a memo's pairs and
 * checks (cfimemo.h) against the words on the stack now, 0 when every word
 * still holds its value.  Two forms of the pairs' compare: SSE2 (or
 * scalar) and AVX, chosen once per process by cfi_memo_setup (cfi_avx).
 * cfi.c alone includes it, after cfimemo.h; its functions are inline or
 * out of line as the hot path needs (docs/performance-hotpath.md).
 */
#ifndef HEAPSNAP_CFISAME_H
#define HEAPSNAP_CFISAME_H

#include <stdint.h>
#ifdef __SSE2__
#include <emmintrin.h>
#endif
#if defined(__x86_64__) && defined(__GNUC__)
#include <immintrin.h>
#define CFI_HAVE_AVX 1
#endif

#include "cfimemo.h"
#include "unwindinner.h"

/* The pairs [p, pend) against the stack: 0 when every word still holds
 * its value.  SSE2 (or scalar): one 16-byte load, an xor and an or a pair
 * (the checks take four instructions a word). */
static inline uintptr_t cfi_pairs_diff(const struct cfi_pair2 *p, const struct cfi_pair2 *pend)
{
#ifdef __SSE2__
#define CFI_PAIR_DIFF(at, v) \
    _mm_xor_si128(_mm_loadu_si128((const __m128i *)(at)), _mm_load_si128((const __m128i *)(v)))
    __m128i v0 = _mm_setzero_si128(), v1 = _mm_setzero_si128();
    for (; p < pend; p++) {
        v0 = _mm_or_si128(v0, CFI_PAIR_DIFF(p->at[0], &p->val[0]));
        v1 = _mm_or_si128(v1, CFI_PAIR_DIFF(p->at[1], &p->val[2]));
    }
#undef CFI_PAIR_DIFF
    v0 = _mm_or_si128(v0, v1);
    return (uintptr_t)_mm_cvtsi128_si64(_mm_or_si128(v0, _mm_unpackhi_epi64(v0, v0)));
#else
    uintptr_t d = 0;
    for (; p < pend; p++)
        for (int i = 0; i < 2; i++)
            d |= (*(const uintptr_t *)p->at[i] ^ p->val[2 * i]) |
                 (*(const uintptr_t *)(p->at[i] + 8) ^ p->val[2 * i + 1]);
    return d;
#endif
}

#ifdef CFI_HAVE_AVX
/* The same with AVX (set when the CPU and the kernel keep the ymm
 * registers: cfi_avx): two pairs a 32-byte xor, their two 16-byte stack
 * words put side by side (vinsertf128) against the values cfi_pair2 keeps
 * side by side.  The float forms are AVX's own (the integer ones at 256
 * bits are AVX2's); xor and or of floats are bitwise, loads change no bit. */
static inline __attribute__((target("avx"), always_inline)) uintptr_t
cfi_pairs_diff_avx(const struct cfi_pair2 *p, const struct cfi_pair2 *pend)
{
#define CFI_PAIR2_DIFF(q)                                                                    \
    _mm256_xor_ps(_mm256_insertf128_ps(                                                      \
                      _mm256_castps128_ps256(_mm_loadu_ps((const float *)(q)->at[0])),       \
                      _mm_loadu_ps((const float *)(q)->at[1]), 1),                          \
                  _mm256_loadu_ps((const float *)(q)->val))
    __m256 v0 = _mm256_setzero_ps(), v1 = _mm256_setzero_ps();
    for (; p + 4 <= pend; p += 4) { /* eight pairs a turn */
        v0 = _mm256_or_ps(v0, CFI_PAIR2_DIFF(&p[0]));
        v1 = _mm256_or_ps(v1, CFI_PAIR2_DIFF(&p[1]));
        v0 = _mm256_or_ps(v0, CFI_PAIR2_DIFF(&p[2]));
        v1 = _mm256_or_ps(v1, CFI_PAIR2_DIFF(&p[3]));
    }
    if (p + 2 <= pend) {
        v0 = _mm256_or_ps(v0, CFI_PAIR2_DIFF(&p[0]));
        v1 = _mm256_or_ps(v1, CFI_PAIR2_DIFF(&p[1]));
        p += 2;
    }
    if (p < pend)
        v0 = _mm256_or_ps(v0, CFI_PAIR2_DIFF(p));
#undef CFI_PAIR2_DIFF
    __m256i v = _mm256_castps_si256(_mm256_or_ps(v0, v1));
    return !_mm256_testz_si256(v, v);
}
#endif

/* The checks [k, end) against the stack, or'ed into d0 | d1: 0 when every
 * word still holds its value. */
static inline __attribute__((always_inline)) uintptr_t
cfi_checks_diff(const struct cfi_check *k, const struct cfi_check *end, uintptr_t d0, uintptr_t d1)
{
    for (; k + 4 <= end; k += 4) { /* two chains: the loop is all loads */
        d0 |= *(const uintptr_t *)k[0].at ^ k[0].val;
        d1 |= *(const uintptr_t *)k[1].at ^ k[1].val;
        d0 |= *(const uintptr_t *)k[2].at ^ k[2].val;
        d1 |= *(const uintptr_t *)k[3].at ^ k[3].val;
        /* Kept scalar, four instructions a check: -O3 made SSE2 of the
         * loop, its gathers by shuffles, six a check (deep's longest cost;
         * docs/performance-hotpath.md). */
        __asm__("" : "+r"(d0), "+r"(d1));
    }
    if (k + 2 <= end) {
        d0 |= *(const uintptr_t *)k[0].at ^ k[0].val;
        d1 |= *(const uintptr_t *)k[1].at ^ k[1].val;
        k += 2;
    }
    if (k < end)
        d0 |= *(const uintptr_t *)k->at ^ k->val;
    return d0 | d1;
}

/* cfi_same_again's compare of a list with two pairs of pairs or more
 * (its first tests passed): the pairs, then the checks.  Out of line, so
 * that a shallow stack's compare keeps its registers. */
static HS_NOINLINE int cfi_same_long(const struct cfi_memo *m)
{
    return cfi_checks_diff((const struct cfi_check *)(const void *)m->pair_end, m->chk_end,
                           cfi_pairs_diff(m->pair, m->pair_end), 0) == 0;
}

/* The same for a list left flat past its pairs (frames without a frame
 * pointer: cfi_memo_pairs): its first CFI_FLAT_FIRST checks alone first,
 * with a branch.  A walk that differs from a memo of its set (same caller,
 * same CFA) nearly always differs there, in its innermost frames, and a
 * long flat list is otherwise compared whole before the answer. */
#define CFI_FLAT_FIRST 4
static HS_NOINLINE int cfi_same_flat(const struct cfi_memo *m)
{
    const struct cfi_check *k = (const struct cfi_check *)(const void *)m->pair_end;
    if (m->chk_end - k >= CFI_FLAT_FIRST) {
        if (cfi_checks_diff(k, k + CFI_FLAT_FIRST, 0, 0))
            return 0;
        k += CFI_FLAT_FIRST;
    }
    return cfi_checks_diff(k, m->chk_end, cfi_pairs_diff(m->pair, m->pair_end), 0) == 0;
}

#ifdef CFI_HAVE_AVX
__attribute__((target("avx"), noinline)) static int cfi_same_long_avx(const struct cfi_memo *m)
{
    return cfi_checks_diff((const struct cfi_check *)(const void *)m->pair_end, m->chk_end,
                           cfi_pairs_diff_avx(m->pair, m->pair_end), 0) == 0;
}
#else
#define cfi_same_long_avx cfi_same_long
#endif

#endif
