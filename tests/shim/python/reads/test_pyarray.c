// link: shim/python/reads/pyarray.c shim/base/arena.c shim/base/lock.c
/*
 * test_pyarray.c - shim/python/reads/pyarray.c's pyrd_array_double, on the
 * real arena: an array doubled from an arena block to mappings of its own
 * keeps every record and gets zeroed room past them at each step; once it
 * is a mapping, the doubling maps no second copy (under an address-space
 * limit that fits the growth but not old and new at once, it succeeds); an
 * array that stays within arena blocks still doubles by a copy.
 */
#include <fcntl.h>
#include <stdint.h>
#include <stdlib.h>
#include <sys/resource.h>
#include <unistd.h>

#include "base.h"
#include "pyreads.h"
#include "unit.h"

static int degraded;
void degrade_now(const char *why) { degraded = 1; }
void opt_warn(const char *a, const char *b, const char *c) {}

struct rec {
    uint64_t a, b, c; /* 24 bytes, as native.c's records */
};

TEST_BEGIN(py_array_double_keeps_records_past_the_arena_blocks)
    struct rec *r = NULL;
    uint32_t cap = 0, n = 0;
    while (cap < (1u << 20)) { /* 24 MiB at the last step */
        uint32_t before = cap;
        struct rec *g = pyrd_array_double(r, n, &cap, sizeof *r, 256);
        expect_true(g != NULL, "doubling from %u records failed", before);
        if (!g)
            break;
        expect_true(cap == (before ? 2 * before : 256), "cap %u after %u", cap, before);
        for (uint32_t i = 0; i < n; i++)
            if (g[i].a != i || g[i].b != ~(uint64_t)i || g[i].c != (uint64_t)i * 3) {
                expect_true(0, "record %u of %u lost at cap %u", i, n, cap);
                break;
            }
        for (uint32_t i = n; i < cap; i++)
            if (g[i].a || g[i].b || g[i].c) {
                expect_true(0, "record %u past the %u kept is not zero (cap %u)", i, n, cap);
                break;
            }
        r = g;
        for (; n < cap; n++)
            r[n] = (struct rec){n, ~(uint64_t)n, (uint64_t)n * 3};
    }
    expect_true(degraded == 0, "the arena degraded");
TEST_END

/* The process's address space in bytes (/proc/self/statm's first field). */
static size_t vm_size(void)
{
    char buf[128] = {0};
    int fd = open("/proc/self/statm", O_RDONLY);
    if (fd < 0)
        return 0;
    ssize_t got = read(fd, buf, sizeof buf - 1);
    close(fd);
    return got > 0 ? strtoull(buf, NULL, 10) * (size_t)sysconf(_SC_PAGESIZE) : 0;
}

TEST_BEGIN(py_array_double_maps_no_second_copy)
    struct rec *r = NULL;
    uint32_t cap = 0;
    while (r == NULL || (size_t)cap * sizeof *r < (32u << 20)) {
        struct rec *g = pyrd_array_double(r, 0, &cap, sizeof *r, 256);
        expect_true(g != NULL, "doubling to %u records failed", cap);
        if (!g)
            return;
        r = g;
    }
    size_t old = (size_t)cap * sizeof *r, base = arena_mapped() - old;
    /* Room for the doubling's growth (old more bytes) and a little, not
     * for a second copy beside the old (2 x old more): a copy fails. */
    struct rlimit was, lim;
    getrlimit(RLIMIT_AS, &was);
    size_t now = vm_size();
    expect_true(now > 0, "no /proc/self/statm");
    lim = was;
    lim.rlim_cur = now + old + (8u << 20);
    setrlimit(RLIMIT_AS, &lim);
    struct rec *g = pyrd_array_double(r, cap, &cap, sizeof *r, 256);
    setrlimit(RLIMIT_AS, &was);
    expect_true(g != NULL, "doubling %zu bytes past an address-space limit that fits the "
                           "growth but not a copy failed",
                old);
    expect_true(arena_mapped() == base + 2 * old, "%zu bytes mapped for %zu of records",
                arena_mapped() - base, 2 * old);
TEST_END

TEST_BEGIN(py_array_double_within_blocks_copies)
    uint64_t *r = NULL;
    uint32_t cap = 0, n = 0;
    while ((size_t)cap * sizeof *r < ARENA_BLOCK_MAX) {
        uint64_t *g = pyrd_array_double(r, n, &cap, sizeof *r, 16);
        expect_true(g != NULL, "doubling to %u failed", cap);
        if (!g)
            break;
        expect_true(g != r, "a block grew in place (cap %u)", cap);
        for (uint32_t i = 0; i < n; i++)
            expect_true(g[i] == i * 7, "value %u lost at cap %u", i, cap);
        r = g;
        for (; n < cap; n++)
            r[n] = n * 7;
    }
TEST_END

int main(void)
{
    py_array_double_keeps_records_past_the_arena_blocks();
    py_array_double_maps_no_second_copy();
    py_array_double_within_blocks_copies();
    return 0;
}
