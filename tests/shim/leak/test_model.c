// link: shim/leak/model.c shim/leak/records.c
/*
 * test_model.c - the reference model on synthetic heaps: one big buffer
 * carved into glibc-like chunks (a 16-byte header whose size field sits 8
 * bytes before the user pointer), words that point at each other, and fake
 * root ranges.  Each case pins classes, bytes, blocks, refcounts and loss
 * records for one graph shape; no process, no shim.
 */
#include <signal.h>
#include <stdint.h>
#include <stdlib.h>
#include <sys/mman.h>
#include <time.h>

#include "leak/model.h"
#include "unit.h"

/* ---- a synthetic heap ---------------------------------------------------- */

struct heap {
    unsigned char *mem; /* 16-aligned buffer the chunks are carved from */
    size_t cap, used;
    struct hsnap_block *b;
    size_t n, bcap;
};

static void heap_init(struct heap *h, size_t cap, size_t nblocks)
{
    h->mem = aligned_alloc(16, cap);
    memset(h->mem, 0, cap);
    h->cap = cap;
    h->used = 0;
    h->b = calloc(nblocks ? nblocks : 1, sizeof(*h->b));
    h->n = 0;
    h->bcap = nblocks;
}

static void heap_fini(struct heap *h)
{
    free(h->mem);
    free(h->b);
}

/* glibc's chunk size for a request: size + 8 rounded up to 16, at least 32. */
static size_t chunk_size(size_t size)
{
    size_t c = (size + 8 + 15) & ~(size_t)15;
    return c < 32 ? 32 : c;
}

/* Carve the next block, in address order; returns its index. */
static uint32_t heap_block(struct heap *h, size_t size)
{
    size_t c = chunk_size(size);
    unsigned char *chunk = h->mem + h->used;
    if (h->used + c + 16 > h->cap || h->n == h->bcap)
        abort();
    *(uint64_t *)(chunk + 8) = c | 1; /* size field, PREV_INUSE */
    h->used += c;
    struct hsnap_block *b = &h->b[h->n];
    b->addr = (uintptr_t)(chunk + 16);
    b->size = size;
    b->trace = (uint32_t)h->n;
    return (uint32_t)h->n++;
}

static uintptr_t addr(const struct heap *h, uint32_t i) { return h->b[i].addr; }

/* Word k of block i := value. */
static void heap_set(struct heap *h, uint32_t i, size_t k, uintptr_t value)
{
    ((uintptr_t *)h->b[i].addr)[k] = value;
}

/* Block i points at block j (word k). */
static void heap_link(struct heap *h, uint32_t i, size_t k, uint32_t j)
{
    heap_set(h, i, k, addr(h, j));
}

/* ---- the caller's services ------------------------------------------------ */

struct acct {
    size_t held, peak, live;
    int calls;   /* allocations asked for so far */
    int fail_at; /* fail only allocation number fail_at (1-based); 0: none */
};

static void *acct_alloc(size_t size, void *ctx)
{
    struct acct *a = ctx;
    if (++a->calls == a->fail_at)
        return NULL;
    void *p = malloc(size);
    if (p) {
        a->held += size;
        a->live++;
        if (a->held > a->peak)
            a->peak = a->held;
    }
    return p;
}

static void acct_free(void *p, size_t size, void *ctx)
{
    struct acct *a = ctx;
    a->held -= size;
    a->live--;
    free(p);
}

/* glibc's rule, as the shim will apply it: the word is the address of the
 * chunk header that follows block b. */
static int glibc_is_meta(uintptr_t word, const struct hsnap_block *b, void *ctx)
{
    uint64_t csize = *(const uint64_t *)(uintptr_t)(b->addr - 8) & ~(uint64_t)7;
    return word == b->addr - 16 + csize;
}

static struct acct g_acct;
static const struct model_ops g_ops = {acct_alloc, acct_free, glibc_is_meta, &g_acct};

/* Root ranges live in their own malloc'd words, outside the heap. */
static uintptr_t *g_rootmem;
static struct model_root g_roots[4];

static size_t roots_one(const uintptr_t *words, size_t nwords, uint32_t flags)
{
    memcpy(g_rootmem, words, nwords * sizeof(uintptr_t));
    g_roots[0] = (struct model_root){(uintptr_t)g_rootmem,
                                     (uintptr_t)(g_rootmem + nwords), MODEL_ROOT_DATA, flags};
    return 1;
}

static int run(struct heap *h, size_t nroots, struct model_result *out)
{
    return model_run(h->b, h->n, g_roots, nroots, &g_ops, out);
}

static int total_is(const struct model_result *r, int cls, uint64_t bytes, uint64_t blocks)
{
    return r->total[cls].bytes == bytes && r->total[cls].blocks == blocks;
}

/* own + indirect over the records equals direct + indirect + cycle. */
static int records_add_up(const struct model_result *r)
{
    uint64_t bytes = 0, blocks = 0;
    for (size_t i = 0; i < r->nrecords; i++) {
        bytes += r->records[i].own_bytes + r->records[i].indirect_bytes;
        blocks += r->records[i].own_blocks + r->records[i].indirect_blocks;
    }
    const struct hsnap_leak_total *t = r->total;
    return bytes == t[HSNAP_CLASS_DIRECT].bytes + t[HSNAP_CLASS_INDIRECT].bytes +
                        t[HSNAP_CLASS_CYCLE].bytes &&
           blocks == t[HSNAP_CLASS_DIRECT].blocks + t[HSNAP_CLASS_INDIRECT].blocks +
                         t[HSNAP_CLASS_CYCLE].blocks;
}

/* ---- small graphs --------------------------------------------------------- */

TEST_BEGIN(test_no_leak)
    struct heap h;
    struct model_result r;
    heap_init(&h, 4096, 8);
    uint32_t a = heap_block(&h, 40), b = heap_block(&h, 24);
    heap_link(&h, a, 2, b);
    uintptr_t w[] = {7, addr(&h, a), 0};
    expect_eq_u64(run(&h, roots_one(w, 3, 0), &r), MODEL_OK);
    expect_true(total_is(&r, HSNAP_CLASS_REACHABLE, 64, 2), "reachable %llu/%llu",
                (unsigned long long)r.total[1].bytes, (unsigned long long)r.total[1].blocks);
    expect_eq_u64(r.nrecords, 0);
    expect_eq_u64(h.b[a].refcount, 1);
    expect_eq_u64(h.b[b].refcount, 1);
    expect_eq_u64(h.b[a].flags, MODEL_BF_START | MODEL_BF_ROOTREF);
    expect_eq_u64(h.b[b].flags, MODEL_BF_START);
    model_result_free(&r, &g_ops);
    expect_eq_u64(g_acct.live, 0);
    heap_fini(&h);
TEST_END

TEST_BEGIN(test_one_direct)
    struct heap h;
    struct model_result r;
    heap_init(&h, 4096, 8);
    uint32_t a = heap_block(&h, 40), d = heap_block(&h, 100);
    uintptr_t w[] = {addr(&h, a)};
    expect_eq_u64(run(&h, roots_one(w, 1, 0), &r), MODEL_OK);
    expect_eq_u64(h.b[d].cls, HSNAP_CLASS_DIRECT);
    expect_true(total_is(&r, HSNAP_CLASS_DIRECT, 100, 1), "direct total");
    expect_true(total_is(&r, HSNAP_CLASS_REACHABLE, 40, 1), "reachable total");
    expect_eq_u64(r.nrecords, 1);
    expect_eq_u64(r.records[0].root, d);
    expect_eq_u64(r.records[0].cls, HSNAP_CLASS_DIRECT);
    expect_eq_u64(r.records[0].own_bytes, 100);
    expect_eq_u64(r.records[0].indirect_blocks, 0);
    expect_eq_u64(r.records[0].nmembers, 0);
    model_result_free(&r, &g_ops);
    heap_fini(&h);
TEST_END

/* A lost list: 1 direct + 3 indirect, like 48 (16 direct, 32 indirect). */
TEST_BEGIN(test_lost_list)
    struct heap h;
    struct model_result r;
    heap_init(&h, 4096, 8);
    uint32_t n[4];
    for (int i = 0; i < 4; i++)
        n[i] = heap_block(&h, 16);
    for (int i = 0; i < 3; i++)
        heap_link(&h, n[i], 1, n[i + 1]);
    expect_eq_u64(run(&h, 0, &r), MODEL_OK);
    expect_true(total_is(&r, HSNAP_CLASS_DIRECT, 16, 1), "direct total");
    expect_true(total_is(&r, HSNAP_CLASS_INDIRECT, 48, 3), "indirect total");
    expect_eq_u64(r.nrecords, 1);
    expect_eq_u64(r.records[0].root, n[0]);
    expect_eq_u64(r.records[0].own_bytes, 16);
    expect_eq_u64(r.records[0].indirect_bytes, 48);
    expect_eq_u64(r.records[0].indirect_blocks, 3);
    expect_eq_u64(h.b[n[3]].refcount, 1);
    expect_eq_u64(h.b[n[0]].refcount, 0);
    model_result_free(&r, &g_ops);
    heap_fini(&h);
