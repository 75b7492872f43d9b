/*
 * blocksort.c - sorting a copy of the live blocks by address, in place: an
 * MSD radix sort ("American flag sort"), 8 bits a level, with insertion
 * sort below BSORT_SMALL blocks.  The BLOCKS section, the leak check's
 * binary searches and the API's queries all want the blocks in address
 * order; a snapshot without the check sorts only their addresses
 * (bsort_addrs, bsort_u32: for blockstream.c), the same way.
 *
 * Why our own: glibc's qsort mallocs its scratch (the host's heap, from
 * inside the shim), and an LSD radix sort scatters into a second copy of
 * the array, 32 more bytes per live block while a snapshot is written.
 * The counters (512 a level, 8 levels at most) are static: callers hold
 * the snapshot lock.
 */
#include <string.h>

#include "shim.h"

static uint64_t bsort_w[8 * 512];

#define BSORT_SMALL 32

static void bsort_small(struct hsnap_block *a, uint64_t n)
{
    for (uint64_t i = 1; i < n; i++) {
        struct hsnap_block v = a[i];
        uint64_t j = i;
        for (; j > 0 && a[j - 1].addr > v.addr; j--)
            a[j] = a[j - 1];
        a[j] = v;
    }
}

/* a[0..n) share every address bit above shift + 8: sorts them on the
 * byte at shift, then each bucket on the next byte down. */
static void bsort_level(struct hsnap_block *a, uint64_t n, unsigned shift, uint64_t *w)
{
    if (n <= BSORT_SMALL) {
        bsort_small(a, n);
        return;
    }
    uint64_t *head = w, *tail = w + 256, sum = 0;
    memset(head, 0, 256 * sizeof *head);
    for (uint64_t i = 0; i < n; i++)
        head[(a[i].addr >> shift) & 0xff]++;
    for (unsigned d = 0; d < 256; d++) {
        uint64_t c = head[d];
        head[d] = sum;
        tail[d] = sum += c;
    }
    for (unsigned d = 0; d < 256; d++) /* each block to its bucket, by cycles */
        while (head[d] < tail[d]) {
            struct hsnap_block v = a[head[d]];
            unsigned k = (unsigned)(v.addr >> shift) & 0xff;
            while (k != d) {
                struct hsnap_block t = a[head[k]];
                a[head[k]++] = v;
                v = t;
                k = (unsigned)(v.addr >> shift) & 0xff;
            }
            a[head[d]++] = v;
        }
    if (shift == 0)
        return;
    for (unsigned d = 0; d < 256; d++) { /* bucket d is [tail[d - 1], tail[d]) */
        uint64_t from = d ? tail[d - 1] : 0;
        if (tail[d] - from > 1)
            bsort_level(a + from, tail[d] - from, shift - 8, w + 512);
    }
}

void bsort_blocks(struct hsnap_block *a, uint64_t n)
{
    uint64_t *w = bsort_w;
    uint64_t x = 0;
    for (uint64_t i = 1; i < n; i++)
        x |= a[i].addr ^ a[0].addr;
    if (x)
        bsort_level(a, n, (unsigned)(63 - __builtin_clzll(x)) / 8 * 8, w);
}

/* The same on bare addresses (distinct or not). */
static void bsort_addr_small(uint64_t *a, uint64_t n)
{
    for (uint64_t i = 1; i < n; i++) {
        uint64_t v = a[i], j = i;
        for (; j > 0 && a[j - 1] > v; j--)
            a[j] = a[j - 1];
        a[j] = v;
    }
}

static void bsort_addr_level(uint64_t *a, uint64_t n, unsigned shift, uint64_t *w)
{
    if (n <= BSORT_SMALL) {
        bsort_addr_small(a, n);
        return;
    }
    uint64_t *head = w, *tail = w + 256, sum = 0;
    memset(head, 0, 256 * sizeof *head);
    for (uint64_t i = 0; i < n; i++)
        head[(a[i] >> shift) & 0xff]++;
    for (unsigned d = 0; d < 256; d++) {
        uint64_t c = head[d];
        head[d] = sum;
        tail[d] = sum += c;
    }
    for (unsigned d = 0; d < 256; d++)
        while (head[d] < tail[d]) {
            uint64_t v = a[head[d]];
            unsigned k = (unsigned)(v >> shift) & 0xff;
            while (k != d) {
                uint64_t t = a[head[k]];
                a[head[k]++] = v;
                v = t;
                k = (unsigned)(v >> shift) & 0xff;
            }
            a[head[d]++] = v;
        }
    if (shift == 0)
        return;
    for (unsigned d = 0; d < 256; d++) {
        uint64_t from = d ? tail[d - 1] : 0;
        if (tail[d] - from > 1)
            bsort_addr_level(a + from, tail[d] - from, shift - 8, w + 512);
    }
}

void bsort_addrs(uint64_t *a, uint64_t n)
{
    uint64_t x = 0;
    for (uint64_t i = 1; i < n; i++)
        x |= a[i] ^ a[0];
    if (x)
        bsort_addr_level(a, n, (unsigned)(63 - __builtin_clzll(x)) / 8 * 8, bsort_w);
}

/* And on 4-byte keys (blockstream.c's lower halves of addresses). */
static void bsort_u32_small(uint32_t *a, uint64_t n)
{
    for (uint64_t i = 1; i < n; i++) {
        uint32_t v = a[i];
        uint64_t j = i;
        for (; j > 0 && a[j - 1] > v; j--)
            a[j] = a[j - 1];
        a[j] = v;
    }
}

static void bsort_u32_level(uint32_t *a, uint64_t n, unsigned shift, uint64_t *w)
{
    if (n <= BSORT_SMALL) {
        bsort_u32_small(a, n);
        return;
    }
    uint64_t *head = w, *tail = w + 256, sum = 0;
    memset(head, 0, 256 * sizeof *head);
    for (uint64_t i = 0; i < n; i++)
        head[(a[i] >> shift) & 0xff]++;
    for (unsigned d = 0; d < 256; d++) {
        uint64_t c = head[d];
        head[d] = sum;
        tail[d] = sum += c;
    }
    for (unsigned d = 0; d < 256; d++)
        while (head[d] < tail[d]) {
            uint32_t v = a[head[d]];
            unsigned k = (v >> shift) & 0xff;
            while (k != d) {
                uint32_t t = a[head[k]];
                a[head[k]++] = v;
                v = t;
                k = (v >> shift) & 0xff;
            }
            a[head[d]++] = v;
        }
    if (shift == 0)
        return;
    for (unsigned d = 0; d < 256; d++) {
        uint64_t from = d ? tail[d - 1] : 0;
        if (tail[d] - from > 1)
            bsort_u32_level(a + from, tail[d] - from, shift - 8, w + 512);
    }
}

void bsort_u32(uint32_t *a, uint64_t n)
{
    uint32_t x = 0;
    for (uint64_t i = 1; i < n; i++)
        x |= a[i] ^ a[0];
    if (x)
        bsort_u32_level(a, n, (unsigned)(31 - __builtin_clz(x)) / 8 * 8, bsort_w);
}
