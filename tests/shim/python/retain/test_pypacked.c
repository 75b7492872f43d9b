// link: shim/python/retain/pyretain.c shim/python/retain/pydom.c shim/python/heap/heap.c shim/python/graph/pyowned.c shim/base/sbuf.c shim/python/reads/pyarray.c
/*
 * test_pypacked.c - the packed arrays' ways around a mapping that fails
 * (pyretain.c, pyowned.c) on a synthetic heap: the retained sizes'
 * section is the same, or none, whichever one of its mappings fails
 * (the hanging queue left unpacked, with idom held beside it, gives the
 * same section), and the owners' array comes back the same from
 * pyg_owned_pack and pyg_owned_unpack, packed or (its mapping failing) held as it
 * is.  arena_map is this file's own: it fails the k-th mapping asked.
 */
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>

#include "base.h"
#include "record.h"
#include "hsnap_format.h"
#include "hsnap_pyformat.h"
#include "unwind.h"
#include "pylayout.h"
#include "pyreads.h"
#include "pyframes.h"
#include "pywrap.h"
#include "pyheap.h"
#include "pygraph.h"
#include "pyleakref.h"
#include "pyobjects.h"
#include "pyretain.h"
#include "unit.h"

static long maps, fail_at = -1; /* mappings asked; the one to fail */

static int map_fails(void)
{
    return maps++ == fail_at;
}
void *arena_map(size_t n)
{
    if (map_fails())
        return NULL;
    void *p = mmap(NULL, n, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
    return p == MAP_FAILED ? NULL : p;
}
void *arena_map_full(size_t n)
{
    return arena_map(n);
}
void arena_unmap(void *p, size_t n)
{
    munmap(p, n);
}
void *arena_remap(void *p, size_t old, size_t n)
{
    if (map_fails())
        return NULL;
    void *q = mremap(p, old, n, MREMAP_MAYMOVE);
    return q == MAP_FAILED ? NULL : q;
}
void arena_populate(void *p, size_t n) { (void)p, (void)n; }
void degrade_now(const char *why) { printf("degrade: %s\n", why); }
int pyl_count(const struct pyh_heap *h, uint64_t nobj, const uint8_t *want, uint32_t *words)
{
    (void)h, (void)nobj, (void)want, (void)words;
    return -1;
}
int pyg_numpy_owned(const struct pyh_heap *h, uint64_t nobj, const struct pyh_type *ty, uint32_t nty,
                    uint32_t *owner)
{
    (void)h, (void)nobj, (void)ty, (void)nty, (void)owner;
    return 0;
}
int pyg_fields_owned(const struct pyh_heap *h, uint64_t nobj, const struct pyh_type *ty, uint32_t *owner)
{
    (void)h, (void)nobj, (void)ty, (void)owner;
    return 0;
}

enum { NB = 6000 }; /* blocks; every third holds an object */
static struct pyh_block blk[NB];
static struct pyh_obj obj[NB / 3 + 1];
static struct pyh_rank rank[NB / 64 + 2];
static uint32_t sel[NB / 64 + 2];
static struct pyh_heap heap;
static uint64_t nobj;

static void heap_make(void)
{
    memset(&heap, 0, sizeof heap);
    memset(rank, 0, sizeof rank);
    heap.blk = blk, heap.obj = obj, heap.rank = rank, heap.sel = sel, heap.nblk = NB;
    heap.want = 1;
    nobj = 0;
    uint64_t seed = 12345;
    for (uint32_t j = 0; j < NB; j++) {
        blk[j] = (struct pyh_block){0x10000 + (uint64_t)j * 64, 48 + j % 5};
        if (j % 3 == 0) {
            seed = seed * 6364136223846793005ull + 1442695040888963407ull;
            obj[nobj] = (struct pyh_obj){.refcnt = 1 + (seed >> 60) % 3, .tracked = 1,
                                         .garbage = (j % 301) == 0};
            pyh_rank_set(&heap, j, nobj++);
        }
    }
    pyh_rank_end(&heap, nobj);
}

/* Each object's block j: its two native blocks (j + 1, which holds
 * j + 2: trees that hang), and a few other objects (cycles, shared). */
static void edges_put(void)
{
    uint64_t seed = 777;
    pyr_begin(&heap, nobj);
    for (uint32_t j = 0; j < NB; j++) {
        pyr_from(j);
        uint64_t at = blk[j].addr + 8;
        if (j % 3 == 0) {
            pyr_ref(at, j + 1);
            for (int k = 0; k < 2; k++) {
                seed = seed * 6364136223846793005ull + 1442695040888963407ull;
                if ((seed >> 33) % 4)
                    pyr_ref(at + 8, (uint32_t)((seed >> 20) % (NB / 3)) * 3);
            }
        } else if (j % 3 == 1) {
            pyr_ref(at, j + 1);
        }
    }
}

static void drop_none(void) {}

/* The section, with the k-th mapping failing (-1: none); maps counted. */
static struct sbuf section(long k)
{
    struct sbuf b = {0};
    fail_at = -1;
    heap_make();
    edges_put();
    maps = 0, fail_at = k;
    pyr_end(drop_none, pyl_count, NULL);
    fail_at = -1;
    pyr_retain_put(&b);
    return b;
}

TEST_BEGIN(a_failed_mapping_gives_the_same_section_or_none)
    struct sbuf want = section(-1);
    long n = maps, same = 0;
    expect_true(want.len > 0 && !want.err, "a section without failures (%zu bytes)", want.len);
    for (long k = 0; k < n; k++) {
        struct sbuf got = section(k);
        int eq = got.len == want.len && !memcmp(got.p, want.p, want.len);
        expect_true(eq || got.len == 0, "mapping %ld of %ld failed: a different section", k, n);
        same += eq;
        sbuf_free(&got);
    }
    expect_true(same >= 1, "no failure taken the way round (%ld mappings)", n);
    sbuf_free(&want);
TEST_END

TEST_BEGIN(the_owners_come_back_packed_or_not)
    enum { NO = 200000 };
    for (long k = -1; k <= 0; k++) { /* packed; the packing's mapping failing */
        fail_at = -1, maps = 0;
        uint32_t *o = arena_map(NO * 4), *copy = malloc(NO * 4);
        expect_true(o && copy, "room");
        for (uint32_t i = 0; i < NO; i++)
            o[i] = i % 5 ? 0 : 1 + i / 3 + (i % 7 == 0 ? 100000 : 0);
        memcpy(copy, o, NO * 4);
        maps = 0, fail_at = k;
        pyg_owned_pack(&o, NO);
        expect_true(k < 0 ? o == NULL : o != NULL, "packed (%ld): the array given back", k);
        fail_at = -1;
        expect_true(pyg_owned_unpack(&o, NO) == 0 && o, "unpacked");
        expect_true(!memcmp(o, copy, NO * 4), "the same owners (%ld)", k);
        arena_unmap(o, NO * 4);
        free(copy);
    }
TEST_END

int main(void)
{
    a_failed_mapping_gives_the_same_section_or_none();
    the_owners_come_back_packed_or_not();
    return 0;
}
