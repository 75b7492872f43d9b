// link: shim/table.c shim/arena.c
/*
 * test_table.c - the live-block table: insert/find/remove of many pointers,
 * growth, deletion correctness under probing (checked against a reference
 * bitmap through heavy churn), replacement of a stale entry, foreach/clear,
 * the 16-byte packing's limits (fields round-trip, epoch saturates, what
 * does not fit is refused), the bytes per live block, and many threads.
 */
#include <pthread.h>
#include <stdint.h>
#include <stdlib.h>

#include "shim.h"
#include "unit.h"

/* The arena's out-of-memory path calls these; the tests never run out. */
void life_degrade(const char *why) { printf("degrade: %s\n", why); }
void opt_warn(const char *a, const char *b, const char *c) {}

#define N 200000u

static uintptr_t key(uint64_t i) { return 0x10000 + i * 16; }

TEST_BEGIN(table_insert_find_remove_many)
    for (uint64_t i = 0; i < N; i++)
        expect_true(tbl_insert(key(i), i + 1, (uint32_t)i, 7, NULL) == 0, "insert %llu", (unsigned long long)i);
    expect_eq_u64(tbl_count(), N);
    for (uint64_t i = 0; i < N; i++) {
        struct tbl_entry e;
        expect_true(tbl_find(key(i), &e), "find %llu", (unsigned long long)i);
        expect_eq_u64(e.size, i + 1);
        expect_eq_u64(e.trace, i);
        expect_eq_u64(e.epoch, 7);
    }
    expect_true(!tbl_find(key(N), NULL), "a key never inserted is found");
    for (uint64_t i = 0; i < N; i++) {
        struct tbl_entry e;
        expect_true(tbl_remove(key(i), &e), "remove %llu", (unsigned long long)i);
        expect_eq_u64(e.size, i + 1);
    }
    expect_eq_u64(tbl_count(), 0);
    expect_true(!tbl_remove(key(3), NULL), "removed twice");
TEST_END

TEST_BEGIN(table_grows)
    size_t before = tbl_bytes();
    for (uint64_t i = 0; i < N; i++)
        tbl_insert(key(i), 8, 0, 0, NULL);
    size_t after = tbl_bytes();
    expect_eq_u64(before, 0);
    expect_true(after > before, "tbl_bytes did not grow: %zu -> %zu", before, after);
    /* 16-byte slots; load factor stays <= 80%: at least 16/0.8 = 20 bytes
     * per entry */
    expect_true(after >= (size_t)N * 20, "table too full: %zu bytes for %u entries", after, N);
    expect_true(after <= (size_t)N * 16 * 4, "table too sparse: %zu bytes", after);
    for (uint64_t i = 0; i < N; i++)
        tbl_remove(key(i), NULL);
    expect_eq_u64(tbl_count(), 0);
TEST_END

/* Random churn against a reference bitmap: backward-shift deletion must
 * never lose an entry that probed past a deleted slot. */
TEST_BEGIN(table_churn_matches_reference)
    enum { K = 50000 };
    static unsigned char ref[K];
    memset(ref, 0, sizeof ref);
    uint64_t live = 0, x = 12345;
    for (int step = 0; step < 2000000; step++) {
        x = x * 6364136223846793005ULL + 1442695040888963407ULL;
        uint64_t i = (x >> 33) % K;
        if (ref[i]) {
            expect_true(tbl_remove(key(i), NULL), "step %d: %llu missing", step, (unsigned long long)i);
            ref[i] = 0;
            live--;
        } else {
            expect_true(tbl_insert(key(i), i, 0, 0, NULL) == 0, "step %d: insert", step);
            ref[i] = 1;
            live++;
        }
    }
    expect_eq_u64(tbl_count(), live);
    for (uint64_t i = 0; i < K; i++) {
        struct tbl_entry e;
        int found = tbl_find(key(i), &e);
        expect_true(found == ref[i], "key %llu: found %d, want %d", (unsigned long long)i, found, ref[i]);
        if (found)
            expect_eq_u64(e.size, i);
    }
    for (uint64_t i = 0; i < K; i++)
        if (ref[i])
            tbl_remove(key(i), NULL);
    expect_eq_u64(tbl_count(), 0);
TEST_END

TEST_BEGIN(table_insert_existing_replaces)
    struct tbl_entry old;
    expect_true(tbl_insert(0x5000, 10, 1, 2, NULL) == 0, "first insert");
    expect_true(tbl_insert(0x5000, 20, 3, 4, &old) == 1, "second insert is not a replace");
    expect_eq_u64(old.size, 10);
    expect_eq_u64(old.trace, 1);
    expect_eq_u64(tbl_count(), 1);
    expect_true(tbl_find(0x5000, &old) && old.size == 20, "new value not stored");
    tbl_remove(0x5000, NULL);
    expect_eq_u64(tbl_count(), 0);
TEST_END

