/*
 * realloc.c - benchmark workload: realloc growth plus the aligned and zeroed
 * allocators (issue 4, row 5).
 *
 * Each round grows a buffer by realloc in small fixed-seed steps (as a string
 * builder or a vector would), and in between allocates from calloc,
 * posix_memalign, aligned_alloc and memalign into a pool of live blocks,
 * replacing what was there.  Every hooked entry point except valloc/pvalloc
 * is exercised on every round.
 *
 * Usage: realloc ROUNDS LIVE     prints "checksum realloc <hex>", exits 0.
 */
#include <malloc.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define RE_GROWS 24             /* realloc steps per round */

static struct {
    uint64_t rng;               /* xorshift64 state, fixed seed */
    void **pool;                /* live aligned/zeroed blocks */
    long npool;
    uint64_t sum;               /* checksum */
} re = { .rng = 0xD1B54A32D192ED03ull };

static uint64_t re_next(void)
{
    uint64_t x = re.rng;
    x ^= x << 13; x ^= x >> 7; x ^= x << 17;
    return re.rng = x;
}

static void re_fail(const char *what)
{
    fprintf(stderr, "realloc: %s failed\n", what);
    exit(3);
}

/* A buffer that grows by 8..71 bytes at a time, then is freed. */
static void re_grow(void)
{
    char *buf = NULL;
    size_t len = 0;
    for (int i = 0; i < RE_GROWS; i++) {
        size_t add = 8 + re_next() % 64;
        char *nb = realloc(buf, len + add);
        if (!nb) re_fail("realloc");
        buf = nb;
        memset(buf + len, 'a' + i, add);
        len += add;
    }
    re.sum = re.sum * 31 + len + (unsigned char)buf[len / 2];
    free(buf);
}

/* One block from one of the four other allocators, at 16..1039 bytes. */
static void *re_other(uint64_t r)
{
    size_t n = 16 + (r >> 8) % 1024, align = (size_t)16 << (r >> 4) % 4;
    void *p = NULL;
    switch (r % 4) {
    case 0: p = calloc(1, n); break;
    case 1: if (posix_memalign(&p, align, n)) p = NULL; break;
    case 2: p = aligned_alloc(align, (n + align - 1) / align * align); break;
    default: p = memalign(align, n); break;
    }
    if (!p) re_fail("aligned or zeroed allocation");
    if ((uintptr_t)p % ((r % 4) ? align : 16)) re_fail("alignment");
    memset(p, (int)r, 8);
    re.sum = re.sum * 31 + n + r % 4;
    return p;
}

int main(int argc, char **argv)
{
    if (argc != 3) { fprintf(stderr, "usage: realloc ROUNDS LIVE\n"); return 2; }
    long rounds = atol(argv[1]);
    re.npool = atol(argv[2]);
    if (rounds < 1 || re.npool < 1) { fprintf(stderr, "realloc: bad sizes\n"); return 2; }
    re.pool = calloc((size_t)re.npool, sizeof(void *));
    for (long i = 0; i < rounds; i++) {
        re_grow();
        for (int k = 0; k < 8; k++) {
            uint64_t r = re_next();
            long s = (long)((r >> 24) % (uint64_t)re.npool);
            free(re.pool[s]);
            re.pool[s] = re_other(r);
        }
    }
    for (long s = 0; s < re.npool; s++)
        free(re.pool[s]);
    free(re.pool);
    printf("checksum realloc %016llx\n", (unsigned long long)re.sum);
    return 0;
}