TEST_END

/* The list built backwards (the root at the highest address) still gives one
 * record: ownership follows edges, not addresses. */
TEST_BEGIN(test_lost_list_backwards)
    struct heap h;
    struct model_result r;
    heap_init(&h, 4096, 8);
    uint32_t n[4];
    for (int i = 0; i < 4; i++)
        n[i] = heap_block(&h, 16);
    for (int i = 3; i > 0; i--)
        heap_link(&h, n[i], 0, n[i - 1]);
    expect_eq_u64(run(&h, 0, &r), MODEL_OK);
    expect_eq_u64(r.nrecords, 1);
    expect_eq_u64(r.records[0].root, n[3]);
    expect_eq_u64(r.records[0].indirect_blocks, 3);
    expect_eq_u64(h.b[n[0]].cls, HSNAP_CLASS_INDIRECT);
    model_result_free(&r, &g_ops);
    heap_fini(&h);
TEST_END

TEST_BEGIN(test_lost_tree)
    struct heap h;
    struct model_result r;
    heap_init(&h, 4096, 8);
    uint32_t t = heap_block(&h, 24), l = heap_block(&h, 24), rr = heap_block(&h, 24);
    uint32_t ll = heap_block(&h, 8), lr = heap_block(&h, 8);
    heap_link(&h, t, 0, l);
    heap_link(&h, t, 1, rr);
    heap_link(&h, l, 0, ll);
    heap_link(&h, l, 1, lr);
    expect_eq_u64(run(&h, 0, &r), MODEL_OK);
    expect_true(total_is(&r, HSNAP_CLASS_DIRECT, 24, 1), "direct total");
    expect_true(total_is(&r, HSNAP_CLASS_INDIRECT, 64, 4), "indirect total");
    expect_eq_u64(r.nrecords, 1);
    expect_eq_u64(r.records[0].root, t);
    expect_eq_u64(r.records[0].indirect_bytes, 64);
    expect_true(records_add_up(&r), "records do not add up");
    model_result_free(&r, &g_ops);
    heap_fini(&h);
TEST_END

TEST_BEGIN(test_two_cycle)
    struct heap h;
    struct model_result r;
    heap_init(&h, 4096, 8);
    uint32_t a = heap_block(&h, 16), b = heap_block(&h, 32);
    heap_link(&h, a, 0, b);
    heap_link(&h, b, 1, a);
    expect_eq_u64(run(&h, 0, &r), MODEL_OK);
    expect_true(total_is(&r, HSNAP_CLASS_CYCLE, 48, 2), "cycle total");
    expect_true(total_is(&r, HSNAP_CLASS_DIRECT, 0, 0), "no direct");
    expect_eq_u64(r.nrecords, 1);
    expect_eq_u64(r.records[0].cls, HSNAP_CLASS_CYCLE);
    expect_eq_u64(r.records[0].root, a);
    expect_eq_u64(r.records[0].own_bytes, 48);
    expect_eq_u64(r.records[0].nmembers, 2);
    expect_eq_u64(r.members[r.records[0].members_off], a);
    expect_eq_u64(r.members[r.records[0].members_off + 1], b);
    expect_eq_u64(r.records[0].ref_min, 1);
    expect_eq_u64(r.records[0].ref_max, 1);
    model_result_free(&r, &g_ops);
    heap_fini(&h);
TEST_END

/* A ring of 10 linked in a scrambled address order: members come out in
 * ring order from the lowest address. */
TEST_BEGIN(test_ring_of_10)
    struct heap h;
    struct model_result r;
    static const int order[10] = {0, 7, 3, 9, 1, 5, 8, 2, 6, 4};
    heap_init(&h, 8192, 16);
    for (int i = 0; i < 10; i++)
        heap_block(&h, 24);
    for (int i = 0; i < 10; i++)
        heap_link(&h, order[i], 0, order[(i + 1) % 10]);
    expect_eq_u64(run(&h, 0, &r), MODEL_OK);
    expect_true(total_is(&r, HSNAP_CLASS_CYCLE, 240, 10), "cycle total");
    expect_eq_u64(r.nrecords, 1);
    expect_eq_u64(r.nmembers, 10);
    for (int i = 0; i < 10; i++)
        expect_true(r.members[i] == (uint32_t)order[i], "member %d is %u, want %d", i,
                    r.members[i], order[i]);
    model_result_free(&r, &g_ops);
    heap_fini(&h);
TEST_END

/* A block that points only into itself (a struct whose pointer aims at its
 * own buffer, a C++ object holding a short std::string) is not a cycle:
 * direct when nothing lost points to it, as memcheck and LSan say. */
TEST_BEGIN(test_self_reference_is_not_a_cycle)
    struct heap h;
    struct model_result r;
    heap_init(&h, 4096, 8);
    uint32_t a = heap_block(&h, 32), b = heap_block(&h, 32);
    heap_set(&h, a, 2, addr(&h, a) + 8); /* interior self-reference */
    heap_link(&h, a, 3, b);
    expect_eq_u64(run(&h, 0, &r), MODEL_OK);
    expect_eq_u64(h.b[a].cls, HSNAP_CLASS_DIRECT);
    expect_eq_u64(h.b[a].refcount, 1);
    expect_true(h.b[a].flags & MODEL_BF_SELF, "SELF flag");
    expect_eq_u64(h.b[b].cls, HSNAP_CLASS_INDIRECT);
    expect_true(total_is(&r, HSNAP_CLASS_CYCLE, 0, 0), "no cycle");
    expect_true(total_is(&r, HSNAP_CLASS_DIRECT, 32, 1), "direct total");
    expect_eq_u64(r.nrecords, 1);
    expect_eq_u64(r.records[0].cls, HSNAP_CLASS_DIRECT);
    expect_eq_u64(r.records[0].root, a);
    expect_eq_u64(r.records[0].nmembers, 0);
    expect_eq_u64(r.nmembers, 0);
    expect_eq_u64(r.records[0].indirect_bytes, 32);
    expect_true(records_add_up(&r), "records add up");
    model_result_free(&r, &g_ops);
    heap_fini(&h);
TEST_END

/* The same self-pointing block, owned by a lost one, is indirect; with a
 * start self-reference too.  Two blocks that point at each other and at
 * themselves still make a cycle of two. */
TEST_BEGIN(test_self_reference_owned_is_indirect)
    struct heap h;
    struct model_result r;
    heap_init(&h, 4096, 8);
    uint32_t d = heap_block(&h, 16), a = heap_block(&h, 32);
    uint32_t x = heap_block(&h, 24), y = heap_block(&h, 24);
    heap_link(&h, d, 0, a);
    heap_link(&h, a, 0, a);              /* start self-reference */
    heap_set(&h, a, 1, addr(&h, a) + 16); /* and an interior one */
    heap_link(&h, x, 0, y);
    heap_link(&h, y, 0, x);
    heap_link(&h, x, 1, x);
    heap_link(&h, y, 1, y);
    expect_eq_u64(run(&h, 0, &r), MODEL_OK);
    expect_eq_u64(h.b[d].cls, HSNAP_CLASS_DIRECT);
    expect_eq_u64(h.b[a].cls, HSNAP_CLASS_INDIRECT);
    expect_eq_u64(h.b[a].refcount, 3);
    expect_eq_u64(h.b[x].cls, HSNAP_CLASS_CYCLE);
    expect_eq_u64(h.b[y].cls, HSNAP_CLASS_CYCLE);
    expect_true(total_is(&r, HSNAP_CLASS_CYCLE, 48, 2), "cycle total");
    expect_eq_u64(r.nrecords, 2);
    expect_eq_u64(r.records[0].cls, HSNAP_CLASS_DIRECT);
    expect_eq_u64(r.records[0].root, d);
    expect_eq_u64(r.records[0].indirect_bytes, 32);
    expect_eq_u64(r.records[1].cls, HSNAP_CLASS_CYCLE);
    expect_eq_u64(r.records[1].nmembers, 2);
    expect_true(records_add_up(&r), "records add up");
    model_result_free(&r, &g_ops);
    heap_fini(&h);
TEST_END

TEST_BEGIN(test_cycles_still_reachable)
    struct heap h;
    struct model_result r;
    heap_init(&h, 8192, 16);
    uint32_t a = heap_block(&h, 16), b = heap_block(&h, 16);
    uint32_t ring[5];
    for (int i = 0; i < 5; i++)
        ring[i] = heap_block(&h, 16);
    heap_link(&h, a, 0, b);
    heap_link(&h, b, 0, a);
    for (int i = 0; i < 5; i++)
        heap_link(&h, ring[i], 0, ring[(i + 1) % 5]);
    uintptr_t w[] = {addr(&h, b), addr(&h, ring[3])};
    expect_eq_u64(run(&h, roots_one(w, 2, 0), &r), MODEL_OK);
    expect_true(total_is(&r, HSNAP_CLASS_REACHABLE, 112, 7), "reachable total");
    expect_eq_u64(r.nrecords, 0);
    expect_eq_u64(h.b[ring[3]].refcount, 2);
    expect_eq_u64(h.b[ring[4]].refcount, 1);
    model_result_free(&r, &g_ops);
    heap_fini(&h);
