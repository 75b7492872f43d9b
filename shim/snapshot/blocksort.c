/*
 * blocksort.c - sorting a copy of the live blocks by address, in place: an
 * MSD radix sort ("American flag sort"), 8 bits a level, with insertion
 * sort below BSORT_SMALL blocks.  The BLOCKS section, the leak check's
 * binary searches and the API's queries all want the blocks in address
 * order; a snapshot without the check sorts only their addresses
 * (bsort_addrs, bsort_u32: for blockstream.c), the same way.  A run of
 * blocks copied from the table (bstream_runs) is a sample spread evenly
 * over the heap: bsort_spread sorts it into a second buffer in one
 * counting pass over BSORT_SPREAD buckets of its address range (about a
 * block a bucket), then by insertion, which moves a block only within its
 * bucket: one pass over the run while no bucket holds more than
 * BSORT_SMALL, else bucket by bucket, the radix sort taking the big ones
 * (a run from heaps far apart).  The radix sort alone spent most of its
 * work on the counters of levels holding a few blocks each.
 *
 * Why our own: glibc's qsort mallocs its scratch (the host's heap, from
 * inside the shim), and an LSD radix sort scatters into a second copy of
 * the array, 32 more bytes per live block while a snapshot is written.
 * The counters (512 a level, 8 levels at most) are static: callers hold
 * the snapshot lock.
 */
#include <string.h>

#include "snapshot.h"

static uint64_t bsort_w[8 * 512];

#define BSORT_SMALL 32

/* One sort per element type T keyed by KEY(x), an unsigned integer of at
 * most 64 bits: NAME_small, insertion sort; NAME_level, where a[0..n)
 * share every key bit above shift + 8: sorts them on the byte at shift
 * (each element to its bucket, by cycles), then each bucket on the next
 * byte down, with the next 512 counters of w; and NAME, which starts at the
 * highest byte where the keys differ.  A macro, not a comparison callback:
 * the key's load is the sort's inner loop. */
#define BSORT_DEFINE(NAME, T, KEY)                                                      \
    static void NAME##_small(T *a, uint64_t n)                                          \
    {                                                                                   \
        for (uint64_t i = 1; i < n; i++) {                                              \
            if (KEY(a[i - 1]) <= KEY(a[i]))                                             \
                continue; /* in place: most of a run bucketed by bsort_spread */        \
            T v = a[i];                                                                 \
            uint64_t j = i;                                                             \
            for (; j > 0 && KEY(a[j - 1]) > KEY(v); j--)                                \
                a[j] = a[j - 1];                                                        \
            a[j] = v;                                                                   \
        }                                                                               \
    }                                                                                   \
                                                                                        \
    static void NAME##_level(T *a, uint64_t n, unsigned shift, uint64_t *w)             \
    {                                                                                   \
        if (n <= BSORT_SMALL) {                                                         \
            NAME##_small(a, n);                                                         \
            return;                                                                     \
        }                                                                               \
        uint64_t *head = w, *tail = w + 256, sum = 0;                                   \
        memset(head, 0, 256 * sizeof *head);                                            \
        for (uint64_t i = 0; i < n; i++)                                                \
            head[(KEY(a[i]) >> shift) & 0xff]++;                                        \
        for (unsigned d = 0; d < 256; d++) {                                            \
            uint64_t c = head[d];                                                       \
            head[d] = sum;                                                              \
            tail[d] = sum += c;                                                         \
        }                                                                               \
        for (unsigned d = 0; d < 256; d++)                                              \
            while (head[d] < tail[d]) {                                                 \
                T v = a[head[d]];                                                       \
                unsigned k = (unsigned)(KEY(v) >> shift) & 0xff;                        \
                while (k != d) {                                                        \
                    T t = a[head[k]];                                                   \
                    a[head[k]++] = v;                                                   \
                    v = t;                                                              \
                    k = (unsigned)(KEY(v) >> shift) & 0xff;                             \
                }                                                                       \
                a[head[d]++] = v;                                                       \
            }                                                                           \
        if (shift == 0)                                                                 \
            return;                                                                     \
        for (unsigned d = 0; d < 256; d++) { /* bucket d is [tail[d - 1], tail[d]) */   \
            uint64_t from = d ? tail[d - 1] : 0;                                        \
            if (tail[d] - from > 1)                                                     \
                NAME##_level(a + from, tail[d] - from, shift - 8, w + 512);             \
        }                                                                               \
    }                                                                                   \
                                                                                        \
    void NAME(T *a, uint64_t n)                                                         \
    {                                                                                   \
        uint64_t x = 0;                                                                 \
        for (uint64_t i = 1; i < n; i++)                                                \
            x |= (uint64_t)KEY(a[i]) ^ (uint64_t)KEY(a[0]);                             \
        if (x)                                                                          \
            NAME##_level(a, n, (unsigned)(63 - __builtin_clzll(x)) / 8 * 8, bsort_w);   \
    }

#define BSORT_ADDR(x) ((x).addr)
#define BSORT_SELF(x) (x)

BSORT_DEFINE(bsort_blocks, struct hsnap_block, BSORT_ADDR)
BSORT_DEFINE(bsort_addrs, uint64_t, BSORT_SELF)
BSORT_DEFINE(bsort_u32, uint32_t, BSORT_SELF) /* bstream_gather's lower halves of addresses */

static uint32_t bsort_bucket[BSORT_SPREAD + 1];

/* a[0..n) (n <= BSORT_SPREAD) copied into out in address order. */
void bsort_spread(const struct hsnap_block *a, struct hsnap_block *out, uint32_t n)
{
    if (!n)
        return;
    uint64_t lo = a[0].addr, hi = a[0].addr;
    for (uint32_t i = 1; i < n; i++) {
        lo = a[i].addr < lo ? a[i].addr : lo;
        hi = a[i].addr > hi ? a[i].addr : hi;
    }
    unsigned shift = 0;
    while ((hi - lo) >> shift >= BSORT_SPREAD)
        shift++;
    memset(bsort_bucket, 0, sizeof bsort_bucket);
    for (uint32_t i = 0; i < n; i++)
        bsort_bucket[((a[i].addr - lo) >> shift) + 1]++;
    uint32_t most = 0;
    for (uint32_t d = 1; d <= BSORT_SPREAD; d++) { /* bucket d starts at [d] */
        most = bsort_bucket[d] > most ? bsort_bucket[d] : most;
        bsort_bucket[d] += bsort_bucket[d - 1];
    }
    for (uint32_t i = 0; i < n; i++)
        out[bsort_bucket[(a[i].addr - lo) >> shift]++] = a[i];
    if (most <= BSORT_SMALL) { /* no block moves past its bucket: one pass */
        bsort_blocks_small(out, n);
        return;
    }
    /* bucket d now ends at [d]: sort each bucket of more than one block */
    for (uint32_t d = 0, from = 0; d < BSORT_SPREAD && from < n; from = bsort_bucket[d++]) {
        uint32_t k = bsort_bucket[d] - from;
        if (k > BSORT_SMALL)
            bsort_blocks(out + from, k);
        else if (k > 1)
            bsort_blocks_small(out + from, k);
    }
}
