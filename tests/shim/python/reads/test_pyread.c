// link: shim/python/reads/pyread.c shim/base/peek.c
/*
 * test_pyread.c - shim/python/reads/pyread.c, the batched reads of a snapshot's
 * object passes: what a reader maps stays small (it lands on a Python
 * program's exit peak: a quarter of a MiB and its arrays, where it was
 * 1.2 MiB); every block added comes back once, in order, with its bytes,
 * across many batches and with neighbours sharing ranges (those of one
 * page always); a block of a
 * window's length is taken and a longer one refused; a block on an
 * unmapped page comes back unreadable (NULL) and its neighbours do not.
 * arena_map, arena_map_full and arena_unmap are stubbed (mmap), and count
 * what is mapped.
 */
#include <stdint.h>
#include <string.h>
#include <sys/mman.h>

#include "pyreads.h"
#include "unit.h"

static size_t mapped, mapped_max;

void *arena_map(size_t n)
{
    void *p = mmap(NULL, n, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
    if (p == MAP_FAILED)
        return NULL;
    mapped += n;
    if (mapped > mapped_max)
        mapped_max = mapped;
    return p;
}

void *arena_map_full(size_t n)
{
    return arena_map(n);
}

void arena_unmap(void *p, size_t n)
{
    munmap(p, n);
    mapped -= n;
}

#define MEM_PAGES 256 /* 1 MiB; the last page unmapped */
static char *mem;

struct got {
    unsigned n, bad, nulls;
    uint32_t last;
};

static void got_block(void *arg, uint32_t tag, uint64_t aux, const char *p, uint64_t addr,
                      uint32_t len)
{
    struct got *g = arg;
    if (tag != g->n || aux != addr)
        g->bad++;
    if (!p)
        g->nulls++;
    else if (memcmp(p, (const char *)(uintptr_t)addr, len))
        g->bad++;
    g->last = tag;
    g->n++;
}

TEST_BEGIN(pyread_batch_maps_a_quarter_mib)
{
    struct got g = {0};
    mapped_max = 0;
    expect_true(pyrd_begin(got_block, &g) == 0, "begun");
    pyrd_end();
    expect_true(mapped_max > 0 && mapped_max <= 384 * 1024, "mapped %zu bytes", mapped_max);
    expect_eq_u64(mapped, 0);
}
TEST_END

TEST_BEGIN(pyread_every_block_once_in_order)
{
    struct got g = {0};
    unsigned n = 0;
    expect_true(pyrd_begin(got_block, &g) == 0, "begun");
    /* 6,000 blocks of 24-88 bytes, 8-104 apart and every 50th 700 past
     * the last: more than two batches, neighbours sharing ranges and not */
    uint64_t at = (uint64_t)(uintptr_t)mem;
    for (unsigned i = 0; i < 6000; i++) {
        uint32_t len = 24 + (i * 37) % 65;
        if (at + len > (uint64_t)(uintptr_t)mem + (MEM_PAGES - 1) * 4096ull)
            break;
        expect_true(pyrd_add(at, len, n, at) == 0, "block %u added", i);
        n++;
        at += len + (i % 50 == 49 ? 700 : 8 + (i * 13) % 97);
    }
    pyrd_end();
    expect_true(n == 6000, "%u blocks", n);
    expect_eq_u64(g.n, n);
    expect_eq_u64(g.bad, 0);
    expect_eq_u64(g.nulls, 0);
}
TEST_END

TEST_BEGIN(pyread_window_long_block_taken_longer_refused)
{
    struct got g = {0};
    expect_true(pyrd_begin(got_block, &g) == 0, "begun");
    expect_true(pyrd_add((uint64_t)(uintptr_t)mem + 64, 100, 0, (uint64_t)(uintptr_t)mem + 64) == 0,
                "a small block first");
    expect_true(pyrd_add((uint64_t)(uintptr_t)mem + 8192, 1u << 18, 1,
                         (uint64_t)(uintptr_t)mem + 8192) == 0,
                "a block of a window's length");
    expect_true(pyrd_add((uint64_t)(uintptr_t)mem + 300000, (1u << 18) + 1, 2, 0) != 0,
                "a longer one refused");
    pyrd_end();
    expect_eq_u64(g.n, 2);
    expect_eq_u64(g.bad, 0);
    expect_eq_u64(g.nulls, 0);
}
TEST_END

TEST_BEGIN(pyread_unmapped_block_comes_back_null)
{
    struct got g = {0};
    uint64_t end = (uint64_t)(uintptr_t)mem + (MEM_PAGES - 1) * 4096ull; /* the unmapped page */
    expect_true(pyrd_begin(got_block, &g) == 0, "begun");
    pyrd_add(end - 200, 64, 0, end - 200);
    pyrd_add(end - 100, 200, 1, end - 100); /* runs into the unmapped page */
    pyrd_add(end + 64, 32, 2, end + 64);    /* inside it */
    pyrd_end();
    expect_eq_u64(g.n, 3);
    expect_eq_u64(g.nulls, 2);
    expect_eq_u64(g.bad, 0);
}
TEST_END

static const char *seen[3]; /* where each came back: inside the window, gone at pyrd_end */
static unsigned seen_bad;

static void got_at(void *arg, uint32_t tag, uint64_t aux, const char *p, uint64_t addr,
                   uint32_t len)
{
    if (tag < 3)
        seen[tag] = p;
    if (!p || memcmp(p, (const char *)(uintptr_t)addr, len))
        seen_bad++;
}

/* The system call pins each page of each range: two blocks of one page
 * share a range however far apart, so the page is pinned once; a block of
 * the next page past PYRD_GAP starts a range of its own. */
TEST_BEGIN(pyread_blocks_of_one_page_share_a_range)
{
    uint64_t page = ((uint64_t)(uintptr_t)mem + 8191) & ~4095ull;
    expect_true(pyrd_begin(got_at, NULL) == 0, "begun");
    pyrd_add(page + 8, 16, 0, 0);
    pyrd_add(page + 1000, 16, 1, 0);        /* 976 past: the same page */
    pyrd_add(page + 4096 + 3000, 16, 2, 0); /* the next page, 6,080 past */
    pyrd_end();
    expect_eq_u64(seen_bad, 0);
    expect_eq_u64((uint64_t)(seen[1] - seen[0]), 992);
    expect_eq_u64((uint64_t)(seen[2] - seen[1]), 16);
}
TEST_END

/* Held (one snapshot's passes), the window is mapped once for them all
 * and unmapped when let go; a pass ended refuses blocks all the same. */
TEST_BEGIN(pyread_held_window_mapped_once)
{
    struct got g = {0};
    uint64_t at = (uint64_t)(uintptr_t)mem + 64;
    size_t before = mapped;
    pyrd_hold(1);
    expect_true(pyrd_begin(got_block, &g) == 0, "first pass");
    size_t one = mapped;
    pyrd_end();
    expect_eq_u64(mapped, one);
    expect_true(pyrd_add(at, 16, 0, at) != 0, "ended: refused");
    expect_true(pyrd_begin(got_block, &g) == 0, "second pass");
    expect_eq_u64(mapped, one);
    expect_true(pyrd_add(at, 16, 0, at) == 0, "begun: taken");
    pyrd_end();
    expect_eq_u64(g.n, 1);
    expect_eq_u64(g.bad, 0);
    pyrd_hold(0);
    expect_eq_u64(mapped, before);
}
TEST_END

int main(void)
{
    mem = mmap(NULL, MEM_PAGES * 4096ul, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1,
               0);
    if (mem == MAP_FAILED || munmap(mem + (MEM_PAGES - 1) * 4096ul, 4096) != 0) {
        printf("FAIL pyread_batch_maps_a_quarter_mib: no memory\n");
        return 0;
    }
    for (unsigned long i = 0; i < (MEM_PAGES - 1) * 4096ul; i++)
        mem[i] = (char)(i * 11 + 3);
    pyread_batch_maps_a_quarter_mib();
    pyread_every_block_once_in_order();
    pyread_window_long_block_taken_longer_refused();
    pyread_unmapped_block_comes_back_null();
    pyread_blocks_of_one_page_share_a_range();
    pyread_held_window_mapped_once();
    return 0;
}
