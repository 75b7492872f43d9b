// link: report/load/pyretainread.c report/load/pytypes.c report/base/escape.c report/load/section.c report/load/pycode.c report/base/bigmem.c
/*
 * test_pyretain.c - report/load/pyretainread.c: a PYRETAIN payload
 * (hsnap_format.h) put on a snapshot's blocks by address (an entry whose
 * block BLOCKS lacks is left out, and what it dominated hangs from the
 * roots; a block without an entry retains its own size), leaked references
 * with both counts, and every damage refused with a one-line reason.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "snap.h"
#include "unit.h"

static const struct hsnap_block blocks[] = {
    {.addr = 0x1000, .size = 48}, {.addr = 0x2000, .size = 64}, {.addr = 0x3000, .size = 32},
    {.addr = 0x4000, .size = 16}};

static char err[512];
static uint32_t types[4] = {0, 0, PYTYPE_NONE, 0};

/* 0x1000 (held) dominates 0x2000, which dominates 0x3000; 0x1800, not in
 * BLOCKS, dominates 0x4000, an object with a leaked reference (refcount 2,
 * no pointer found). */
static struct hsnap_pyretain e[5] = {
    {0x1000, 48 + 64 + 32, HSNAP_PYRETAIN_ROOT, HSNAP_PYRETAIN_HELD, 0, 0},
    {0x1800, 100, HSNAP_PYRETAIN_ROOT, 0, 0, 0},
    {0x2000, 64 + 32, 0, 0, 0, 0},
    {0x3000, 32, 2, 0, 0, 0},
    {0x4000, 16, 1, HSNAP_PYRETAIN_HELD | HSNAP_PYRETAIN_LEAKREF, 2, 0},
};

static int decode(const struct hsnap_pyretain *p, size_t len, struct snap *s)
{
    memset(s, 0, sizeof *s);
    s->blocks = blocks;
    s->nblocks = 4;
    s->py.graph = 1;
    s->py.block_type = types;
    err[0] = 0;
    return pyretain_decode(s, (const uint8_t *)p, len, err, sizeof err);
}

static void undo(struct snap *s)
{
    free(s->py.block_retained), free(s->py.block_idom), free(s->py.block_held);
    free(s->py.block_refcnt), free(s->py.block_refs);
}

TEST_BEGIN(pyretain_dominators_and_sizes_on_their_blocks)
{
    struct snap s;
    expect_true(decode(e, sizeof e, &s) == 0, "%s", err);
    expect_eq_u64(s.py.block_retained[0], 144);
    expect_eq_u64(s.py.block_retained[1], 96);
    expect_eq_u64(s.py.block_idom[0], UINT64_MAX);
    expect_eq_u64(s.py.block_idom[1], 0);
    expect_eq_u64(s.py.block_idom[2], 1);
    expect_eq_u64(s.py.block_idom[3], UINT64_MAX); /* its dominator is not in BLOCKS */
    expect_eq_u64(s.py.block_held[0], 1);
    expect_eq_u64(s.py.block_held[1], 0);
    expect_eq_u64(s.py.leakrefs, 1);
    expect_eq_u64(s.py.block_refcnt[3], 2);
    expect_eq_u64(s.py.block_refs[3], 0);
    undo(&s);
}
TEST_END

TEST_BEGIN(pyretain_absent_block_retains_its_own_size)
{
    struct snap s;
    expect_true(decode(e, 0, &s) == 0, "%s", err);
    expect_eq_u64(s.py.block_retained[1], 64);
    expect_eq_u64(s.py.block_idom[1], UINT64_MAX);
    expect_true(s.py.block_refcnt == NULL, "no leaked references");
    undo(&s);
}
TEST_END

TEST_BEGIN(pyretain_damage_refused_in_one_line)
{
    struct hsnap_pyretain d[5];
    struct snap s;
    const char *want[] = {"not a whole number", "addresses not ascending",
                          "dominator past the entries", "its own dominator", "less than its own"};
    for (int k = 0; k < 5; k++) {
        memcpy(d, e, sizeof d);
        size_t len = sizeof d;
        if (k == 0)
            len -= 3;
        else if (k == 1)
            d[2].addr = 0x1000;
        else if (k == 2)
            d[3].idom = 9;
        else if (k == 3)
            d[3].idom = 3;
        else
            d[0].retained = 8;
        expect_true(decode(d, len, &s) == -1, "damage %d accepted", k);
        expect_true(strstr(err, "section PYRETAIN: ") == err && strstr(err, want[k]) &&
                        !strchr(err, '\n'),
                    "damage %d: %s", k, err);
        undo(&s);
    }
}
TEST_END

int main(void)
{
    pyretain_dominators_and_sizes_on_their_blocks();
    pyretain_absent_block_retains_its_own_size();
    pyretain_damage_refused_in_one_line();
    return 0;
}
