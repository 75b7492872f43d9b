// link: shim/base/arena.c
/*
 * test_arena.c - the shim's own memory: blocks are zeroed, distinct and
 * reused after free; big requests are mappings of their own and the mapped
 * byte count follows them; many threads at once get disjoint blocks.
 */
#include <pthread.h>
#include <stdint.h>

#include "shim.h"
#include "unit.h"

static int degraded;
void life_degrade(const char *why) { degraded = 1; }
void opt_warn(const char *a, const char *b, const char *c) {}

TEST_BEGIN(arena_blocks_are_zeroed_and_distinct)
    static char *p[1000];
    for (int i = 0; i < 1000; i++) {
        size_t n = 1 + (size_t)i * 37 % 5000;
        p[i] = arena_alloc(n);
        expect_true(p[i] != NULL, "alloc %zu", n);
        for (size_t k = 0; k < n; k++)
            expect_true(p[i][k] == 0, "block %d byte %zu not zero", i, k);
        memset(p[i], 0xab, n);
    }
    for (int i = 1; i < 1000; i++)
        expect_true(p[i] != p[i - 1], "same block twice");
    for (int i = 0; i < 1000; i++)
        arena_free(p[i], 1 + (size_t)i * 37 % 5000);
TEST_END

TEST_BEGIN(arena_reuses_freed_blocks)
    void *a = arena_alloc(100);
    arena_free(a, 100);
    void *b = arena_alloc(120); /* same class (128) */
    expect_true(a == b, "freed block not reused: %p then %p", a, b);
    expect_true(((char *)b)[0] == 0, "reused block not zeroed");
    arena_free(b, 120);
TEST_END

TEST_BEGIN(arena_big_blocks_are_mapped_and_unmapped)
    size_t before = arena_mapped();
    char *p = arena_alloc(10u << 20);
    expect_true(p != NULL, "10 MiB");
    expect_true(arena_mapped() >= before + (10u << 20), "mapped did not grow");
    p[(10u << 20) - 1] = 1;
    arena_free(p, 10u << 20);
    expect_eq_u64(arena_mapped(), before);
    expect_true(!degraded, "degraded without reason");
TEST_END

TEST_BEGIN(arena_out_of_memory_degrades)
    void *p = arena_alloc((size_t)1 << 62);
    expect_true(p == NULL, "an impossible allocation succeeded");
    expect_true(degraded, "no degrade on out of memory");
    degraded = 0;
TEST_END

static void *arena_thread(void *arg)
{
    uintptr_t tag = (uintptr_t)arg;
    void *mine[2000];
    for (int round = 0; round < 20; round++) {
        for (int i = 0; i < 2000; i++) {
            mine[i] = arena_alloc(48);
            if (!mine[i])
                return (void *)1;
            memset(mine[i], (int)tag, 48);
        }
        for (int i = 0; i < 2000; i++) {
            unsigned char *c = mine[i];
            for (int k = 0; k < 48; k++)
                if (c[k] != (unsigned char)tag)
                    return (void *)2; /* someone else wrote our block */
            arena_free(mine[i], 48);
        }
    }
    return NULL;
}

TEST_BEGIN(arena_many_threads)
    pthread_t t[8];
    for (uintptr_t i = 0; i < 8; i++)
        pthread_create(&t[i], NULL, arena_thread, (void *)(i + 1));
    for (int i = 0; i < 8; i++) {
        void *r;
        pthread_join(t[i], &r);
        expect_true(r == NULL, "thread %d: %s", i, r == (void *)1 ? "NULL" : "overlap");
    }
TEST_END

int main(void)
{
    arena_blocks_are_zeroed_and_distinct();
    arena_reuses_freed_blocks();
    arena_big_blocks_are_mapped_and_unmapped();
    arena_out_of_memory_degrades();
    arena_many_threads();
    return 0;
}
