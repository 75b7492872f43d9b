// link: shim/python/retain/pydom.c
/*
 * test_pydom.c - shim/python/retain/pydom.c's immediate dominators on synthetic
 * graphs whose dominators are worked out by hand: a chain, a diamond, a
 * cycle, several roots under a virtual one (as pyretain.c puts the heap's
 * roots), Lengauer and Tarjan's own example, a chain of 200000 nodes (no
 * recursion), and random graphs checked against the definition (y is
 * dominated by x when y cannot be reached once x is taken away); the
 * hanging trees (pyr_dom_hang) taken out first give the same dominators.
 */
#include <stdlib.h>
#include <string.h>

#include "pydom.h"
#include "unit.h"

struct graph {
    uint32_t n;
    uint64_t m;
    uint32_t *start;
    uint32_t *succ, *idom, *order;
    void *work;
};

/* The graph of n nodes and the m edges (from[i], to[i]), dominated from root. */
static uint32_t dom(struct graph *g, uint32_t n, uint64_t m, const uint32_t *from,
                    const uint32_t *to, uint32_t root)
{
    g->n = n, g->m = m;
    g->start = calloc(n + 1, sizeof *g->start);
    g->succ = malloc((m + 1) * sizeof *g->succ);
    g->idom = malloc(n * sizeof *g->idom);
    g->order = malloc(n * sizeof *g->order);
    g->work = malloc(pyr_dom_work_bytes(n, m));
    for (uint64_t e = 0; e < m; e++)
        g->start[from[e] + 1]++;
    for (uint32_t v = 0; v < n; v++)
        g->start[v + 1] += g->start[v];
    uint32_t *at = malloc((n + 1) * sizeof *at);
    memcpy(at, g->start, (n + 1) * sizeof *at);
    for (uint64_t e = 0; e < m; e++)
        g->succ[at[from[e]]++] = to[e];
    free(at);
    return pyr_dom_idom(n, root, g->start, g->succ, g->idom, g->order, g->work, NULL, NULL);
}

static void graph_free(struct graph *g)
{
    free(g->start), free(g->succ), free(g->idom), free(g->order), free(g->work);
}

TEST_BEGIN(dominators_of_a_chain_are_the_previous_node)
{
    uint32_t from[] = {0, 1, 2, 3}, to[] = {1, 2, 3, 4};
    struct graph g;
    expect_eq_u64(dom(&g, 6, 4, from, to, 0), 5);
    for (uint32_t v = 1; v < 5; v++)
        expect_eq_u64(g.idom[v], v - 1);
    expect_eq_u64(g.idom[0], 0);
    expect_eq_u64(g.idom[5], PYDOM_NONE); /* not reached */
    graph_free(&g);
}
TEST_END

TEST_BEGIN(dominator_of_a_diamond_is_its_top)
{
    /* 0 -> 1 -> {2, 3} -> 4 -> 5 */
    uint32_t from[] = {0, 1, 1, 2, 3, 4}, to[] = {1, 2, 3, 4, 4, 5};
    struct graph g;
    dom(&g, 6, 6, from, to, 0);
    uint32_t want[] = {0, 0, 1, 1, 1, 4};
    for (uint32_t v = 0; v < 6; v++)
        expect_true(g.idom[v] == want[v], "idom[%u] %u, want %u", v, g.idom[v], want[v]);
    graph_free(&g);
}
TEST_END

TEST_BEGIN(a_cycle_is_dominated_by_its_entry)
{
    /* 0 -> 1 -> 2 -> 3 -> 1 (back), 3 -> 4; 2 -> 4 */
    uint32_t from[] = {0, 1, 2, 3, 3, 2}, to[] = {1, 2, 3, 1, 4, 4};
    struct graph g;
    dom(&g, 5, 6, from, to, 0);
    uint32_t want[] = {0, 0, 1, 2, 2};
    for (uint32_t v = 0; v < 5; v++)
        expect_true(g.idom[v] == want[v], "idom[%u] %u, want %u", v, g.idom[v], want[v]);
    graph_free(&g);
}
TEST_END

