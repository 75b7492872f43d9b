/*
 * pydom.c - immediate dominators of a directed graph from one root, for
 * the retained size of the heap's objects and blocks (pyretain.c): x
 * dominates y when every path from the root to y passes through x, so
 * what x dominates is what would be freed if x went.
 *   Lengauer and Tarjan's algorithm, the "simple" version (path
 * compression without balanced linking, O(m log n)), rather than Cooper,
 * Harvey and Kennedy's iterative one: a heap is a deep graph (a linked
 * list of a million nodes is a path of a million), where the iterative
 * algorithm's intersections walk the whole chain on every pass, while
 * this bound holds whatever the shape.  Nothing recursive (the depth
 * first search and the compression keep their own stacks), nothing
 * allocated (the caller hands over pyr_dom_work_bytes of memory), no
 * dependency on the rest of the shim: tests/shim/python/retain/test_pydom.c runs
 * it on synthetic graphs.  Nodes are 0..n-1, below PYDOM_MANY.
 *   Most of a heap hangs from the rest as trees (an int in one list, a
 * list's item array, an instance's values): pyr_dom_hang finds those
 * nodes, whose dominator is their one predecessor, so that the algorithm
 * runs over the others only.
 */
#include <string.h>

#include "pydom.h"

size_t pyr_dom_work_bytes(uint32_t n, uint64_t m)
{
    /* semi, label, ancestor, bucket head, bucket next (the depth first
     * stack's edge positions before), stack and the predecessors' starts:
     * u32 each (m < 2^32); the predecessors: u32 an edge.  The parents are
     * kept in the caller's idom (pyr_dom_idom) */
    return ((size_t)n + 1) * (7 * 4) + (size_t)m * 4;
}

void pyr_dom_work_late(uint32_t n, size_t *off, size_t *len)
{
    /* ancestor and bhead, after semi and label: pyr_dom_idom's layout */
    *off = ((size_t)n + 1) * (2 * 4);
    *len = ((size_t)n + 1) * (2 * 4);
}

/* The node on v's compressed ancestor path with the least semi (v's own
 * label when v is a tree root of the forest). */
static uint32_t pyr_dom_eval(uint32_t v, uint32_t *ancestor, uint32_t *label,
                           const uint32_t *semi, uint32_t *stack)
{
    if (ancestor[v] == PYDOM_NONE)
        return v;
    uint32_t top = 0;
    /* the path up to the node just below the forest's root */
    for (uint32_t x = v; ancestor[ancestor[x]] != PYDOM_NONE; x = ancestor[x])
        stack[top++] = x;
    while (top) { /* from the top down: each takes its ancestor's best */
        uint32_t x = stack[--top], a = ancestor[x];
        if (semi[label[a]] < semi[label[x]])
            label[x] = label[a];
        ancestor[x] = ancestor[a];
    }
    return label[v];
}

/* Depth first from root, iteratively (pos[] is where each node on the
 * stack is in its successors): the nodes numbered in semi (1 on; 0: not
 * reached), in order (number i at order[i - 1]), each one's label itself
 * and its depth first parent in parent.  Returns how many are reached. */
static uint32_t pyr_dom_dfs(uint32_t n, uint32_t root, const uint32_t *start, const uint32_t *succ,
                          uint32_t *semi, uint32_t *order, uint32_t *label, uint32_t *parent,
                          uint32_t *stack, uint32_t *pos)
{
    uint32_t N = 0, top = 0;
    for (uint32_t v = 0; v < n; v++)
        semi[v] = 0;
    semi[root] = ++N, order[N - 1] = label[root] = root, parent[root] = PYDOM_NONE;
    stack[top] = root, pos[top++] = start[root];
    while (top) {
        uint32_t v = stack[top - 1];
        if (pos[top - 1] == start[v + 1]) {
            top--;
            continue;
        }
        uint32_t w = succ[pos[top - 1]++];
        if (w >= n || semi[w])
            continue;
        semi[w] = ++N, order[N - 1] = label[w] = w, parent[w] = v;
        stack[top] = w, pos[top++] = start[w];
    }
    return N;
}

/* The predecessors among the reached nodes (semi set), by target: node
 * w's are pred[pstart[w], pstart[w + 1]). */
