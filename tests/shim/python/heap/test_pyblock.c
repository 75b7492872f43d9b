// link: shim/base/lock.c
/*
 * test_pyblock.c - the graph's 8-byte blocks (pyheap.h's struct pyh_block
 * and struct pyh_rank): an address up to the largest kept and a size up
 * to the largest not in the big list come back from the packed word, and
 * a block's object is found from the rank words pyh_rank_set fills (the
 * objects in block order): every block with one names it, every other
 * none, across words with no object, full words and a word's last bit,
 * and a block's objects below (pyh_objs_below, once pyh_rank_end has
 * filled the words after the last object's) are those counted; an
 * object is 8 bytes, its count kept up to the immortals' 2^32 - 1, and
 * its block found back from its index (pyh_blk_of, by the sampled blocks
 * of every 64th object, and pyh_next, walking them in order).
 */
#include <stdlib.h>
#include <string.h>

#include "pylayout.h"
#include "pyheap.h"
#include "unit.h"

struct pylay_syms pylay_sym;

TEST_BEGIN(a_block_is_eight_bytes)
    expect_true(sizeof(struct pyh_block) == 8, "sizeof(struct pyh_block) == 8");
TEST_END

TEST_BEGIN(an_object_is_eight_bytes)
    expect_true(sizeof(struct pyh_obj) == 8, "sizeof(struct pyh_obj) == 8");
    struct pyh_obj o = {.refcnt = PYG_REFCNT_MAX, .off = 32, .type = PYG_TYPES_MAX - 1};
    expect_true(o.refcnt == 0xffffffffull, "an immortal's count kept");
    expect_true(o.off == 32 && o.type == PYG_TYPES_MAX - 1, "offset and type at their limits");
TEST_END

TEST_BEGIN(address_and_size_come_back_at_their_limits)
    static const uint64_t addrs[] = {0, 16, 0x7fffffffeff0ull, PYG_ADDR_MAX - 1};
    static const uint64_t sizes[] = {0, 1, 16, PYG_BIG - 1, PYG_BIG};
    for (unsigned a = 0; a < sizeof addrs / sizeof *addrs; a++)
        for (unsigned s = 0; s < sizeof sizes / sizeof *sizes; s++) {
            struct pyh_block b = {addrs[a], sizes[s]};
            expect_true(b.addr == addrs[a], "b.addr == addrs[a]");
            expect_true(b.size == sizes[s], "b.size == sizes[s]");
        }
TEST_END

TEST_BEGIN(each_block_names_its_object_by_rank)
    enum { N = 64 * 40 + 17 };
    static struct pyh_rank rank[N / 64 + 1];
    static uint32_t want[N], sel[N / 64 + 1];
    static uint64_t blk_of[N];
    struct pyh_heap h = {.nblk = N, .rank = rank, .sel = sel};
    uint64_t nobj = 0;
    srand(46);
    for (uint64_t b = 0; b < N; b++) {
        uint64_t word = b / 64;
        /* words 3, 9 and the last hold none, word 5 every block, the
         * others some */
        int has = word == 3 || word == 9 || word == N / 64 ? 0 : word == 5 ? 1 : b % 64 == 63 || rand() % 3 == 0;
        want[b] = has ? (uint32_t)nobj : PYG_NONE;
        if (has)
            blk_of[nobj] = b, pyh_rank_set(&h, b, nobj++);
    }
    pyh_rank_end(&h, nobj);
    int bad = 0, below_bad = 0;
    uint64_t below = 0;
    for (uint64_t b = 0; b < N; b++) {
        bad += pyh_obj_of(&h, b) != want[b];
        below_bad += pyh_objs_below(&h, b) != below;
        below += want[b] != PYG_NONE;
    }
    expect_true(bad == 0, "every block's object as set");
    expect_true(below_bad == 0, "every block's objects below as counted");
    expect_true(nobj > N / 3, "objects among the blocks");
    int blk_bad = 0, next_bad = 0;
    uint64_t n = 0, i;
    for (uint64_t k = 0; k < nobj; k++)
        blk_bad += pyh_blk_of(&h, k) != blk_of[k];
    for (struct pyh_it it = {0, UINT64_MAX}; pyh_next(&h, nobj, &it, &i); n++)
        next_bad += i != n || it.bj != blk_of[i];
    expect_true(blk_bad == 0, "every object's block found back by its index");
    expect_true(next_bad == 0 && n == nobj, "the objects walked in order with their blocks");
TEST_END

int main(void)
{
    a_block_is_eight_bytes();
    an_object_is_eight_bytes();
    address_and_size_come_back_at_their_limits();
    each_block_names_its_object_by_rank();
    return 0;
}