TEST_BEGIN(nodes_two_roots_share_belong_to_the_virtual_root)
{
    /* virtual root 0 -> roots 1 and 2; 1 -> 3 -> 5; 2 -> 4 -> 5; 1 -> 6;
     * 2 -> 6; 6 -> 7: 5, 6 and 7 are shared, 3 is 1's alone */
    uint32_t from[] = {0, 0, 1, 3, 2, 4, 1, 2, 6}, to[] = {1, 2, 3, 5, 4, 5, 6, 6, 7};
    struct graph g;
    dom(&g, 8, 9, from, to, 0);
    uint32_t want[] = {0, 0, 0, 1, 2, 0, 0, 6};
    for (uint32_t v = 0; v < 8; v++)
        expect_true(g.idom[v] == want[v], "idom[%u] %u, want %u", v, g.idom[v], want[v]);
    graph_free(&g);
}
TEST_END

TEST_BEGIN(lengauer_tarjan_example_graph)
{
    /* R A B C D E F G H I J K L = 0..12, the paper's figure 1 */
    enum { R, A, B, C, D, E, F, G, H, I, J, K, L };
    uint32_t from[] = {R, R, R, A, B, B, B, C, C, D, E, F, G, G, H, H, I, J, K, K, L};
    uint32_t to[] = {A, B, C, D, A, D, E, F, G, L, H, I, I, J, E, K, K, I, I, R, H};
    uint32_t want[] = {R, R, R, R, R, R, C, C, R, R, G, R, D};
    struct graph g;
    expect_eq_u64(dom(&g, 13, sizeof from / sizeof *from, from, to, R), 13);
    for (uint32_t v = 0; v < 13; v++)
        expect_true(g.idom[v] == want[v], "idom[%c] %u, want %u", "RABCDEFGHIJKL"[v], g.idom[v],
                    want[v]);
    graph_free(&g);
}
TEST_END

TEST_BEGIN(a_long_chain_needs_no_recursion)
{
    uint32_t n = 200000, *from = malloc(n * sizeof *from), *to = malloc(n * sizeof *to);
    for (uint32_t v = 0; v + 1 < n; v++)
        from[v] = v, to[v] = v + 1;
    from[n - 1] = n - 1, to[n - 1] = 0; /* and back to the root */
    struct graph g;
    expect_eq_u64(dom(&g, n, n, from, to, 0), n);
    for (uint32_t v = 1; v < n; v++)
        expect_true(g.idom[v] == v - 1, "idom[%u] %u", v, g.idom[v]);
    for (uint32_t k = 0; k < n; k++) /* depth first: each after its dominator */
        expect_eq_u64(g.order[k], k);
    graph_free(&g);
    free(from), free(to);
}
TEST_END

/* Whether y is reached from the root of g once x is taken away. */
static int reached_without(const struct graph *g, uint32_t x, uint32_t y, uint8_t *seen,
                           uint32_t *stack)
{
    uint32_t top = 0;
    memset(seen, 0, g->n);
    if (x == 0)
        return 0;
    seen[0] = 1, stack[top++] = 0;
    while (top) {
        uint32_t v = stack[--top];
        if (v == y)
            return 1;
        for (uint64_t e = g->start[v]; e < g->start[v + 1]; e++)
            if (g->succ[e] != x && !seen[g->succ[e]])
                seen[g->succ[e]] = 1, stack[top++] = g->succ[e];
    }
    return 0;
}

TEST_BEGIN(random_graphs_match_the_definition)
{
    uint32_t seed = 12345;
    for (int round = 0; round < 40; round++) {
        uint32_t n = 5 + round % 30, m = n * (1 + round % 3);
        uint32_t from[200], to[200];
        for (uint32_t e = 0; e < m; e++) {
            seed = seed * 1103515245u + 12345u, from[e] = (seed >> 8) % n;
            seed = seed * 1103515245u + 12345u, to[e] = (seed >> 8) % n;
        }
        struct graph g;
        dom(&g, n, m, from, to, 0);
        uint8_t seen[64];
        uint32_t stack[256];
        for (uint32_t y = 1; y < n; y++) {
            int r = reached_without(&g, n, y, seen, stack); /* n: no node taken */
            expect_true(r == (g.idom[y] != PYDOM_NONE), "round %d: %u reached %d", round, y, r);
            if (!r)
                continue;
            /* idom[y] dominates y, and is the nearest: every other
             * dominator of y dominates idom[y] too */
            expect_true(!reached_without(&g, g.idom[y], y, seen, stack),
                        "round %d: idom[%u] = %u does not dominate it", round, y, g.idom[y]);
            for (uint32_t x = 0; x < n; x++)
                if (x != y && x != g.idom[y] && !reached_without(&g, x, y, seen, stack))
                    expect_true(!reached_without(&g, x, g.idom[y], seen, stack),
                                "round %d: %u dominates %u but not its idom %u", round, x, y,
                                g.idom[y]);
        }
        graph_free(&g);
    }
}
TEST_END