TEST_END

/* D -> (A <-> B): one record, D's; A and B keep class CYCLE. */
TEST_BEGIN(test_direct_into_cycle)
    struct heap h;
    struct model_result r;
    heap_init(&h, 4096, 8);
    uint32_t a = heap_block(&h, 16), b = heap_block(&h, 16), d = heap_block(&h, 48);
    heap_link(&h, a, 0, b);
    heap_link(&h, b, 0, a);
    heap_link(&h, d, 5, a);
    expect_eq_u64(run(&h, 0, &r), MODEL_OK);
    expect_true(total_is(&r, HSNAP_CLASS_CYCLE, 32, 2), "cycle total");
    expect_true(total_is(&r, HSNAP_CLASS_DIRECT, 48, 1), "direct total");
    expect_eq_u64(r.nrecords, 1);
    expect_eq_u64(r.records[0].root, d);
    expect_eq_u64(r.records[0].cls, HSNAP_CLASS_DIRECT);
    expect_eq_u64(r.records[0].indirect_blocks, 2);
    expect_eq_u64(r.records[0].indirect_bytes, 32);
    expect_eq_u64(r.nmembers, 0);
    expect_eq_u64(h.b[a].refcount, 2);
    model_result_free(&r, &g_ops);
    heap_fini(&h);
TEST_END

/* (A <-> B) -> T1 -> T2: the cycle owns its tail. */
TEST_BEGIN(test_cycle_owns_tail)
    struct heap h;
    struct model_result r;
    heap_init(&h, 4096, 8);
    uint32_t t2 = heap_block(&h, 8), a = heap_block(&h, 16), t1 = heap_block(&h, 24);
    uint32_t b = heap_block(&h, 16);
    heap_link(&h, a, 0, b);
    heap_link(&h, b, 0, a);
    heap_link(&h, b, 1, t1);
    heap_link(&h, t1, 2, t2);
    expect_eq_u64(run(&h, 0, &r), MODEL_OK);
    expect_eq_u64(h.b[t1].cls, HSNAP_CLASS_INDIRECT);
    expect_eq_u64(h.b[t2].cls, HSNAP_CLASS_INDIRECT);
    expect_eq_u64(r.nrecords, 1);
    expect_eq_u64(r.records[0].cls, HSNAP_CLASS_CYCLE);
    expect_eq_u64(r.records[0].root, a);
    expect_eq_u64(r.records[0].own_bytes, 32);
    expect_eq_u64(r.records[0].indirect_bytes, 32);
    expect_eq_u64(r.records[0].indirect_blocks, 2);
    expect_true(records_add_up(&r), "records do not add up");
    model_result_free(&r, &g_ops);
    heap_fini(&h);
TEST_END

/* Two direct leaks share a child: the lower address owns it, once. */
TEST_BEGIN(test_shared_child_owned_once)
    struct heap h;
    struct model_result r;
    heap_init(&h, 4096, 8);
    uint32_t d1 = heap_block(&h, 16), x = heap_block(&h, 40), d2 = heap_block(&h, 16);
    heap_link(&h, d1, 0, x);
    heap_link(&h, d2, 0, x);
    expect_eq_u64(run(&h, 0, &r), MODEL_OK);
    expect_eq_u64(r.nrecords, 2);
    expect_eq_u64(r.records[0].root, d1);
    expect_eq_u64(r.records[0].indirect_bytes, 40);
    expect_eq_u64(r.records[1].root, d2);
    expect_eq_u64(r.records[1].indirect_bytes, 0);
    expect_eq_u64(h.b[x].refcount, 2);
    expect_true(records_add_up(&r), "records do not add up");
    model_result_free(&r, &g_ops);
    heap_fini(&h);
TEST_END

/* An interior pointer from a root: possibly lost, and so is all it reaches,
 * by start or interior pointers.  An interior pointer from a reachable block
 * too. */
TEST_BEGIN(test_interior_only)
    struct heap h;
    struct model_result r;
    heap_init(&h, 4096, 8);
    uint32_t a = heap_block(&h, 32), b = heap_block(&h, 16);
    uint32_t c = heap_block(&h, 16), d = heap_block(&h, 64), e = heap_block(&h, 16);
    heap_link(&h, a, 0, b);
    heap_set(&h, b, 1, addr(&h, e) + 4);
    heap_set(&h, c, 1, addr(&h, d) + 40);
    uintptr_t w[] = {addr(&h, a) + 8, addr(&h, c)};
    expect_eq_u64(run(&h, roots_one(w, 2, 0), &r), MODEL_OK);
    expect_eq_u64(h.b[a].cls, HSNAP_CLASS_POSSIBLE);
    expect_eq_u64(h.b[b].cls, HSNAP_CLASS_POSSIBLE);
    expect_eq_u64(h.b[c].cls, HSNAP_CLASS_REACHABLE);
    expect_eq_u64(h.b[d].cls, HSNAP_CLASS_POSSIBLE);
    expect_eq_u64(h.b[e].cls, HSNAP_CLASS_POSSIBLE); /* interior, from a possible block */
    expect_eq_u64(h.b[a].flags, MODEL_BF_INTERIOR | MODEL_BF_ROOTREF);
    expect_true(total_is(&r, HSNAP_CLASS_POSSIBLE, 128, 4), "possible total");
    expect_eq_u64(r.nrecords, 0);
    model_result_free(&r, &g_ops);
    heap_fini(&h);
TEST_END

/* reserved MODEL_START_ANY (gobj_mark: GObject's blocks): any reference
 * into the block is a start reference; its neighbour keeps Valgrind's rule. */
TEST_BEGIN(test_start_any_takes_interior)
    struct heap h;
    struct model_result r;
    heap_init(&h, 4096, 8);
    uint32_t a = heap_block(&h, 96), b = heap_block(&h, 32), c = heap_block(&h, 96);
    heap_link(&h, a, 3, b); /* a (reached 8 bytes in) holds b by its start */
    h.b[a].reserved = MODEL_START_ANY;
    uintptr_t w[] = {addr(&h, a) + 8, addr(&h, c) + 8};
    expect_eq_u64(run(&h, roots_one(w, 2, 0), &r), MODEL_OK);
    expect_eq_u64(h.b[a].cls, HSNAP_CLASS_REACHABLE);
    expect_eq_u64(h.b[a].flags, MODEL_BF_START | MODEL_BF_ROOTREF);
    expect_eq_u64(h.b[b].cls, HSNAP_CLASS_REACHABLE);
    expect_eq_u64(h.b[c].cls, HSNAP_CLASS_POSSIBLE);
    expect_true(total_is(&r, HSNAP_CLASS_POSSIBLE, 96, 1), "possible total");
    model_result_free(&r, &g_ops);
    heap_fini(&h);
TEST_END

/* A Python object's start (reserved: past its PyGC_Head) with its low bit
 * set is a start reference (PyTorch's `pointer | 1`, c10::impl::PyObjectSlot);
 * an odd start (3.12's values array, kept as values - 1) is one as it is;
 * its other interior words, and the tag on a block without an object start,
 * keep Valgrind's rule. */
TEST_BEGIN(test_tagged_object_start_is_a_start)
    struct heap h;
    struct model_result r;
    heap_init(&h, 4096, 8);
    uint32_t a = heap_block(&h, 80), b = heap_block(&h, 80), c = heap_block(&h, 80);
    uint32_t d = heap_block(&h, 80), e = heap_block(&h, 80);
    h.b[a].reserved = 16;
    h.b[b].reserved = 16;
    h.b[d].reserved = 23;
    h.b[e].reserved = 23;
    uintptr_t w[] = {addr(&h, a) + 17, addr(&h, b) + 25, addr(&h, c) + 1, addr(&h, d) + 23,
                     addr(&h, e) + 22};
    expect_eq_u64(run(&h, roots_one(w, 5, 0), &r), MODEL_OK);
    expect_eq_u64(h.b[a].cls, HSNAP_CLASS_REACHABLE);
    expect_eq_u64(h.b[a].flags, MODEL_BF_START | MODEL_BF_ROOTREF);
    expect_eq_u64(h.b[b].cls, HSNAP_CLASS_POSSIBLE);
    expect_eq_u64(h.b[c].cls, HSNAP_CLASS_POSSIBLE);
    expect_eq_u64(h.b[d].cls, HSNAP_CLASS_REACHABLE);
    expect_eq_u64(h.b[e].cls, HSNAP_CLASS_POSSIBLE);
    expect_true(total_is(&r, HSNAP_CLASS_POSSIBLE, 240, 3), "possible total");
    model_result_free(&r, &g_ops);
    heap_fini(&h);
TEST_END

/* A MODEL_ROOT_RUNTIME range (a runtime's data) is marked after the
 * program's roots: what only it reaches is RUNTIME, what both reach is the
 * program's; a preset RUNTIME block keeps its class, and what it holds is
 * the program's (the loader's dynamic TLS). */
