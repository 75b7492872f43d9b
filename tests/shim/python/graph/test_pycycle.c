// link: shim/python/graph/pycycle.c shim/python/graph/pyedge.c shim/python/reads/pyarray.c
/*
 * test_pycycle.c - pyg_cycle_links, the link each garbage object keeps: on a
 * tree whose children point to their parent, the links from one object
 * of each group (trace, type) go round the shortest cycle through it
 * and back; a ring of three takes its three edges, not a longer way
 * round a chord; what a kept cycle holds on no cycle (a Node's data)
 * keeps the edge that holds it, back to a kept cycle; objects already on
 * a kept cycle are not taken by another group's; objects reached from
 * no kept cycle (a ring longer than a search) keep their first
 * reference to garbage; a reachable object gets no link.  The table's lookups and the arena are stubbed.
 */
#include <stdint.h>
#include <string.h>
#include <sys/mman.h>

#include "record.h"
#include "pygraph.h"
#include "pyedge.h"
#include "unit.h"

void *arena_map(size_t n)
{
    void *p = mmap(NULL, n, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
    return p == MAP_FAILED ? NULL : p;
}

void arena_unmap(void *p, size_t n)
{
    munmap(p, n);
}

void *arena_remap(void *p, size_t old, size_t n)
{
    void *q = mremap(p, old, n, MREMAP_MAYMOVE);
    return q == MAP_FAILED ? NULL : q;
}

#define N 64
static struct pyh_block blk[N];
static struct pyh_obj obj[N];
static struct pyh_rank rank[N / 64 + 1];
static uint32_t sel[N / 64 + 1];
static struct pyh_heap heap = {.blk = blk, .obj = obj, .rank = rank, .sel = sel, .want = 1};
static uint32_t trace_of[N];
static struct pyg_edge edge[4 * N];
static uint32_t nobj, nedge, via[N];

/* Blocks at 0x1000 (i + 1): the trace is the test's. */
int tbl_find(uintptr_t ptr, struct tbl_entry *e)
{
    memset(e, 0, sizeof *e);
    e->trace = trace_of[ptr / 0x1000 - 1];
    return 1;
}

int pend_find_fresh(uintptr_t p, struct tbl_entry *e)
{
    (void)p, (void)e;
    return 0;
}

static uint32_t add(uint32_t type, uint32_t trace, int garbage)
{
    uint32_t i = nobj++;
    blk[i] = (struct pyh_block){.addr = 0x1000ull * (i + 1), .size = 64};
    obj[i] = (struct pyh_obj){.refcnt = 1, .tracked = 1, .garbage = garbage != 0, .type = type};
    pyh_rank_set(&heap, i, i); /* block i holds object i */
    trace_of[i] = trace;
    return i;
}

/* Edges in source order (the marking's adjacency). */
static void ref(uint32_t src, uint32_t dst, uint32_t index)
{
    edge[nedge++] = (struct pyg_edge){src, dst, pye_how(HSNAP_PYLABEL_INDEX, 0, index), 0};
}

static void run(void)
{
    struct pyh_heap h = heap;
    h.nblk = nobj;
    pyh_rank_end(&h, nobj);
    pyg_edge_free();
    int bad = pyg_edge_begin(nobj) != 0;
    for (uint32_t e = 0; e < nedge; e++)
        bad |= pyg_edge_add(edge[e].src, edge[e].dst, edge[e].how, edge[e].key) != 0;
    struct pye_csr c;
    if (bad || pyg_edge_done(&c) != 0) { /* no links: every case fails */
        pyg_edge_free();
        return;
    }
    for (uint32_t i = 0; i < N; i++)
        via[i] = PYG_NONE;
    pyg_cycle_links(&h, &c, via);
    for (uint32_t i = 0; i < N; i++) { /* places as the edges added: a source's k-th */
        if (via[i] == PYG_NONE)
            continue;
        uint32_t v = pye_src(&c, via[i]), k = 0;
        for (uint32_t at = pye_start(&c, v); at < via[i]; k++)
            pye_dst(&c, &at, v);
        for (uint32_t e = 0; e < nedge; e++)
            if (edge[e].src == v && k-- == 0) {
                via[i] = e;
                break;
            }
    }
    pyg_edge_free();
}

static void reset(void)
{
    nobj = nedge = 0;
    memset(rank, 0, sizeof rank);
    heap.nrank = 0;
}

/* The links from o round to o again, or 0: none within 16 (or a held one). */
static unsigned round_trip(uint32_t o)
{
    uint32_t at = o;
    for (unsigned n = 1; n <= 16; n++) {
        if (via[at] == PYG_NONE || edge[via[at]].src != at)
            return 0;
        at = edge[via[at]].dst;
        if (at == o)
            return n;
    }
    return 0;
}

enum { NODE = 1, LIST = 2, A = 3, B = 4, C = 5 };

TEST_BEGIN(a_tree_with_parent_links_keeps_a_cycle_through_each_group)
{
    reset();
    /* root (trace 1), its children (trace 2), their lists (trace 3), each
     * node's data list (trace 4): objects in address order */
    uint32_t root = add(NODE, 1, 1), rl = add(LIST, 3, 1), rd = add(LIST, 4, 1);
    uint32_t kid[3], kl[3], kd[3];
    for (int k = 0; k < 3; k++)
        kid[k] = add(NODE, 2, 1), kl[k] = add(LIST, 3, 1), kd[k] = add(LIST, 4, 1);
    ref(root, rl, 0);
    ref(root, rd, 1);
    ref(rl, kid[0], 0);
    ref(rl, kid[1], 1);
    ref(rl, kid[2], 2);
    for (int k = 0; k < 3; k++) {
        ref(kid[k], root, 0);
        ref(kid[k], kl[k], 1);
        ref(kid[k], kd[k], 2);
    }
    run();
    expect_eq_u64(round_trip(root), 3); /* root -> its list -> a child -> back */
    expect_eq_u64(round_trip(rl), 3);
    unsigned kids = 0;
    for (int k = 0; k < 3; k++)
        kids += round_trip(kid[k]) == 3;
    expect_eq_u64(kids, 1); /* one child on the kept cycle: its group's */
    /* a data list and an empty child list: held, by their Node */
    expect_true(via[rd] != PYG_NONE && edge[via[rd]].src == root && edge[via[rd]].dst == rd,
                "the root's data held by the root");
    for (int k = 0; k < 3; k++) {
        expect_true(via[kd[k]] != PYG_NONE && edge[via[kd[k]]].src == kid[k],
                    "child %d's data held by it", k);
        expect_true(via[kl[k]] != PYG_NONE && edge[via[kl[k]]].src == kid[k],
                    "child %d's list held by it", k);
    }
}
TEST_END

TEST_BEGIN(a_ring_of_three_takes_its_shortest_way_round)
{
    reset();
    uint32_t a = add(A, 7, 1), x = add(A, 8, 1), b = add(B, 7, 1), c = add(C, 7, 1);
    ref(a, x, 0); /* a -> x -> b -> c -> a is the long way */
    ref(a, b, 1);
    ref(x, b, 0);
    ref(b, c, 0);
    ref(c, a, 0);
    run();
    expect_eq_u64(round_trip(a), 3);
    expect_eq_u64(round_trip(b), 3);
    expect_eq_u64(round_trip(c), 3);
    expect_true(edge[via[a]].dst == b, "a's link is a -> b");
    /* x's group finds no cycle apart from the kept one: x is held by a */
    expect_true(via[x] != PYG_NONE && edge[via[x]].src == a && edge[via[x]].dst == x,
                "x held by a");
}
TEST_END

TEST_BEGIN(kept_cycles_share_no_object_and_reachable_objects_get_no_link)
{
    reset();
    /* hub h on two cycles: h <-> p (trace 1), h <-> q (trace 2); r is
     * reachable (no garbage) and referenced by p */
    uint32_t h = add(NODE, 9, 1), p = add(NODE, 1, 1), q = add(NODE, 2, 1), r = add(NODE, 1, 0);
    ref(h, p, 0);
    ref(h, q, 1);
    ref(p, h, 0);
    ref(p, r, 1);
    ref(q, h, 0);
    run();
    expect_eq_u64(round_trip(h), 2);
    expect_true(round_trip(p) + round_trip(q) == 2 && round_trip(p) * round_trip(q) == 0,
                "one of p and q on the kept cycle");
    uint32_t off = round_trip(p) ? q : p;
    expect_true(via[off] != PYG_NONE && edge[via[off]].src == h && edge[via[off]].dst == off,
                "the other held by the hub");
    expect_true(via[r] == PYG_NONE, "no link for a reachable object");
}
TEST_END

TEST_BEGIN(objects_no_kept_cycle_reaches_keep_their_first_reference)
{
    reset();
    /* u -> v -> w -> u is longer than a search looks for (13 objects):
     * no cycle kept; each keeps its first reference to garbage */
    uint32_t first = 0;
    for (uint32_t i = 0; i < 13; i++)
        add(NODE, 1, 1);
    for (uint32_t i = 0; i < 13; i++)
        ref(i, (i + 1) % 13, 0);
    run();
    for (uint32_t i = 0; i < 13; i++)
        first += via[i] != PYG_NONE && edge[via[i]].src == i && edge[via[i]].dst == (i + 1) % 13;
    expect_eq_u64(first, 13);
}
TEST_END

int main(void)
{
    a_tree_with_parent_links_keeps_a_cycle_through_each_group();
    a_ring_of_three_takes_its_shortest_way_round();
    kept_cycles_share_no_object_and_reachable_objects_get_no_link();
    objects_no_kept_cycle_reaches_keep_their_first_reference();
    return 0;
}
