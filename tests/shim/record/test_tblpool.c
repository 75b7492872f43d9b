// link: shim/record/table.c shim/record/table_hint.c shim/record/tblpool.c shim/record/tblfilter.c shim/base/arena.c shim/base/lock.c
/*
 * test_tblpool.c - the table's store for a pool allocator's regions, on
 * regions laid out as pymalloc's arenas (pages with headers naming their
 * block size): blocks kept by place and found, walked, removed through the
 * table's own calls; 8 bytes a block; what does not fit goes to the hash
 * and is still found; stale entries (a page whose size changed, a region
 * dropped) move to the hash; the page size learnt from the first block (16
 * and 4 KiB); walks that empty (clear, drain); threads; the sampled mode's
 * presence filter.
 */
#include <pthread.h>
#include <stdint.h>
#include <stdlib.h>
#include <sys/mman.h>
#include <sys/wait.h>
#include <unistd.h>

#include "record.h"
#include "unit.h"

void degrade_now(const char *why) { printf("degrade: %s\n", why); }
void opt_warn(const char *a, const char *b, const char *c) {}
_Atomic unsigned hs_rare; /* base.h's (deferred.c): tblpool.c and tblfilter.c mark it */

/* pymalloc's, as domain.c registers it */
static const struct tbl_pool_geom geom = {.first = 48, .class_at = 36, .last_at = 44,
                                          .class_shift = 4, .classes = 32};
#define REGION (1u << 20)

struct region {
    uintptr_t lo;     /* as registered */
    uintptr_t base;   /* its first page */
    unsigned pages, page;
};

static void page_format(const struct region *g, unsigned k, unsigned bsize)
{
    char *pg = (char *)(g->base + (uintptr_t)k * g->page);
    uint32_t cls = bsize / 16 - 1, last = g->page - bsize;
    memcpy(pg + 36, &cls, 4);
    memcpy(pg + 44, &last, 4);
}

/* A region of REGION bytes starting 4 KiB past a page boundary (as an mmap
 * may), with pages of `page` bytes, page k of block size sizes[k % n]. */