TEST_BEGIN(test_runtime_roots_after_the_program)
    struct heap h;
    struct model_result r;
    heap_init(&h, 4096, 8);
    uint32_t a = heap_block(&h, 32), b = heap_block(&h, 16), c = heap_block(&h, 32);
    uint32_t d = heap_block(&h, 16), e = heap_block(&h, 24), f = heap_block(&h, 16);
    heap_link(&h, a, 0, b); /* runtime -> a -> b */
    heap_link(&h, e, 0, f); /* preset runtime e -> f */
    h.b[e].cls = HSNAP_CLASS_RUNTIME;
    memcpy(g_rootmem, (uintptr_t[]){addr(&h, c), addr(&h, d)}, 2 * sizeof(uintptr_t));
    memcpy(g_rootmem + 8, (uintptr_t[]){addr(&h, a), addr(&h, c)}, 2 * sizeof(uintptr_t));
    g_roots[0] = (struct model_root){(uintptr_t)g_rootmem, (uintptr_t)(g_rootmem + 2), MODEL_ROOT_DATA, 0};
    g_roots[1] = (struct model_root){(uintptr_t)(g_rootmem + 8), (uintptr_t)(g_rootmem + 10),
                                     MODEL_ROOT_DATA, MODEL_ROOT_RUNTIME};
    expect_eq_u64(run(&h, 2, &r), MODEL_OK);
    expect_eq_u64(h.b[a].cls, HSNAP_CLASS_RUNTIME);
    expect_eq_u64(h.b[b].cls, HSNAP_CLASS_RUNTIME);
    expect_eq_u64(h.b[c].cls, HSNAP_CLASS_REACHABLE);
    expect_eq_u64(h.b[d].cls, HSNAP_CLASS_REACHABLE);
    expect_eq_u64(h.b[e].cls, HSNAP_CLASS_RUNTIME);
    expect_eq_u64(h.b[f].cls, HSNAP_CLASS_REACHABLE);
    expect_eq_u64(h.b[c].refcount, 2);
    expect_true(total_is(&r, HSNAP_CLASS_RUNTIME, 72, 3), "runtime total");
    expect_true(total_is(&r, HSNAP_CLASS_REACHABLE, 64, 3), "reachable total");
    expect_eq_u64(r.nrecords, 0);
    model_result_free(&r, &g_ops);
    heap_fini(&h);
TEST_END

/* start+size points past a block; a zero-size block owns only its start. */
TEST_BEGIN(test_pointer_past_end)
    struct heap h;
    struct model_result r;
    heap_init(&h, 4096, 8);
    uint32_t a = heap_block(&h, 24), z = heap_block(&h, 0), y = heap_block(&h, 0);
    uintptr_t w[] = {addr(&h, a) + 24, addr(&h, z), addr(&h, y) + 8};
    expect_eq_u64(run(&h, roots_one(w, 3, 0), &r), MODEL_OK);
    expect_eq_u64(h.b[a].cls, HSNAP_CLASS_DIRECT);
    expect_eq_u64(h.b[a].refcount, 0);
    expect_eq_u64(h.b[z].cls, HSNAP_CLASS_REACHABLE);
    expect_eq_u64(h.b[y].cls, HSNAP_CLASS_DIRECT);
    expect_eq_u64(r.nrecords, 2);
    model_result_free(&r, &g_ops);
    heap_fini(&h);
TEST_END

/* Pointers at unaligned offsets, or in a word that sticks out past the
 * requested size, are not references. */
TEST_BEGIN(test_unaligned_words)
    struct heap h;
    struct model_result r;
    heap_init(&h, 4096, 8);
    uint32_t a = heap_block(&h, 32), b = heap_block(&h, 12), c = heap_block(&h, 16);
    uintptr_t pa = addr(&h, a), pc = addr(&h, c);
    memset(g_rootmem, 0, 8 * sizeof(uintptr_t));
    memcpy(g_rootmem, "\0\0\0\0", 4);
    memcpy((char *)g_rootmem + 4, &pa, sizeof(pa));
    g_roots[0] = (struct model_root){(uintptr_t)g_rootmem, (uintptr_t)g_rootmem + 16,
                                     MODEL_ROOT_STACK, 0};
    g_roots[1] = (struct model_root){(uintptr_t)(g_rootmem + 4) + 1,
                                     (uintptr_t)(g_rootmem + 6), MODEL_ROOT_DATA, 0};
    g_rootmem[5] = addr(&h, b);                          /* aligned, inside root 1 */
    memcpy((char *)addr(&h, b) + 8, &pc, 4);             /* b's word 1 is half out */
    memcpy((char *)addr(&h, b) + 12, (char *)&pc + 4, 4);
    expect_eq_u64(run(&h, 2, &r), MODEL_OK);
    expect_eq_u64(h.b[a].cls, HSNAP_CLASS_DIRECT);
    expect_eq_u64(h.b[b].cls, HSNAP_CLASS_REACHABLE);
    expect_eq_u64(h.b[c].cls, HSNAP_CLASS_DIRECT);
    model_result_free(&r, &g_ops);
    heap_fini(&h);
TEST_END

/* glibc's top / last_remainder pointer: malloc(24) leaves 8 bytes of slack,
 * so the next chunk's header (ptr+16) falls inside the block.  From the
 * allocator's data it is not a reference; from anywhere else it is. */
TEST_BEGIN(test_alloc_meta)
    struct heap h;
    struct model_result r;
    heap_init(&h, 4096, 8);
    uint32_t a = heap_block(&h, 24), b = heap_block(&h, 40), c = heap_block(&h, 16);
    uintptr_t next = addr(&h, a) + 16;
    expect_true(next == addr(&h, b) - 16, "synthetic layout");
    uintptr_t w[] = {next, addr(&h, c), addr(&h, b) + 8};
    expect_eq_u64(run(&h, roots_one(w, 3, MODEL_ROOT_ALLOC_META), &r), MODEL_OK);
    expect_eq_u64(h.b[a].cls, HSNAP_CLASS_DIRECT);
    expect_eq_u64(h.b[a].refcount, 0);
    expect_eq_u64(h.b[c].cls, HSNAP_CLASS_REACHABLE); /* a start pointer still counts */
    expect_eq_u64(h.b[b].cls, HSNAP_CLASS_POSSIBLE);  /* so does a non-header interior */
    model_result_free(&r, &g_ops);
    expect_eq_u64(run(&h, roots_one(w, 3, 0), &r), MODEL_OK);
    expect_eq_u64(h.b[a].cls, HSNAP_CLASS_POSSIBLE);
    expect_eq_u64(h.b[a].refcount, 1);
    model_result_free(&r, &g_ops);
    heap_fini(&h);
TEST_END

TEST_BEGIN(test_ignored_keeps_referents)
    struct heap h;
    struct model_result r;
    heap_init(&h, 4096, 8);
    uint32_t a = heap_block(&h, 16), b = heap_block(&h, 16), c = heap_block(&h, 16);
    uint32_t d = heap_block(&h, 16);
    heap_link(&h, a, 0, b);
    heap_link(&h, b, 0, c);
    h.b[a].cls = HSNAP_CLASS_IGNORED;
    h.b[d].cls = HSNAP_CLASS_CYCLE; /* stale input is overwritten */
    expect_eq_u64(run(&h, 0, &r), MODEL_OK);
    expect_eq_u64(h.b[a].cls, HSNAP_CLASS_IGNORED);
    expect_eq_u64(h.b[b].cls, HSNAP_CLASS_REACHABLE);
    expect_eq_u64(h.b[c].cls, HSNAP_CLASS_REACHABLE);
    expect_eq_u64(h.b[d].cls, HSNAP_CLASS_DIRECT);
    expect_true(total_is(&r, HSNAP_CLASS_IGNORED, 16, 1), "ignored total");
    model_result_free(&r, &g_ops);
    heap_fini(&h);
TEST_END

/* A root range that holds blocks (pymalloc's arenas, registered as roots):
 * each word is read once, a block's as the block's when it is reached,
 * else as the range's, so what an unreached block points to is alive as
 * before, and a reachable holder is named as the holder (on_ref's from),
 * not the range.  The range's own words between blocks (here a chunk's
 * prev_size) and a block over its start are the range's. */
static uint64_t g_from[16], g_kind[16], g_nref[16];
static void root_blocks_ref(uint32_t to, uint32_t from, uint32_t kind, int first, uintptr_t at,
                            void *ctx)
{
    (void)first, (void)at, (void)ctx;
    if (to < 16)
        g_from[to] = from, g_kind[to] = kind, g_nref[to]++;
}