static void pyr_dom_preds(uint32_t n, const uint32_t *start, const uint32_t *succ,
                        const uint32_t *semi, uint32_t *pstart, uint32_t *pred)
{
    memset(pstart, 0, ((size_t)n + 1) * sizeof *pstart);
    for (uint32_t v = 0; v < n; v++)
        if (semi[v])
            for (uint32_t e = start[v]; e < start[v + 1]; e++)
                if (succ[e] < n)
                    pstart[succ[e] + 1]++;
    for (uint32_t v = 0; v < n; v++)
        pstart[v + 1] += pstart[v];
    for (uint32_t v = 0; v < n; v++)
        if (semi[v])
            for (uint32_t e = start[v]; e < start[v + 1]; e++)
                if (succ[e] < n)
                    pred[pstart[succ[e]]++] = v;
    for (uint32_t v = n; v > 0; v--)
        pstart[v] = pstart[v - 1];
    pstart[0] = 0;
}

uint32_t pyr_dom_idom(uint32_t n, uint32_t root, const uint32_t *start, const uint32_t *succ,
                    uint32_t *idom, uint32_t *order, void *work, void (*done)(void *),
                    void *arg)
{
    /* a node's parent in the depth first tree is kept in its idom, which
     * is written only once the node's own turn (the parent read) is past */
    uint32_t *parent = idom, *semi = (uint32_t *)work,
             *label = semi + n + 1, *ancestor = label + n + 1, *bhead = ancestor + n + 1,
             *bnext = bhead + n + 1, *stack = bnext + n + 1;
    uint32_t *pos = bnext, *pstart = stack + n + 1, *pred = pstart + n + 1;
    if (root >= n || start[n] >= UINT32_MAX) {
        if (done)
            done(arg);
        return 0;
    }
    uint32_t N = pyr_dom_dfs(n, root, start, succ, semi, order, label, parent, stack, pos);
    pyr_dom_preds(n, start, succ, semi, pstart, pred);
    if (done) /* the successors are done with: given back before the forest's arrays are
                 touched, the peak lower by those */
        done(arg);
    for (uint32_t v = 0; v < n; v++) {
        ancestor[v] = bhead[v] = PYDOM_NONE;
        if (!semi[v])
            idom[v] = PYDOM_NONE; /* not reached; the others' parents stay */
    }
    /* semidominators in reverse order; idom known or deferred */
    for (uint32_t i = N; i >= 2; i--) {
        uint32_t w = order[i - 1], p = parent[w];
        for (uint32_t e = pstart[w]; e < pstart[w + 1]; e++) {
            uint32_t u = pyr_dom_eval(pred[e], ancestor, label, semi, stack);
            if (semi[u] < semi[w])
                semi[w] = semi[u];
        }
        uint32_t s = order[semi[w] - 1];
        bnext[w] = bhead[s], bhead[s] = w;
        ancestor[w] = p; /* link(parent, w) */
        for (uint32_t v = bhead[p]; v != PYDOM_NONE; v = bnext[v]) {
            uint32_t u = pyr_dom_eval(v, ancestor, label, semi, stack);
            idom[v] = semi[u] < semi[v] ? u : p;
        }
        bhead[p] = PYDOM_NONE;
    }
    for (uint32_t i = 2; i <= N; i++) {
        uint32_t w = order[i - 1];
        if (idom[w] != order[semi[w] - 1])
            idom[w] = idom[idom[w]];
    }
    idom[root] = root;
    return N;
}

static inline int pyr_dom_hangs(uint32_t v, uint32_t n, const uint32_t *one, const uint8_t *held)
{
    return !held[v] && one[v] < n;
}

uint32_t pyr_dom_hang(uint32_t n, const uint32_t *one, uint32_t *left, const uint8_t *held,
                    uint32_t *q)
{
    uint32_t nq = 0;
    for (uint32_t v = 0; v < n; v++) /* the leaves first */
        if (!left[v] && pyr_dom_hangs(v, n, one, held))
            q[nq++] = v;
    for (uint32_t k = 0; k < nq; k++) { /* a queue: a node once its successors are in */
        uint32_t v = q[k], p = one[v];
        left[v] = PYDOM_NONE;
        if (!--left[p] && pyr_dom_hangs(p, n, one, held))
            q[nq++] = p;
    }
    return nq;
}

void pyr_dom_hang_reach(uint32_t *idom, const uint32_t *q, uint32_t nq)
{
    for (uint32_t k = nq; k-- > 0;) /* a predecessor before the nodes below it */
        if (idom[idom[q[k]]] == PYDOM_NONE)
            idom[q[k]] = PYDOM_NONE;
}
