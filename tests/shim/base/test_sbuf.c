// link: shim/base/arena.c shim/base/sbuf.c shim/base/lock.c
/*
 * test_sbuf.c - the writer's growable buffers: what is appended stays, in
 * order, through every growth, and a buffer that grows is never resident
 * twice (it grows by mremap: a copy into a mapping twice the size had the
 * old buffer and its copy resident at once, up to twice what it holds).
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>

#include "base.h"
#include "unit.h"

void degrade_now(const char *why) { (void)why; }
void opt_warn(const char *a, const char *b, const char *c) { (void)a, (void)b, (void)c; }

/* The resident set's high-water mark in KiB (clear_refs' "5" resets it to
 * the resident set of the moment). */
static long sbuf_hwm_kb(void)
{
    struct rusage u;
    return getrusage(RUSAGE_SELF, &u) == 0 ? u.ru_maxrss : -1;
}

TEST_BEGIN(sbuf_keeps_every_byte_through_growth)
    struct sbuf b = {0};
    for (uint32_t i = 0; i < 300000; i++)
        sbuf_u32(&b, i * 2654435761u);
    expect_true(!b.err && b.len == 300000 * 4, "len %zu err %d", b.len, b.err);
    int bad = 0;
    for (uint32_t i = 0; i < 300000 && !bad; i++) {
        uint32_t v;
        memcpy(&v, b.p + (size_t)i * 4, 4);
        bad = v != i * 2654435761u;
    }
    expect_true(!bad, "a value moved or changed in growth");
    sbuf_free(&b);
TEST_END

TEST_BEGIN(sbuf_growth_not_resident_twice)
    enum { STEP = 1 << 20, TOTAL = 33 }; /* just past a doubling: 32 -> 64 MiB */
    static char chunk[STEP];
    memset(chunk, 0x5a, sizeof chunk);
    struct sbuf b = {0};
    FILE *f = fopen("/proc/self/clear_refs", "w"); /* "5": the peak RSS starts again */
    int reset = f && fputs("5", f) >= 0;
    if (f)
        reset = fclose(f) == 0 && reset;
    long before = sbuf_hwm_kb();
    for (int i = 0; i < TOTAL; i++)
        sbuf_put(&b, chunk, sizeof chunk);
    long hwm = sbuf_hwm_kb();
    expect_true(!b.err && b.len == (size_t)TOTAL * STEP, "len %zu", b.len);
    /* 33 MiB: a copying growth peaked at 64 (the old 32 and their copy) */
    expect_true(reset && before > 0 && hwm - before <= TOTAL * 1024 * 12 / 10,
                "grew %ld KiB for a %d MiB buffer (reset %d)", hwm - before, TOTAL, reset);
    sbuf_free(&b);
TEST_END

int main(void)
{
    sbuf_keeps_every_byte_through_growth();
    sbuf_growth_not_resident_twice();
    return 0;
}