TEST_BEGIN(test_root_range_holding_blocks)
    struct heap h;
    struct model_result r;
    struct model_ops ops = g_ops;
    ops.on_ref = root_blocks_ref;
    memset(g_nref, 0, sizeof g_nref);
    heap_init(&h, 4096, 16);
    uint32_t o = heap_block(&h, 32), q = heap_block(&h, 16), rr = heap_block(&h, 16);
    uint32_t sb = heap_block(&h, 16), t = heap_block(&h, 16), c1 = heap_block(&h, 16);
    uint32_t c2 = heap_block(&h, 16), u = heap_block(&h, 16), v = heap_block(&h, 16);
    uint32_t g = heap_block(&h, 16), d = heap_block(&h, 16);
    heap_set(&h, o, 2, addr(&h, v));  /* o's third word: past the range's start */
    heap_link(&h, q, 0, rr);          /* q (reached) -> rr */
    heap_link(&h, sb, 1, u);          /* sb (unreached) -> u */
    heap_link(&h, c1, 0, c2);         /* c1 <-> c2, unreached but by each other */
    heap_link(&h, c2, 0, c1);
    *(uintptr_t *)(addr(&h, t) + 16) = addr(&h, g); /* the next chunk's prev_size */
    g_roots[0] = (struct model_root){addr(&h, o) + 8, addr(&h, c2) + 16, MODEL_ROOT_USER, 0};
    g_rootmem[0] = addr(&h, q);
    g_roots[1] = (struct model_root){(uintptr_t)g_rootmem, (uintptr_t)(g_rootmem + 1),
                                     MODEL_ROOT_DATA, 0};
    expect_eq_u64(model_run(h.b, h.n, g_roots, 2, &ops, &r), MODEL_OK);
    expect_eq_u64(h.b[rr].cls, HSNAP_CLASS_REACHABLE);
    expect_eq_u64(h.b[rr].refcount, 1);
    expect_eq_u64(g_nref[rr], 1);
    expect_eq_u64(g_from[rr], q); /* its holder, not the range */
    expect_eq_u64(h.b[u].cls, HSNAP_CLASS_REACHABLE); /* what an unreached block holds */
    expect_eq_u64(g_nref[u], 1); /* (its count has the leak graph's edge from sb too) */
    expect_eq_u64(g_from[u], MODEL_FROM_ROOT);
    expect_eq_u64(g_kind[u], MODEL_ROOT_USER);
    expect_eq_u64(h.b[sb].cls, HSNAP_CLASS_DIRECT); /* nothing points to it */
    expect_eq_u64(h.b[c1].cls, HSNAP_CLASS_REACHABLE);
    expect_eq_u64(h.b[c2].cls, HSNAP_CLASS_REACHABLE);
    expect_eq_u64(h.b[c1].refcount + h.b[c2].refcount, 2); /* each word once */
    expect_eq_u64(g_nref[c1] + g_nref[c2], 2);
    expect_eq_u64(h.b[g].cls, HSNAP_CLASS_REACHABLE); /* a word between blocks */
    expect_eq_u64(g_from[g], MODEL_FROM_ROOT);
    expect_eq_u64(h.b[v].cls, HSNAP_CLASS_REACHABLE); /* a block over the start */
    expect_eq_u64(g_from[v], MODEL_FROM_ROOT);
    expect_eq_u64(g_nref[v], 1);
    expect_eq_u64(h.b[o].cls, HSNAP_CLASS_DIRECT);
    expect_eq_u64(h.b[d].cls, HSNAP_CLASS_DIRECT); /* past the range */
    expect_eq_u64(h.b[q].refcount, 1);
    model_result_free(&r, &g_ops);
    heap_fini(&h);
TEST_END

/* The marking reads blocks in the order they were reached (breadth
 * first): the reference a block rests on (on_ref's first) lies on a
 * shortest way from a root.  The root holds Q, then P; P -> P2 -> P3 -> T
 * and Q -> T: T rests on Q, one block below the root, where a stack read
 * P's chain first and gave P3, three below. */
static uint64_t g_first_from[8];
static void first_ref(uint32_t to, uint32_t from, uint32_t kind, int first, uintptr_t at,
                      void *ctx)
{
    (void)kind, (void)at, (void)ctx;
    if (first && to < 8)
        g_first_from[to] = from;
}

TEST_BEGIN(test_breadth_first_holders)
    struct heap h;
    struct model_result r;
    struct model_ops ops = g_ops;
    ops.on_ref = first_ref;
    heap_init(&h, 4096, 8);
    uint32_t p = heap_block(&h, 16), p2 = heap_block(&h, 16), p3 = heap_block(&h, 16);
    uint32_t q = heap_block(&h, 16), t = heap_block(&h, 16);
    heap_link(&h, p, 0, p2);
    heap_link(&h, p2, 0, p3);
    heap_link(&h, p3, 0, t);
    heap_link(&h, q, 0, t);
    uintptr_t w[] = {addr(&h, q), addr(&h, p)};
    expect_eq_u64(model_run(h.b, h.n, g_roots, roots_one(w, 2, 0), &ops, &r), MODEL_OK);
    expect_eq_u64(g_first_from[t], q);
    expect_eq_u64(g_first_from[p3], p2);
    expect_eq_u64(g_first_from[q], MODEL_FROM_ROOT);
    expect_eq_u64(h.b[t].refcount, 2);
    model_result_free(&r, &g_ops);
    heap_fini(&h);
TEST_END

/* A: 2 from a root, 1 from reachable B, 1 from leaked D, 1 from itself. */
TEST_BEGIN(test_refcounts_exact)
    struct heap h;
    struct model_result r;
    heap_init(&h, 4096, 8);
    uint32_t a = heap_block(&h, 32), b = heap_block(&h, 16), d = heap_block(&h, 16);
    heap_link(&h, a, 3, a);
    heap_link(&h, b, 1, a);
    heap_link(&h, d, 0, a);
    uintptr_t w[] = {addr(&h, a), 0, addr(&h, a), addr(&h, b)};
    expect_eq_u64(run(&h, roots_one(w, 4, 0), &r), MODEL_OK);
    expect_eq_u64(h.b[a].refcount, 5);
    expect_eq_u64(h.b[b].refcount, 1);
    expect_eq_u64(h.b[d].refcount, 0);
    expect_eq_u64(h.b[a].cls, HSNAP_CLASS_REACHABLE);
    expect_eq_u64(h.b[a].flags, MODEL_BF_START | MODEL_BF_ROOTREF | MODEL_BF_SELF);
    expect_eq_u64(h.b[d].cls, HSNAP_CLASS_DIRECT);
    model_result_free(&r, &g_ops);
    heap_fini(&h);
TEST_END

TEST_BEGIN(test_bad_input)
    size_t live0 = g_acct.live; /* an earlier failed case may hold some */
    struct heap h;
    struct model_result r;
    heap_init(&h, 4096, 8);
    heap_block(&h, 16);
    heap_block(&h, 16);
    struct hsnap_block t = h.b[0];
    h.b[0] = h.b[1];
    h.b[1] = t;
    expect_eq_u64(run(&h, 0, &r), MODEL_EINVAL);
    h.b[1] = h.b[0];
    h.b[0] = t;
    h.b[0].size = 64; /* overlaps the next block */
    expect_eq_u64(run(&h, 0, &r), MODEL_EINVAL);
    expect_eq_u64(g_acct.live, live0);
    heap_fini(&h);
TEST_END

/* Each allocation failing in turn gives ENOMEM (or, for the lookup index,
 * a slower run with the same answer) and leaves nothing held. */
TEST_BEGIN(test_out_of_memory)
    size_t live0 = g_acct.live;
    struct heap h;
    struct model_result r;
    heap_init(&h, 4096, 8);
    uint32_t a = heap_block(&h, 16), b = heap_block(&h, 16), c = heap_block(&h, 16);
    heap_link(&h, a, 0, b);
    heap_link(&h, b, 0, a);
    int fails = 0, oks = 0;
    for (int k = 1; k <= 12; k++) {
        g_acct.calls = 0;
        g_acct.fail_at = k;
        int rc = run(&h, 0, &r);
        fails += rc == MODEL_ENOMEM;
        oks += rc == MODEL_OK;
        expect_true(rc == MODEL_OK || rc == MODEL_ENOMEM, "rc %d", rc);
        expect_true(rc != MODEL_OK || (h.b[c].cls == HSNAP_CLASS_DIRECT && r.nrecords == 2),
                    "fail_at %d: wrong answer", k);
        model_result_free(&r, &g_ops);
        expect_true(g_acct.live == live0, "fail_at %d: %zu allocations held", k,
                    g_acct.live - live0);
    }
    g_acct.fail_at = 0;
    expect_true(fails == 9, "%d runs failed", fails);
    expect_true(oks == 3, "%d runs succeeded", oks);
    heap_fini(&h);
TEST_END

/* The containing block by linear search: the oracle for scan_lookup. */
static uint32_t brute_lookup(const struct heap *h, uintptr_t w)
{
    for (uint32_t i = 0; i < h->n; i++)
        if ((w >= h->b[i].addr && w < h->b[i].addr + h->b[i].size) || w == h->b[i].addr)
            return i;
    return UINT32_MAX;
}

static void brute_count(const struct heap *h, uintptr_t lo, uintptr_t hi, uint32_t *rc)
{
    for (uintptr_t p = (lo + 7) & ~(uintptr_t)7; p + 8 <= hi; p += 8) {
        uint32_t j = brute_lookup(h, *(const uintptr_t *)p);
        if (j != UINT32_MAX)
            rc[j]++;
    }
}

