// link: report/base/hidx.c report/base/bigmem.c
/*
 * test_hidx.c - hidx.h's index of items by a 64-bit hash: every item added
 * is found by its key and no other key finds one, through its doublings;
 * items whose hashes are equal, or equal in the bits that place them, are
 * told apart by the caller's compare; the index stays at most 3/4 full; and
 * given back it is empty.
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "hashfn.h"
#include "hidx.h"
#include "unit.h"

struct item {
    uint64_t key;
};

static int item_same(const void *item, const void *key)
{
    return ((const struct item *)item)->key == *(const uint64_t *)key;
}

static uint64_t hash_of(uint64_t key)
{
    return hashfn_bytes64(&key, sizeof key);
}

TEST_BEGIN(hidx_finds_every_item_it_holds)
{
    enum { N = 300000 };
    struct hidx x = {0};
    struct item *v = malloc(N * sizeof(*v));
    expect_true(v != NULL, "no memory");
    for (uint64_t i = 0; i < N; i++) {
        v[i].key = i * 2; /* odd keys are never added */
        expect_true(hidx_add(&x, hash_of(v[i].key), &v[i]) == 0, "add %llu failed",
                    (unsigned long long)i);
        expect_true(4 * x.n <= 3 * x.cap, "%zu items in %zu slots", x.n, x.cap);
    }
    expect_eq_u64(x.n, N);
    expect_true(x.cap && !(x.cap & (x.cap - 1)), "capacity %zu not a power of two", x.cap);
    for (uint64_t i = 0; i < N; i++) {
        uint64_t k = i * 2, odd = i * 2 + 1;
        expect_true(hidx_find(&x, hash_of(k), item_same, &k) == &v[i], "key %llu not found",
                    (unsigned long long)k);
        expect_true(hidx_find(&x, hash_of(odd), item_same, &odd) == NULL,
                    "key %llu found, never added", (unsigned long long)odd);
    }
    hidx_free(&x);
    expect_true(x.slot == NULL && x.cap == 0 && x.n == 0, "not empty after hidx_free");
    uint64_t k = 0;
    expect_true(hidx_find(&x, hash_of(k), item_same, &k) == NULL, "an empty index found one");
    free(v);
}
TEST_END

/* Equal hashes (a collision of all 64 bits) and hashes equal in their low
 * bits (one home slot, runs that wrap round the array's end). */
TEST_BEGIN(hidx_equal_hashes_told_apart)
{
    enum { N = 2000 };
    struct hidx x = {0};
    static struct item same[N], low[N];
    for (uint64_t i = 0; i < N; i++) {
        same[i].key = i;
        low[i].key = N + i;
        expect_true(hidx_add(&x, 0x5eedull, &same[i]) == 0, "add failed");
        /* low bits all ones: the last slot, then round to the first */
        expect_true(hidx_add(&x, (i + 1) << 40 | 0xfffffull, &low[i]) == 0, "add failed");
    }
    for (uint64_t i = 0; i < N; i++) {
        uint64_t a = i, b = N + i, none = 3 * N + i;
        expect_true(hidx_find(&x, 0x5eedull, item_same, &a) == &same[i], "equal hash %llu lost",
                    (unsigned long long)i);
        expect_true(hidx_find(&x, (i + 1) << 40 | 0xfffffull, item_same, &b) == &low[i],
                    "low-bits twin %llu lost", (unsigned long long)i);
        expect_true(hidx_find(&x, (i + 1) << 40 | 0xfffffull, item_same, &a) == NULL,
                    "a key found under another's hash");
        expect_true(hidx_find(&x, 0x5eedull, item_same, &none) == NULL, "an absent key found");
    }
    hidx_free(&x);
}
TEST_END

int main(void)
{
    hidx_finds_every_item_it_holds();
    hidx_equal_hashes_told_apart();
    return 0;
}