TEST_BEGIN(table_packing_limits)
    struct tbl_entry e;
    uintptr_t top = ((uintptr_t)1 << 48) - 16;
    uint64_t big = ((uint64_t)1 << 40) - 1;
    expect_true(tbl_insert(top, big, (1u << 24) - 1, 65535, NULL) == 0, "largest fields");
    expect_true(tbl_find(top, &e), "largest not found");
    expect_true(e.ptr == top && e.size == big && e.trace == (1u << 24) - 1 && e.epoch == 65535,
                "round trip: %llx %llu %u %u", (unsigned long long)e.ptr,
                (unsigned long long)e.size, e.trace, e.epoch);
    expect_true(tbl_insert(0x7000, 1, 2, 70000, NULL) == 0 && tbl_find(0x7000, &e) &&
                e.epoch == 65535, "epoch saturates: %u", e.epoch);
    expect_true(tbl_insert((uintptr_t)1 << 48, 1, 0, 0, NULL) == -1, "ptr >= 2^48 stored");
    expect_true(tbl_insert(0x8000, big + 1, 0, 0, NULL) == -1, "1 TiB stored");
    expect_true(tbl_insert(0x9000, 1, 1u << 24, 0, NULL) == -1, "trace id >= 2^24 stored");
    expect_eq_u64(tbl_count(), 2);
    tbl_remove(top, NULL);
    tbl_remove(0x7000, NULL);
    expect_eq_u64(tbl_count(), 0);
TEST_END

/* Issue 4's budget: at most 40 bytes of table per live block on average,
 * over table sizes from 100k to 1M blocks (a doubling stripe is at 40%
 * load, 40 bytes, and at 80% just before, 20 bytes). */
TEST_BEGIN(table_bytes_per_block)
    uint64_t n = 0, worst = 0, points = 0;
    double sum = 0;
    for (; n < 1000000; n++) {
        tbl_insert(key(10000000 + n), 8, 0, 0, NULL);
        if (n > 100000 && n % 1000 == 0) {
            double per = (double)tbl_bytes() / (double)tbl_count();
            sum += per;
            points++;
            if (per > worst)
                worst = (uint64_t)per;
        }
    }
    printf("# table: %.1f B/block at 1M blocks, %.1f on average from 100k, worst %llu\n",
           (double)tbl_bytes() / (double)tbl_count(), sum / points, (unsigned long long)worst);
    for (uint64_t i = 0; i < n; i++)
        tbl_remove(key(10000000 + i), NULL);
    expect_eq_u64(tbl_count(), 0);
    expect_true(sum / points <= 40, "%.1f bytes per live block", sum / points);
    expect_true(worst <= 48, "worst %llu bytes per live block", (unsigned long long)worst);
TEST_END

static int count_visit(const struct tbl_entry *e, void *arg)
{
    uint64_t *sum = arg;
    sum[0]++;
    sum[1] += e->size;
    return 0;
}

TEST_BEGIN(table_foreach_and_clear)
    uint64_t sum[2] = {0, 0}, want = 0;
    for (uint64_t i = 0; i < 1000; i++) {
        tbl_insert(key(i), i, 0, 0, NULL);
        want += i;
    }
    expect_eq_u64(tbl_foreach(count_visit, sum), 0);
    expect_eq_u64(sum[0], 1000);
    expect_eq_u64(sum[1], want);
    sum[0] = sum[1] = 0;
    tbl_clear(count_visit, sum);
    expect_eq_u64(sum[0], 1000);
    expect_eq_u64(tbl_count(), 0);
    expect_true(!tbl_find(key(5), NULL), "found after clear");
TEST_END

#define THREADS 8
#define PER_THREAD 100000u

static void *churn_thread(void *arg)
{
    uint64_t base = (uint64_t)(uintptr_t)arg * PER_THREAD * 4;
    for (uint64_t round = 0; round < 3; round++) {
        for (uint64_t i = 0; i < PER_THREAD; i++)
            if (tbl_insert(key(base + i), i, 0, 0, NULL) != 0)
                return (void *)1;
        for (uint64_t i = 0; i < PER_THREAD; i += 2)
            if (!tbl_remove(key(base + i), NULL))
                return (void *)2;
        for (uint64_t i = 1; i < PER_THREAD; i += 2) {
            struct tbl_entry e;
            if (!tbl_find(key(base + i), &e) || e.size != i)
                return (void *)3;
            if (round < 2)
                tbl_remove(key(base + i), NULL);
        }
    }
    return NULL;
}

TEST_BEGIN(table_many_threads)
    pthread_t t[THREADS];
    for (uintptr_t i = 0; i < THREADS; i++)
        pthread_create(&t[i], NULL, churn_thread, (void *)i);
    for (int i = 0; i < THREADS; i++) {
        void *r;
        pthread_join(t[i], &r);
        expect_true(r == NULL, "thread %d failed at phase %ld", i, (long)(uintptr_t)r);
    }
    expect_eq_u64(tbl_count(), THREADS * PER_THREAD / 2);
TEST_END

int main(void)
{
    table_grows(); /* first: the stripes start empty */
    table_insert_find_remove_many();
    table_churn_matches_reference();
    table_insert_existing_replaces();
    table_foreach_and_clear();
    table_packing_limits();
    table_bytes_per_block();
    table_many_threads();
    return 0;
}