/* Two clusters 2 MiB apart, blocks of 0 to 3000 bytes, words that are
 * starts, interiors, ends, chunk headers, gap addresses and junk, and 40
 * root words: refcounts match a linear-search oracle (each block's words
 * and the roots' looked up 16 at a time with the index, one at a time
 * without), and the classes match a run without the index (its
 * allocation failed). */
TEST_BEGIN(test_index_matches_search)
    enum { N = 3000 };
    struct heap h;
    struct model_result r;
    static uint32_t want[N];
    static struct hsnap_block first[N];
    heap_init(&h, 6u << 20, N);
    uint32_t seed = 99;
    for (uint32_t i = 0; i < N; i++) {
        if (i == N / 2)
            h.used += 2u << 20;
        seed = seed * 1103515245 + 12345;
        heap_block(&h, (seed >> 8) % 7 == 0 ? 0 : (seed >> 8) % 5 == 0 ? 3000 : (seed >> 4) % 97);
    }
    for (uint32_t i = 0; i < N; i++)
        for (size_t k = 0; k < h.b[i].size / 8; k++) {
            seed = seed * 1103515245 + 12345;
            uint32_t j = (seed >> 4) % N, how = (seed >> 20) % 8;
            uintptr_t a = addr(&h, j), v = how == 0 ? a : how == 1 ? a + h.b[j].size
                : how == 2 ? a + (seed >> 12) % (h.b[j].size + 1) : how == 3 ? a - 8
                : how == 4 ? addr(&h, N / 2) - (seed % (1u << 20)) : seed;
            heap_set(&h, i, k, (seed >> 24) % 64 < 5 ? v : seed % 1000);
        }
    uintptr_t w[40]; /* past two of the scan's groups of words (scan_group) */
    for (int k = 0; k < 40; k++) {
        seed = seed * 1103515245 + 12345;
        w[k] = k % 5 == 4 ? seed : addr(&h, (seed >> 4) % N) + (k % 4 == 0 ? 8 : 0);
    }
    size_t nr = roots_one(w, 40, 0);
    memset(want, 0, sizeof(want));
    brute_count(&h, g_roots[0].lo, g_roots[0].hi, want);
    for (uint32_t i = 0; i < N; i++)
        brute_count(&h, addr(&h, i), addr(&h, i) + h.b[i].size, want);
    expect_eq_u64(run(&h, nr, &r), MODEL_OK);
    memcpy(first, h.b, sizeof(first));
    model_result_free(&r, &g_ops);
    for (uint32_t i = 0; i < N; i++)
        expect_true(h.b[i].refcount == want[i], "block %u: refcount %u, want %u", i,
                    h.b[i].refcount, want[i]);
    g_acct.calls = 0;
    g_acct.fail_at = 1; /* the index's cluster array */
    expect_eq_u64(run(&h, nr, &r), MODEL_OK);
    g_acct.fail_at = 0;
    int kinds = 0;
    for (uint32_t i = 0; i < N; i++) {
        expect_true(h.b[i].cls == first[i].cls && h.b[i].refcount == first[i].refcount &&
                        h.b[i].flags == first[i].flags, "block %u differs", i);
        kinds |= 1 << h.b[i].cls;
    }
    expect_true(kinds == (1 << HSNAP_CLASS_REACHABLE | 1 << HSNAP_CLASS_POSSIBLE |
                          1 << HSNAP_CLASS_DIRECT | 1 << HSNAP_CLASS_INDIRECT |
                          1 << HSNAP_CLASS_CYCLE), "classes seen: %#x", kinds);
    expect_true(records_add_up(&r), "records do not add up");
    model_result_free(&r, &g_ops);
    heap_fini(&h);
TEST_END

/* The LEAKS payload: the documented size and the fields at their offsets. */
TEST_BEGIN(test_encode)
    struct heap h;
    struct model_result r;
    heap_init(&h, 4096, 8);
    uint32_t d = heap_block(&h, 16), a = heap_block(&h, 16), b = heap_block(&h, 16);
    uint32_t c = heap_block(&h, 16);
    heap_link(&h, d, 0, a);
    heap_link(&h, b, 0, c);
    heap_link(&h, c, 0, b);
    expect_eq_u64(run(&h, 0, &r), MODEL_OK);
    r.unstopped = 3;
    size_t need = model_result_encode(&r, NULL, 0);
    expect_eq_u64(need, 40 + 16 * 8 + 56 * 2 + 4 * 2);
    unsigned char *buf = malloc(need);
    expect_eq_u64(model_result_encode(&r, buf, need), need);
    struct hsnap_leaks_head hd;
    memcpy(&hd, buf, sizeof(hd));
    expect_eq_u64(hd.nclass, 8);
    expect_eq_u64(hd.nrecords, 2);
    expect_eq_u64(hd.nmembers, 2);
    expect_eq_u64(hd.unstopped, 3);
    struct hsnap_leak_total tt;
    memcpy(&tt, buf + 40 + 16 * HSNAP_CLASS_CYCLE, sizeof(tt));
    expect_eq_u64(tt.bytes, 32);
    struct hsnap_leak_record rec;
    memcpy(&rec, buf + 40 + 16 * 8 + 56, sizeof(rec));
    expect_eq_u64(rec.cls, HSNAP_CLASS_CYCLE);
    expect_eq_u64(rec.root, b);
    uint32_t m[2];
    memcpy(m, buf + 40 + 16 * 8 + 56 * 2, sizeof(m));
    expect_true(m[0] == b && m[1] == c, "members %u %u", m[0], m[1]);
    free(buf);
    model_result_free(&r, &g_ops);
    heap_fini(&h);
TEST_END

/* Roots known incomplete (a thread's registers unread): a direct leak,
 * what it owns and a cycle all become ignored, their totals with them;
 * reachable blocks stay; no loss record is left. */
TEST_BEGIN(test_unverified_judges_nothing_lost)
    struct heap h;
    struct model_result r;
    heap_init(&h, 4096, 8);
    uint32_t d = heap_block(&h, 16), a = heap_block(&h, 24), b = heap_block(&h, 16);
    uint32_t c = heap_block(&h, 16), k = heap_block(&h, 8);
    heap_link(&h, d, 0, a);
    heap_link(&h, b, 0, c);
    heap_link(&h, c, 0, b);
    uintptr_t root = (uintptr_t)h.b[k].addr;
    struct model_root rt = {(uintptr_t)&root, (uintptr_t)(&root + 1), MODEL_ROOT_STACK, 0};
    expect_eq_u64(model_run(h.b, h.n, &rt, 1, &g_ops, &r), MODEL_OK);
    expect_eq_u64(h.b[d].cls, HSNAP_CLASS_DIRECT);
    model_result_unverified(h.b, h.n, &r, &g_ops);
    for (uint32_t i = 0; i < h.n; i++)
        expect_eq_u64(h.b[i].cls, i == k ? HSNAP_CLASS_REACHABLE : HSNAP_CLASS_IGNORED);
    expect_eq_u64(r.total[HSNAP_CLASS_DIRECT].blocks + r.total[HSNAP_CLASS_INDIRECT].blocks +
                  r.total[HSNAP_CLASS_CYCLE].blocks + r.total[HSNAP_CLASS_POSSIBLE].blocks, 0);
    expect_eq_u64(r.total[HSNAP_CLASS_IGNORED].blocks, 4);
    expect_eq_u64(r.total[HSNAP_CLASS_IGNORED].bytes, 72);
    expect_eq_u64(r.nrecords, 0);
    expect_eq_u64(model_result_encode(&r, NULL, 0), 40 + 16 * 8);
    model_result_free(&r, &g_ops);
    heap_fini(&h);
TEST_END

/* ---- a million blocks ----------------------------------------------------- */

static double ms_since(const struct timespec *t0)
{
    struct timespec t1;
    clock_gettime(CLOCK_MONOTONIC, &t1);
    return (t1.tv_sec - t0->tv_sec) * 1e3 + (t1.tv_nsec - t0->tv_nsec) / 1e6;
}

/* A leaked ring of 1,000,000: one loop, no recursion, <= 32 bytes/block. */
TEST_BEGIN(test_ring_of_a_million)
    enum { N = 1000000 };
    struct heap h;
    struct model_result r;
    heap_init(&h, (size_t)N * 32 + 64, N);
    for (uint32_t i = 0; i < N; i++)
        heap_block(&h, 16);
    for (uint32_t i = 0; i < N; i++) /* stride 7 visits every block: 7 and N coprime */
        heap_link(&h, (uint32_t)((uint64_t)i * 7 % N), 0, (uint32_t)((uint64_t)(i + 1) * 7 % N));
    g_acct.peak = 0;
    struct timespec t0;
    clock_gettime(CLOCK_MONOTONIC, &t0);
    expect_eq_u64(run(&h, 0, &r), MODEL_OK);
    printf("# model ring 1M: %.0f ms, scratch %zu bytes/block\n", ms_since(&t0),
           r.scratch_peak / N);
    expect_true(total_is(&r, HSNAP_CLASS_CYCLE, 16ull * N, N), "cycle total");
    expect_eq_u64(r.nrecords, 1);
    expect_eq_u64(r.nmembers, N);
    for (uint32_t i = 0; i < N; i++)
        if (r.members[i] != (uint32_t)((uint64_t)i * 7 % N))
            expect_true(0, "member %u is %u", i, r.members[i]);
    expect_true(r.scratch_peak <= 32ull * N, "scratch %zu", r.scratch_peak);
    expect_true(g_acct.peak - r.out_bytes <= 32ull * N, "allocated %zu", g_acct.peak);
    model_result_free(&r, &g_ops);
    heap_fini(&h);