static struct region region_new(unsigned page, const unsigned *sizes, unsigned n)
{
    char *m = mmap(NULL, REGION + 2 * 65536, PROT_READ | PROT_WRITE,
                   MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
    struct region g = {0};
    if (m == MAP_FAILED)
        return g;
    g.lo = (((uintptr_t)m + 65535) & ~(uintptr_t)65535) + 4096;
    g.page = page;
    g.base = (g.lo + page - 1) & ~(uintptr_t)(page - 1);
    g.pages = (unsigned)((g.lo + REGION - g.base) / page);
    for (unsigned k = 0; k < g.pages; k++)
        page_format(&g, k, sizes[k % n]);
    return g;
}

static uintptr_t block(const struct region *g, unsigned k, unsigned i, unsigned bsize)
{
    return g->base + (uintptr_t)k * g->page + 48 + (uintptr_t)i * bsize;
}

static unsigned per_page(const struct region *g, unsigned bsize) { return (g->page - 48) / bsize; }

static const unsigned mixed[] = {16, 32, 48, 64, 80, 112, 128, 256, 512};
#define NMIXED (sizeof mixed / sizeof *mixed)

static int count_visit(const struct tbl_entry *e, void *arg)
{
    uint64_t *s = arg;
    s[0]++;
    s[1] += e->size;
    return 0;
}

/* A region registered marks hs_rare: the hooks' plain path
 * (tbl_insert_plain) never asks the pools, and is taken only while the
 * word is 0. */
TEST_BEGIN(tblpool_blocks_by_place)
    struct region g = region_new(16384, mixed, NMIXED);
    expect_true(g.lo, "mmap");
    expect_true(!(hs_rare & HS_RARE_POOL), "marked before a region is");
    expect_true(tbl_pool_add(g.lo, REGION, &geom) == 0, "the region is refused");
    expect_true(hs_rare & HS_RARE_POOL, "a region is registered, hs_rare does not say so");
    uint64_t n = 0, bytes = 0;
    for (unsigned k = 0; k < 20; k++) {
        unsigned b = mixed[k % NMIXED];
        for (unsigned i = 0; i < per_page(&g, b); i++) {
            uint64_t size = b - (i % 16);
            expect_true(tbl_insert(block(&g, k, i, b), size, k * 1000 + i, i % 70000, NULL) == 0,
                        "insert page %u block %u", k, i);
            n++;
            bytes += size;
        }
    }
    expect_eq_u64(tbl_count(), n);
    expect_eq_u64(tbl_pool_count(), n); /* all of them by place */
    for (unsigned k = 0; k < 20; k++) {
        unsigned b = mixed[k % NMIXED];
        for (unsigned i = 0; i < per_page(&g, b); i++) {
            struct tbl_entry e;
            expect_true(tbl_find(block(&g, k, i, b), &e), "find page %u block %u", k, i);
            expect_eq_u64(e.ptr, block(&g, k, i, b));
            expect_eq_u64(e.size, b - (i % 16));
            expect_eq_u64(e.trace, k * 1000 + i);
            expect_eq_u64(e.epoch, (i % 70000) > 0xffff ? 0xffff : i % 70000);
        }
    }
    expect_true(!tbl_find(block(&g, 25, 0, mixed[25 % NMIXED]), NULL), "a block never inserted");
    uint64_t seen[2] = {0, 0};
    expect_eq_u64(tbl_foreach(count_visit, seen), 0);
    expect_eq_u64(seen[0], n);
    expect_eq_u64(seen[1], bytes);
    for (unsigned k = 0; k < 20; k++) {
        unsigned b = mixed[k % NMIXED];
        for (unsigned i = 0; i < per_page(&g, b); i++) {
            struct tbl_entry e;
            expect_true(tbl_remove(block(&g, k, i, b), &e), "remove page %u block %u", k, i);
            expect_eq_u64(e.trace, k * 1000 + i);
        }
    }
    expect_eq_u64(tbl_count(), 0);
    expect_true(!tbl_remove(block(&g, 0, 0, mixed[0]), NULL), "removed twice");
    /* every page's array went with its last block: the record is what is left */
    expect_true(tbl_pool_bytes() < 4096, "%zu bytes kept with no block live", tbl_pool_bytes());
    tbl_pool_drop(g.lo, REGION);
TEST_END

/* 4 bytes a block while the page's blocks share an epoch, 6 when they do
 * not (the hash needs 16 and its slack: 19.5 at least), blocks of 64
 * bytes filling a region. */
TEST_BEGIN(tblpool_bytes_per_block)
    static const unsigned b64[] = {64};
    struct region g = region_new(16384, b64, 1);
    expect_true(tbl_pool_add(g.lo, REGION, &geom) == 0, "the region is refused");
    size_t before = tbl_bytes();
    uint64_t n = 0;
    for (unsigned k = 0; k < g.pages; k++)
        for (unsigned i = 0; i < per_page(&g, 64); i++, n++)
            expect_true(tbl_insert(block(&g, k, i, 64), 60, 5, 0, NULL) == 0, "insert");
    double per = (double)(tbl_bytes() - before) / (double)n;
    expect_true(per <= 4.5, "%.2f bytes a block", per);
    for (unsigned k = 0; k < g.pages; k++) /* one block of another epoch a page */
        expect_eq_u64(tbl_insert(block(&g, k, 0, 64), 60, 5, 1, NULL), 1);
    per = (double)(tbl_bytes() - before) / (double)n;
    expect_true(per <= 6.5, "%.2f bytes a block of mixed epochs", per);
    for (unsigned k = 0; k < g.pages; k++)
        for (unsigned i = 0; i < per_page(&g, 64); i++)
            expect_true(tbl_remove(block(&g, k, i, 64), NULL), "remove");
    tbl_pool_drop(g.lo, REGION);
    expect_eq_u64(tbl_count(), 0);
TEST_END

/* What is not a pool's block in place goes to the hash, and is found. */
TEST_BEGIN(tblpool_misfits_go_to_hash)
    static const unsigned b32[] = {32};
    struct region g = region_new(16384, b32, 1);
    expect_true(tbl_pool_add(g.lo, REGION, &geom) == 0, "the region is refused");
    page_format(&g, 3, 32);
    uint32_t bad = 99; /* page 3's size class is none */
    memcpy((char *)(g.base + 3 * 16384) + 36, &bad, 4);
    uintptr_t odd[] = {
        block(&g, 1, 5, 32) + 8,     /* not a block's place */
        g.base + 16,                 /* in a page's header */
        block(&g, 3, 2, 32),         /* a page whose header does not read */
        block(&g, 5, 1, 32),         /* bigger than its block */
        0,                           /* more than 127 below its block's size (below) */
    };
    uint32_t trace[] = {1, 2, 3, 4, 5};
    uint64_t size[] = {8, 8, 8, 40, 300};
    static const unsigned b512[] = {512};
    struct region big = region_new(16384, b512, 1);
    expect_true(tbl_pool_add(big.lo, REGION, &geom) == 0, "the second region is refused");
    odd[4] = block(&big, 0, 3, 512);
    for (unsigned j = 0; j < 5; j++)
        expect_true(tbl_insert(odd[j], size[j], trace[j], 0, NULL) == 0, "insert %u", j);
    expect_eq_u64(tbl_pool_count(), 0);
    expect_eq_u64(tbl_count(), 5);
    expect_eq_u64(tbl_insert(block(&big, 0, 4, 512), 512 - 127, 6, 0, NULL), 0);
    expect_eq_u64(tbl_pool_count(), 1); /* 127 below fits */
    expect_true(tbl_remove(block(&big, 0, 4, 512), NULL), "remove the one that fits");
    /* a trace id beyond 24 bits fits neither store: out of memory, as before */
    expect_eq_u64(tbl_insert(block(&g, 4, 7, 32), 8, 1u << 24, 0, NULL), (uint64_t)-1);
    expect_eq_u64(tbl_count(), 5);
    for (unsigned j = 0; j < 5; j++) {
        struct tbl_entry e;
        expect_true(tbl_remove(odd[j], &e), "remove %u", j);
        expect_eq_u64(e.trace, trace[j]);
    }
    /* a region too small for the radix's chunk is refused: the hash's */
    expect_true(tbl_pool_add(g.lo + REGION + 65536, 65536, &geom) != 0, "a small region taken");
    /* another geometry than the first region's is refused */
    struct tbl_pool_geom other = geom;
    other.first = 64;
    expect_true(tbl_pool_add(g.lo + 2 * REGION, REGION, &other) != 0, "a second geometry taken");
    tbl_pool_drop(g.lo, REGION);
    tbl_pool_drop(big.lo, REGION);
    expect_eq_u64(tbl_count(), 0);
TEST_END

/* Entries whose frees were not seen: an insert over one replaces it; a
 * page that now holds another size and a region that goes hand theirs to
 * the hash, as the hash alone would have kept them. */
TEST_BEGIN(tblpool_stale_entries)
    static const unsigned b48[] = {48};
    struct region g = region_new(16384, b48, 1);
    expect_true(tbl_pool_add(g.lo, REGION, &geom) == 0, "the region is refused");
    struct tbl_entry old;
    uintptr_t a = block(&g, 2, 9, 48);
    expect_eq_u64(tbl_insert(a, 40, 7, 3, NULL), 0);
    expect_eq_u64(tbl_insert(a, 44, 8, 4, &old), 1);
    expect_eq_u64(old.trace, 7);
    expect_eq_u64(old.size, 40);
    expect_eq_u64(old.epoch, 3);
    expect_eq_u64(tbl_count(), 1);
    struct tbl_entry sat; /* an epoch saturates, as the hash's does */
    expect_eq_u64(tbl_insert(block(&g, 2, 10, 48), 48, 9, 70000, NULL), 0);
    expect_true(tbl_find(block(&g, 2, 10, 48), &sat) && sat.epoch == 0xffff, "epoch %u", sat.epoch);
    expect_true(tbl_find(a, &sat) && sat.epoch == 4, "the first block's epoch now %u", sat.epoch);
    expect_true(tbl_remove(block(&g, 2, 10, 48), NULL), "remove");
    for (unsigned i = 0; i < 10; i++)
        expect_eq_u64(tbl_insert(block(&g, 6, i, 48), 48, 100 + i, 0, NULL), 0);
    page_format(&g, 6, 128); /* the pool was emptied and made again for 128 */
    expect_eq_u64(tbl_insert(block(&g, 6, 1, 128), 128, 200, 0, NULL), 0);
    expect_eq_u64(tbl_count(), 12);
    for (unsigned i = 0; i < 10; i++) {
        struct tbl_entry e;
        expect_true(tbl_find(block(&g, 6, i, 48), &e), "stale block %u lost", i);
        expect_eq_u64(e.trace, 100 + i);
    }
    struct tbl_entry e;
    expect_true(tbl_find(block(&g, 6, 1, 128), &e) && e.trace == 200, "the new block");
    tbl_pool_drop(g.lo, REGION);
    expect_eq_u64(tbl_count(), 12);
    expect_eq_u64(tbl_pool_count(), 0);
    expect_true(tbl_remove(a, &e) && e.trace == 8, "a dropped region's block");
    for (unsigned i = 0; i < 10; i++)
        expect_true(tbl_remove(block(&g, 6, i, 48), NULL), "stale block %u", i);
    expect_true(tbl_remove(block(&g, 6, 1, 128), NULL), "the new block");
    expect_eq_u64(tbl_count(), 0);
TEST_END

static int stop_at_three(const struct tbl_entry *e, void *arg)
{
    (void)e;
    return ++*(unsigned *)arg == 3 ? 9 : 0;
}

/* tbl_clear and tbl_drain see the pools' blocks and empty them; a
 * visitor's nonzero return stops a walk. */
TEST_BEGIN(tblpool_walks_empty)
    struct region g = region_new(16384, mixed, NMIXED);
    expect_true(tbl_pool_add(g.lo, REGION, &geom) == 0, "the region is refused");
    for (int round = 0; round < 2; round++) {
        for (unsigned i = 0; i < 100; i++)
            tbl_insert(block(&g, 1, i, 32), 32, 1, 0, NULL);
        tbl_insert(0x7000000010, 24, 2, 0, NULL); /* one in the hash */
        unsigned calls = 0;
        expect_eq_u64(tbl_foreach(stop_at_three, &calls), 9);
        expect_eq_u64(calls, 3);
        uint64_t seen[2] = {0, 0};
        if (round == 0)
            tbl_clear(count_visit, seen);
        else
            expect_eq_u64(tbl_drain(count_visit, seen), 0);
        expect_eq_u64(seen[0], 101);
        expect_eq_u64(tbl_count(), 0);
        expect_true(!tbl_find(block(&g, 1, 7, 32), NULL), "found after the walk emptied");
    }
    tbl_pool_drop(g.lo, REGION);
TEST_END

struct worker {
    struct region g;
    int ok;
};

static void *churn(void *arg)
{
    struct worker *w = arg;
    w->ok = 1;
    for (int round = 0; round < 20; round++) {
        for (unsigned k = 0; k < w->g.pages; k += 3)
            for (unsigned i = 0; i < 50; i++)
                w->ok &= tbl_insert(block(&w->g, k, i, 64), 64, k, 0, NULL) == 0;
        for (unsigned k = 0; k < w->g.pages; k += 3)
            for (unsigned i = 0; i < 50; i++)
                w->ok &= tbl_remove(block(&w->g, k, i, 64), NULL) == 1;
    }
    return NULL;
}

static int nothing(const struct tbl_entry *e, void *arg) { (void)e, (void)arg; return 0; }

/* Threads on regions of their own, while another walks the table. */
TEST_BEGIN(tblpool_threads)
    static const unsigned b64[] = {64};
    enum { T = 4 };
    struct worker w[T];
    pthread_t th[T];
    for (int t = 0; t < T; t++) {
        w[t].g = region_new(16384, b64, 1);
        expect_true(tbl_pool_add(w[t].g.lo, REGION, &geom) == 0, "region %d refused", t);
    }
    for (int t = 0; t < T; t++)
        pthread_create(&th[t], NULL, churn, &w[t]);
    for (int k = 0; k < 50; k++)
        tbl_foreach(nothing, NULL);
    for (int t = 0; t < T; t++)
        pthread_join(th[t], NULL);
    for (int t = 0; t < T; t++) {
        expect_true(w[t].ok, "thread %d saw a wrong answer", t);
        tbl_pool_drop(w[t].g.lo, REGION);
    }
    expect_eq_u64(tbl_count(), 0);
TEST_END

/* Pages of 4 KiB (pymalloc built without its radix tree) are learnt from
 * the first block as 16 KiB ones are; run in a child of its own, before
 * the parent learns 16 KiB. */
TEST_BEGIN(tblpool_small_pages_learnt)
    static const unsigned b[] = {16, 96, 512};
    struct region g = region_new(4096, b, 3);
    expect_true(tbl_pool_add(g.lo, REGION, &geom) == 0, "the region is refused");
    uint64_t n = 0;
    for (unsigned k = 0; k < 30; k++)
        for (unsigned i = 0; i < per_page(&g, b[k % 3]); i++, n++)
            expect_true(tbl_insert(block(&g, k, i, b[k % 3]), b[k % 3] - 3, 1, 0, NULL) == 0,
                        "insert");
    expect_eq_u64(tbl_pool_count(), n);
    for (unsigned k = 0; k < 30; k++)
        for (unsigned i = 0; i < per_page(&g, b[k % 3]); i++)
            expect_true(tbl_remove(block(&g, k, i, b[k % 3]), NULL), "remove");
    expect_eq_u64(tbl_count(), 0);
TEST_END

/* Sampled mode: the presence filter counts the pools' blocks too. */
TEST_BEGIN(tblpool_filter_counts)
    static const unsigned b32[] = {32};
    struct region g = region_new(16384, b32, 1);
    expect_true(tbl_pool_add(g.lo, REGION, &geom) == 0, "the region is refused");
    tbl_filter_enable();
    for (unsigned i = 0; i < 300; i++)
        tbl_insert(block(&g, 2, i, 32), 32, 1, 0, NULL);
    for (unsigned i = 0; i < 300; i++)
        expect_true(tbl_maybe(block(&g, 2, i, 32)), "block %u: the filter says absent", i);
    for (unsigned i = 0; i < 300; i++)
        tbl_remove(block(&g, 2, i, 32), NULL);
    unsigned left = 0;
    for (unsigned k = 0; k < TBL_FILTER_GROUPS; k++)
        left += tbl_filter_g[k] != 0;
    expect_true(left == 0, "%u groups count something in an empty table", left);
TEST_END

int main(void)
{
    fflush(stdout);
    pid_t pid = fork();
    if (pid == 0) {
        tblpool_small_pages_learnt();
        fflush(stdout);
        _exit(0);
    }
    waitpid(pid, NULL, 0);
    tblpool_blocks_by_place();
    tblpool_bytes_per_block();
    tblpool_misfits_go_to_hash();
    tblpool_stale_entries();
    tblpool_walks_empty();
    tblpool_threads();
    tblpool_filter_counts(); /* last: it leaves the filter on */
    return 0;
}