/* done's: start and succ spoiled, as if given back (they are read no more) */
static int spoiled;
static void spoil(void *arg)
{
    struct graph *g = arg;
    memset(g->start, 0xff, (g->n + 1) * sizeof *g->start);
    memset(g->succ, 0xff, (g->m + 1) * sizeof *g->succ);
    spoiled++;
}

TEST_BEGIN(successors_are_read_no_more_once_done_is_called)
{
    /* the paper's graph again: its answers stand with the successors
     * spoiled at done (pyretain.c gives them back there) */
    enum { R, A, B, C, D, E, F, G, H, I, J, K, L };
    uint32_t from[] = {R, R, R, A, B, B, B, C, C, D, E, F, G, G, H, H, I, J, K, K, L};
    uint32_t to[] = {A, B, C, D, A, D, E, F, G, L, H, I, I, J, E, K, K, I, I, R, H};
    uint32_t want[] = {R, R, R, R, R, R, C, C, R, R, G, R, D};
    uint64_t m = sizeof from / sizeof *from;
    struct graph g;
    dom(&g, 13, m, from, to, R); /* builds the arrays; run again with done */
    spoiled = 0;
    expect_eq_u64(pyr_dom_idom(13, R, g.start, g.succ, g.idom, g.order, g.work, spoil, &g), 13);
    expect_eq_u64(spoiled, 1);
    for (uint32_t v = 0; v < 13; v++)
        expect_true(g.idom[v] == want[v], "idom[%c] %u, want %u", "RABCDEFGHIJKL"[v], g.idom[v],
                    want[v]);
    graph_free(&g);
}
TEST_END

/* Random heap-like graphs (mostly trees, with cross edges, cycles, nodes
 * no one reaches, edges given twice): n nodes, the virtual root n holds
 * those held says; the dominators by pyr_dom_idom over all the nodes, and
 * by pyr_dom_hang's trees taken out, the rest numbered anew and the edges
 * to held nodes left out as pyretain.c does, must agree on every node. */
static uint32_t hang_graph(uint32_t round, uint32_t n, uint32_t *from, uint32_t *to, uint8_t *held)
{
    uint32_t seed = 777 + round * 31, m = 0;
#define RND(k) ((seed = seed * 1103515245u + 12345u) >> 8) % (k)
    for (uint32_t v = 1; v < n; v++) {
        held[v] = RND(8) == 0;
        if (RND(10)) /* a tree edge from an earlier node (some left without one) */
            from[m] = RND(v), to[m++] = v;
    }
    held[0] = 1;
    for (uint32_t k = RND(n / 4 + 1); k > 0; k--) /* cross and back edges, repeats */
        from[m] = RND(n), to[m] = RND(n), m += from[m] != to[m];
#undef RND
    for (uint32_t v = 0; v < n; v++) /* the root's edges */
        if (held[v])
            from[m] = n, to[m++] = v;
    return m;
}