TEST_END

/* 1,000,000 blocks of 64 bytes: a reachable list with data, near misses and
 * interior words, and every 1000th block left out of it (1,000 direct leaks, each
 * pointing back into the list). */
TEST_BEGIN(test_million_with_1000_leaked)
    enum { N = 1000000, SZ = 64 };
    struct heap h;
    struct model_result r;
    heap_init(&h, (size_t)N * chunk_size(SZ) + 64, N);
    for (uint32_t i = 0; i < N; i++)
        heap_block(&h, SZ);
    uint32_t prev = 1, seed = 12345;
    for (uint32_t i = 2; i < N; i++) {
        for (size_t k = 2; k < SZ / 8; k++) { /* data: small ints, and words in
                                                  the heap's span that hit a chunk
                                                  header (a full lookup, a miss) */
            seed = seed * 1103515245 + 12345;
            heap_set(&h, i, k, k % 2 ? addr(&h, seed % N) - 8 : seed >> 8);
        }
        if (i % 1000 == 0) {
            heap_link(&h, i, 0, i - 1);
            continue;
        }
        heap_link(&h, prev, 0, i);
        heap_set(&h, i, 1, addr(&h, prev) + 8); /* interior back-pointer */
        prev = i;
    }
    heap_link(&h, 0, 0, 1);
    uintptr_t w[] = {addr(&h, 0)};
    size_t nr = roots_one(w, 1, 0);
    struct timespec t0;
    clock_gettime(CLOCK_MONOTONIC, &t0);
    expect_eq_u64(run(&h, nr, &r), MODEL_OK);
    printf("# model 1M: %.0f ms, scratch %zu bytes/block\n", ms_since(&t0), r.scratch_peak / N);
    expect_true(total_is(&r, HSNAP_CLASS_DIRECT, 999ull * SZ, 999),
                "direct %llu blocks", (unsigned long long)r.total[HSNAP_CLASS_DIRECT].blocks);
    expect_true(total_is(&r, HSNAP_CLASS_REACHABLE, (uint64_t)(N - 999) * SZ, N - 999),
                "reachable %llu blocks", (unsigned long long)r.total[HSNAP_CLASS_REACHABLE].blocks);
    expect_eq_u64(r.nrecords, 999);
    expect_eq_u64(h.b[999].refcount, 3); /* 998, leak 1000, 1001's back-pointer */
    expect_eq_u64(h.b[1001].refcount, 2); /* 999 -> 1001, and 1002's back-pointer */
    expect_true(r.scratch_peak <= 32ull * N, "scratch %zu", r.scratch_peak);
    model_result_free(&r, &g_ops);
    heap_fini(&h);
TEST_END

/* A page of a live block is PROT_NONE (ops->holes): the model reads
 * around it (reading it would fault), flags the block partial, and the
 * block referenced from that page alone is lost, as valgrind says. */
