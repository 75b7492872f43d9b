// link: report/base/bigmem.c
/*
 * test_bigmem.c - the CLI's big buffers (bigmem.c): one of 2 MiB or more is
 * advised onto huge pages (its mapping's VmFlags in /proc/self/smaps say
 * "hg"), a smaller one is not; calloc's is zero and realloc's keeps its
 * contents; and an advised buffer that is mostly never written stays mostly
 * not resident (a size from a forged header costs what is filled).
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "cli.h"
#include "unit.h"

/* The smaps entry holding p: its VmFlags has "hg" (*hg) and its Rss in
 * KiB (*rss_kb); 0, or -1 when p is in none. */
static int smaps_of(const void *p, int *hg, unsigned long *rss_kb)
{
    FILE *f = fopen("/proc/self/smaps", "r");
    char line[512];
    int in = 0, found = -1;
    if (!f)
        return -1;
    while (fgets(line, sizeof line, f)) {
        unsigned long lo, hi;
        if (sscanf(line, "%lx-%lx ", &lo, &hi) == 2 && strchr(line, '-') < strchr(line, ' ')) {
            if (in)
                break;
            in = (uintptr_t)p >= lo && (uintptr_t)p < hi;
            continue;
        }
        if (!in)
            continue;
        found = 0;
        if (!strncmp(line, "Rss:", 4))
            *rss_kb = strtoul(line + 4, NULL, 10);
        if (!strncmp(line, "VmFlags:", 8))
            *hg = strstr(line, " hg") != NULL;
    }
    fclose(f);
    return found;
}

static int thp_here(void)
{
    return access("/sys/kernel/mm/transparent_hugepage/enabled", R_OK) == 0;
}

TEST_BEGIN(bigmem_small_buffer_not_advised)
{
    char *p = big_malloc(1u << 20);
    int hg = -1;
    unsigned long rss = 0;
    expect_true(p != NULL, "no memory");
    memset(p, 1, 1u << 20);
    expect_true(smaps_of(p, &hg, &rss) == 0, "the buffer is in no mapping");
    expect_true(hg == 0, "a 1 MiB buffer was advised (hg %d)", hg);
    free(p);
}
TEST_END

TEST_BEGIN(bigmem_big_buffer_advised)
{
    if (!thp_here()) {
        printf("SKIP %s: no transparent huge pages in this kernel\n", unit_name_);
        return;
    }
    char *p = big_malloc(4u << 20);
    int hg = -1;
    unsigned long rss = 0;
    expect_true(p != NULL, "no memory");
    p[0] = 1;
    expect_true(smaps_of(p, &hg, &rss) == 0, "the buffer is in no mapping");
    expect_true(hg == 1, "a 4 MiB buffer was not advised");
    free(p);
}
TEST_END

TEST_BEGIN(bigmem_calloc_zero_realloc_keeps)
{
    size_t n = (3u << 20) / sizeof(uint32_t);
    uint32_t *v = big_calloc(n, sizeof *v);
    expect_true(v != NULL, "no memory");
    for (size_t i = 0; i < n; i++)
        expect_true(v[i] == 0, "v[%zu] == %u after big_calloc", i, v[i]);
    for (size_t i = 0; i < n; i++)
        v[i] = (uint32_t)i * 7u;
    uint32_t *w = big_realloc(v, 2 * n * sizeof *w);
    expect_true(w != NULL, "no memory for the growth");
    for (size_t i = 0; i < n; i++)
        expect_true(w[i] == (uint32_t)i * 7u, "w[%zu] == %u after big_realloc", i, w[i]);
    if (thp_here()) {
        int hg = -1;
        unsigned long rss = 0;
        expect_true(smaps_of(w, &hg, &rss) == 0 && hg == 1, "the grown buffer was not advised");
    }
    free(w);
    expect_true(big_calloc(SIZE_MAX / 2, 4) == NULL, "an overflowing count was met");
}
TEST_END

TEST_BEGIN(bigmem_unwritten_pages_stay_out)
{
    size_t n = 256u << 20; /* as a forged section size would ask */
    char *p = big_malloc(n);
    int hg = -1;
    unsigned long rss = ~0ul;
    expect_true(p != NULL, "no memory");
    p[0] = 1;
    p[n - 1] = 1;
    expect_true(smaps_of(p, &hg, &rss) == 0, "the buffer is in no mapping");
    expect_true(rss <= 8192, "256 MiB asked, two bytes written: %lu KiB resident", rss);
    free(p);
}
TEST_END

int main(void)
{
    bigmem_small_buffer_not_advised();
    bigmem_big_buffer_advised();
    bigmem_calloc_zero_realloc_keeps();
    bigmem_unwritten_pages_stay_out();
    return 0;
}