TEST_BEGIN(hanging_trees_taken_out_keep_every_dominator)
{
    uint32_t hung_total = 0;
    for (uint32_t round = 0; round < 60; round++) {
        uint32_t n = 8 + round * 7, from[2048], to[2048], one[512], left[512], q[512], id[512];
        uint32_t inv[512], cf[2048], ct[2048], idom[512];
        uint8_t held[512] = {0};
        uint32_t m = hang_graph(round, n, from, to, held);
        struct graph full;
        dom(&full, n + 1, m, from, to, n);
        memset(one, 0xff, sizeof one), memset(left, 0, sizeof left);
        for (uint32_t e = 0; e < m; e++) /* an edge to a held node left out (pyr_end) */
            if (from[e] < n) {
                left[from[e]] += !held[to[e]];
                one[to[e]] = one[to[e]] == PYDOM_NONE ? from[e] : PYDOM_MANY;
            }
        uint32_t nq = pyr_dom_hang(n, one, left, held, q), nu = 0, cm = 0;
        hung_total += nq;
        for (uint32_t v = 0; v < n; v++)
            if (left[v] != PYDOM_NONE)
                id[v] = nu, inv[nu++] = v;
            else
                id[v] = PYDOM_NONE;
        expect_eq_u64(nu + nq, n);
        uint32_t pos[512];
        for (uint32_t k = 0; k < nq; k++)
            pos[q[k]] = k;
        for (uint32_t k = 0; k < nq; k++) /* each before its predecessor, when that hangs */
            expect_true(id[one[q[k]]] != PYDOM_NONE || pos[one[q[k]]] > k,
                        "round %u: %u hangs after its predecessor", round, q[k]);
        for (uint32_t e = 0; e < m; e++) {
            if (id[to[e]] == PYDOM_NONE || (from[e] < n && held[to[e]]))
                continue;
            expect_true(from[e] == n || id[from[e]] != PYDOM_NONE,
                        "round %u: edge %u->%u from a hanging node", round, from[e], to[e]);
            cf[cm] = from[e] == n ? nu : id[from[e]], ct[cm++] = id[to[e]];
        }
        struct graph part;
        dom(&part, nu + 1, cm, cf, ct, nu);
        for (uint32_t v = 0; v < n; v++)
            idom[v] = one[v];
        for (uint32_t c = 0; c < nu; c++)
            idom[inv[c]] = part.idom[c] == nu           ? n
                           : part.idom[c] == PYDOM_NONE ? PYDOM_NONE
                                                        : inv[part.idom[c]];
        pyr_dom_hang_reach(idom, q, nq);
        for (uint32_t v = 0; v < n; v++)
            expect_true(idom[v] == full.idom[v], "round %u: idom[%u] %u, want %u (%s)", round,
                        v, idom[v], full.idom[v], id[v] == PYDOM_NONE ? "hung" : "kept");
        graph_free(&full), graph_free(&part);
    }
    expect_true(hung_total > 1000, "only %u nodes hung: the graphs test nothing", hung_total);
}
TEST_END

TEST_BEGIN(a_hanging_node_follows_the_nodes_below_it)
{
    /* 0 holds 1 and 2; 1 holds 3 holds 4; 2 and 4 both hold 5: 5 has two
     * ways in, so 2, 4 and the nodes above them stay */
    uint32_t one[] = {PYDOM_NONE, 0, 0, 1, 3, PYDOM_MANY, 3};
    uint32_t left[] = {2, 1, 1, 2, 1, 0, 0}, q[7];
    uint8_t held[] = {1, 0, 0, 0, 0, 0, 0};
    expect_eq_u64(pyr_dom_hang(7, one, left, held, q), 1);
    expect_eq_u64(q[0], 6); /* 6 hangs from 3 (3 stays: it holds 4) */
    /* a chain below a held node hangs whole, leaf first */
    uint32_t one2[] = {PYDOM_NONE, 0, 1, 2}, left2[] = {1, 1, 1, 0}, q2[4];
    uint8_t held2[] = {1, 0, 0, 0};
    expect_eq_u64(pyr_dom_hang(4, one2, left2, held2, q2), 3);
    expect_eq_u64(q2[0], 3);
    expect_eq_u64(q2[1], 2);
    expect_eq_u64(q2[2], 1);
    expect_eq_u64(left2[0], 0);
    expect_eq_u64(left2[3], PYDOM_NONE);
}
TEST_END

int main(void)
{
    dominators_of_a_chain_are_the_previous_node();
    dominator_of_a_diamond_is_its_top();
    a_cycle_is_dominated_by_its_entry();
    nodes_two_roots_share_belong_to_the_virtual_root();
    lengauer_tarjan_example_graph();
    a_long_chain_needs_no_recursion();
    random_graphs_match_the_definition();
    successors_are_read_no_more_once_done_is_called();
    hanging_trees_taken_out_keep_every_dominator();
    a_hanging_node_follows_the_nodes_below_it();
    return 0;
}