TEST_BEGIN(test_hole_scanned_around)
    struct heap h;
    struct model_result r;
    heap_init(&h, 16, 8);
    free(h.mem);
    h.mem = mmap(NULL, 4 * 4096, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
    h.cap = 4 * 4096;
    uint32_t a = heap_block(&h, 2 * 4096), b = heap_block(&h, 24), c = heap_block(&h, 40);
    heap_link(&h, a, 0, b);
    heap_link(&h, a, 4096 / 8, c); /* in the block's second page */
    struct model_range hole = {(uintptr_t)h.mem + 4096, (uintptr_t)h.mem + 2 * 4096};
    struct model_ops ops = g_ops;
    ops.holes = &hole;
    ops.nholes = 1;
    expect_eq_u64(mprotect(h.mem + 4096, 4096, PROT_NONE), 0);
    uintptr_t w[] = {addr(&h, a)};
    expect_eq_u64(model_run(h.b, h.n, g_roots, roots_one(w, 1, 0), &ops, &r), MODEL_OK);
    expect_eq_u64(h.b[a].cls, HSNAP_CLASS_REACHABLE);
    expect_eq_u64(h.b[a].flags, MODEL_BF_START | MODEL_BF_ROOTREF | MODEL_BF_PARTIAL);
    expect_eq_u64(h.b[b].cls, HSNAP_CLASS_REACHABLE);
    expect_eq_u64(h.b[b].flags, MODEL_BF_START);
    expect_eq_u64(h.b[c].cls, HSNAP_CLASS_DIRECT);
    expect_true(total_is(&r, HSNAP_CLASS_DIRECT, 40, 1), "direct total");
    model_result_free(&r, &g_ops);
    mprotect(h.mem + 4096, 4096, PROT_READ | PROT_WRITE);
    munmap(h.mem, 4 * 4096);
    free(h.b);
TEST_END

/* Memory that changes between the graph's two reads (a thread the check
 * could not stop): the counting read sees A -> B, the filling read no
 * longer does (a fault on C's page, between the two, clears the word).
 * Every loss record must still be a direct leak or a cycle whose root
 * block has its class: a block is indirect by the edges the graph kept,
 * not by the references the first read counted (the reader refuses
 * "record N: class 4 is not direct or cycle"). */
static uintptr_t *g_flip_word;
static unsigned char *g_flip_page;

static void flip_on_fault(int sig, siginfo_t *si, void *uc)
{
    (void)sig, (void)uc;
    if ((unsigned char *)si->si_addr < g_flip_page || (unsigned char *)si->si_addr >= g_flip_page + 4096)
        abort();
    *g_flip_word = 0;
    mprotect(g_flip_page, 4096, PROT_READ | PROT_WRITE);
}

TEST_BEGIN(test_memory_changed_between_reads)
    struct heap h;
    struct model_result r;
    struct sigaction sa, old;
    heap_init(&h, 16, 8);
    free(h.mem);
    h.mem = mmap(NULL, 2 * 4096, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
    h.cap = 2 * 4096;
    uint32_t a = heap_block(&h, 40), b = heap_block(&h, 24);
    uint32_t fill = heap_block(&h, 3992), c = heap_block(&h, 40); /* c: the second page */
    expect_eq_u64(addr(&h, c), (uintptr_t)h.mem + 4096);
    heap_link(&h, a, 0, b);
    g_flip_word = (uintptr_t *)addr(&h, a);
    g_flip_page = h.mem + 4096;
    memset(&sa, 0, sizeof sa);
    sa.sa_sigaction = flip_on_fault;
    sa.sa_flags = SA_SIGINFO;
    sigaction(SIGSEGV, &sa, &old);
    expect_eq_u64(mprotect(g_flip_page, 4096, PROT_NONE), 0);
    uintptr_t w[] = {0};
    int rc = model_run(h.b, h.n, g_roots, roots_one(w, 1, 0), &g_ops, &r);
    sigaction(SIGSEGV, &old, NULL);
    expect_eq_u64(rc, MODEL_OK);
    expect_eq_u64(*g_flip_word, 0); /* the fault came between the reads */
    expect_eq_u64(h.b[b].cls, HSNAP_CLASS_DIRECT);
    expect_eq_u64(h.b[fill].cls, HSNAP_CLASS_DIRECT);
    expect_eq_u64(r.nrecords, 4);
    for (size_t k = 0; k < r.nrecords; k++) {
        expect_true(r.records[k].cls == HSNAP_CLASS_DIRECT || r.records[k].cls == HSNAP_CLASS_CYCLE,
                    "record %zu: class %u", k, r.records[k].cls);
        expect_eq_u64(h.b[r.records[k].root].cls, r.records[k].cls);
    }
    expect_true(records_add_up(&r), "records add up");
    model_result_free(&r, &g_ops);
    munmap(h.mem, 2 * 4096);
    free(h.b);
TEST_END

/* ---- model_rerun: the second run from where on_marked stopped the first -- */

/* What the views hear: each on_ref and on_owned, in order, once on. */
struct heard {
    uint64_t *w; /* 5 words a call */
    size_t n, cap;
    int on;      /* set by on_marked (model_rerun: from its start) */
};
static struct heard g_heard;

static void heard_put(uint64_t a, uint64_t b, uint64_t c, uint64_t d, uint64_t e)
{
    if (!g_heard.on)
        return;
    if (g_heard.n + 5 > g_heard.cap) {
        g_heard.cap = g_heard.cap ? 2 * g_heard.cap : 4096;
        g_heard.w = realloc(g_heard.w, g_heard.cap * sizeof *g_heard.w);
    }
    uint64_t *x = g_heard.w + g_heard.n;
    x[0] = a, x[1] = b, x[2] = c, x[3] = d, x[4] = e;
    g_heard.n += 5;
}

static void heard_ref(uint32_t to, uint32_t from, uint32_t kind, int first, uintptr_t at, void *ctx)
{
    (void)ctx;
    heard_put(to, from, kind, (uint64_t)first, at);
}

static void heard_owned(uint32_t b, uint32_t root, void *ctx)
{
    (void)ctx;
    heard_put(b, root, 99, 99, 0);
}

static void heard_marked(void *ctx)
{
    (void)ctx;
    g_heard.on = 1;
}

/* A random heap of n blocks: presets held (ignored, runtime), a program
 * root range, a runtime one and one that holds blocks, words that are starts, interiors and
 * junk; pointers are rare enough that every class appears. */
static size_t rerun_heap(struct heap *h, uint32_t n, uint32_t seed)
{
    heap_init(h, (size_t)n * 160 + 4096, n);
    for (uint32_t i = 0; i < n; i++) {
        seed = seed * 1103515245 + 12345;
        heap_block(h, 8 + (seed >> 8) % 120);
    }
    for (uint32_t i = 0; i < n; i++) {
        for (size_t k = 0; k < h->b[i].size / 8; k++) {
            seed = seed * 1103515245 + 12345;
            uint32_t j = (seed >> 4) % n, how = (seed >> 20) % 4;
            uintptr_t a = addr(h, j) + (how == 0 ? 8 : 0);
            heap_set(h, i, k, (seed >> 24) % 64 < 3 ? a : seed % 1000);
        }
        seed = seed * 1103515245 + 12345;
        if ((seed >> 16) % 97 == 0)
            h->b[i].cls = (seed >> 8) % 2 ? HSNAP_CLASS_IGNORED : HSNAP_CLASS_RUNTIME;
    }
    for (uint32_t i = 0; i + 1 < n; i += 37) { /* two-block rings, some leaked */
        heap_link(h, i, 0, i + 1);
        heap_link(h, i + 1, 0, i);
    }
    for (int k = 0; k < 16; k++) {
        seed = seed * 1103515245 + 12345;
        g_rootmem[k] = addr(h, (seed >> 4) % n) + (k % 5 == 0 ? 8 : 0);
    }
    g_roots[0] = (struct model_root){(uintptr_t)g_rootmem, (uintptr_t)(g_rootmem + 8),
                                     MODEL_ROOT_DATA, 0};
    g_roots[1] = (struct model_root){(uintptr_t)(g_rootmem + 8), (uintptr_t)(g_rootmem + 16),
                                     MODEL_ROOT_DATA, MODEL_ROOT_RUNTIME};
    /* a range that holds blocks (an arena), the last one over its end */
    uint32_t a0 = n / 3, a1 = n / 3 + n / 40;
    g_roots[2] = (struct model_root){addr(h, a0) - 8, addr(h, a1) + 8, MODEL_ROOT_USER, 0};
    return 3;
}

/* The run after some direct and possibly lost blocks were made held:
 * model_rerun leaves the blocks, the result and what the views hear
 * after on_marked exactly as a whole model_run does. */
TEST_BEGIN(test_rerun_matches_a_whole_run)
    enum { N = 4000 };
    static struct hsnap_block marked[N], again[N];
    struct model_ops ops = g_ops;
    ops.on_ref = heard_ref;
    ops.on_owned = heard_owned;
    ops.on_marked = heard_marked;
    int cycles = 0;
    for (uint32_t seed = 1; seed <= 6; seed++) {
        struct heap h;
        struct model_result r1, r2, r3;
        struct model_keep keep;
        size_t nr = rerun_heap(&h, N, seed * 7919);
        g_heard.n = 0;
        g_heard.on = 0;
        expect_eq_u64(model_run_keep(h.b, N, g_roots, nr, &ops, &r1, &keep), MODEL_OK);
        expect_true(keep.bits != NULL && g_heard.on, "seed %u: nothing kept", seed);
        int kinds = 0, made = 0;
        for (uint32_t i = 0; i < N; i++) {
            kinds |= 1 << h.b[i].cls;
            if ((h.b[i].cls == HSNAP_CLASS_DIRECT || h.b[i].cls == HSNAP_CLASS_POSSIBLE) &&
                i % 3 == seed % 3) {
                h.b[i].cls = HSNAP_CLASS_IGNORED;
                made++;
            }
        }
        expect_true((kinds & 0xde) == 0xde, "seed %u: classes seen %#x", seed, kinds);
        cycles |= kinds >> HSNAP_CLASS_CYCLE & 1;
        expect_true(made > 0, "seed %u: none made held", seed);
        memcpy(marked, h.b, sizeof marked);
        g_heard.n = 0;
        g_heard.on = 1;
        expect_eq_u64(model_rerun(h.b, N, g_roots, nr, &ops, &keep, &r2), MODEL_OK);
        size_t nheard = g_heard.n;
        uint64_t *heard = malloc(nheard * sizeof *heard + 1);
        memcpy(heard, g_heard.w, nheard * sizeof *heard);
        memcpy(again, h.b, sizeof again);
        memcpy(h.b, marked, sizeof marked);
        g_heard.n = 0;
        g_heard.on = 0;
        expect_eq_u64(model_run(h.b, N, g_roots, nr, &ops, &r3), MODEL_OK);
        expect_true(memcmp(again, h.b, sizeof again) == 0, "seed %u: blocks differ", seed);
        size_t l2 = model_result_encode(&r2, NULL, 0), l3 = model_result_encode(&r3, NULL, 0);
        char *e2 = malloc(l2), *e3 = malloc(l3);
        model_result_encode(&r2, e2, l2);
        model_result_encode(&r3, e3, l3);
        expect_true(l2 == l3 && memcmp(e2, e3, l2) == 0, "seed %u: results differ", seed);
        expect_true(r3.nrecords > 0 && r3.total[HSNAP_CLASS_POSSIBLE].blocks > 0,
                    "seed %u: %zu records", seed, r3.nrecords);
        expect_true(nheard == g_heard.n && memcmp(heard, g_heard.w, nheard * 8) == 0,
                    "seed %u: the views heard %zu words, a whole run %zu", seed, nheard,
                    g_heard.n);
        expect_eq_u64(model_rerun(h.b, N, g_roots, nr, &ops, &keep, &r2 /* spent */),
                      MODEL_ESTALE);
        free(e2), free(e3), free(heard);
        model_result_free(&r1, &ops);
        model_result_free(&r2, &ops);
        model_result_free(&r3, &ops);
        model_keep_free(&keep, &ops);
        heap_fini(&h);
    }
    expect_true(cycles, "no seed made a leaked cycle");
    free(g_heard.w);
    memset(&g_heard, 0, sizeof g_heard);
TEST_END

/* A block the program's roots reached, made held, changes the roots'
 * marking: model_rerun refuses. */
TEST_BEGIN(test_rerun_refuses_a_rooted_block_held)
    struct heap h;
    struct model_result r;
    struct model_keep keep;
    heap_init(&h, 4096, 8);
    uint32_t a = heap_block(&h, 32), b = heap_block(&h, 16);
    heap_link(&h, a, 0, b);
    uintptr_t w[] = {addr(&h, a)};
    size_t nr = roots_one(w, 1, 0);
    expect_eq_u64(model_run_keep(h.b, h.n, g_roots, nr, &g_ops, &r, &keep), MODEL_OK);
    model_result_free(&r, &g_ops);
    h.b[b].cls = HSNAP_CLASS_IGNORED;
    expect_eq_u64(model_rerun(h.b, h.n, g_roots, nr, &g_ops, &keep, &r), MODEL_ESTALE);
    model_keep_free(&keep, &g_ops);
    heap_fini(&h);
TEST_END

int main(void)
{
    g_rootmem = calloc(64, sizeof(uintptr_t));
    test_no_leak();
    test_one_direct();
    test_lost_list();
    test_lost_list_backwards();
    test_lost_tree();
    test_two_cycle();
    test_ring_of_10();
    test_self_reference_is_not_a_cycle();
    test_self_reference_owned_is_indirect();
    test_cycles_still_reachable();
    test_direct_into_cycle();
    test_cycle_owns_tail();
    test_shared_child_owned_once();
    test_interior_only();
    test_start_any_takes_interior();
    test_tagged_object_start_is_a_start();
    test_runtime_roots_after_the_program();
    test_pointer_past_end();
    test_unaligned_words();
    test_alloc_meta();
    test_ignored_keeps_referents();
    test_refcounts_exact();
    test_root_range_holding_blocks();
    test_breadth_first_holders();
    test_bad_input();
    test_out_of_memory();
    test_index_matches_search();
    test_encode();
    test_unverified_judges_nothing_lost();
    test_ring_of_a_million();
    test_million_with_1000_leaked();
    test_hole_scanned_around();
    test_memory_changed_between_reads();
    test_rerun_matches_a_whole_run();
    test_rerun_refuses_a_rooted_block_held();
    free(g_rootmem);
    return 0;
}
