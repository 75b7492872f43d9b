/*
 * pydom.h - immediate dominators of a graph from one root (pydom.c,
 * Lengauer and Tarjan), for the heap's retained sizes (pyretain.c).
 */
#ifndef SHIM_PYDOM_H
#define SHIM_PYDOM_H

#include <stddef.h>
#include <stdint.h>

#define PYDOM_NONE UINT32_MAX
#define PYDOM_MANY (UINT32_MAX - 1) /* pyr_dom_hang's one: two predecessors or more */

/* The memory pyr_dom_idom needs for n nodes and m edges. */
size_t pyr_dom_work_bytes(uint32_t n, uint64_t m);
/* The bytes [*off, *off + *len) of that work that pyr_dom_idom first
 * touches after its done (the forest's ancestors and buckets): a caller
 * that maps the work lazily can make them resident there, once start and
 * succ are given back, not beside them. */
void pyr_dom_work_late(uint32_t n, size_t *off, size_t *len);

/* The immediate dominator of every node of the graph (nodes 0..n-1; node
 * v's successors succ[start[v], start[v+1]), an entry >= n ignored) that
 * root reaches into idom[v] (idom[root] = root; PYDOM_NONE: not reached),
 * and the reached nodes in depth first order (each after its dominator)
 * into order[0, count) (n entries).  work: pyr_dom_work_bytes(n,
 * m) bytes, 8-aligned, touched a part at a time.  done (or NULL) is
 * called with arg once start and succ are read no more (before the rest
 * of work is touched: the caller may give them back).  Returns how many
 * nodes root reaches (0: root out of range, or start[n], the edges,
 * UINT32_MAX; done is called then too). */
uint32_t pyr_dom_idom(uint32_t n, uint32_t root, const uint32_t *start, const uint32_t *succ,
                    uint32_t *idom, uint32_t *order, void *work, void (*done)(void *),
                    void *arg);

/* The nodes that hang below the rest of the graph as trees (nodes
 * 0..n-1): v with a single predecessor (one[v] < n; PYDOM_NONE: none,
 * PYDOM_MANY: more, or the same one twice), not held (held[v] 0: no edge
 * from the root) and whose successors all hang so too.  Such a node is
 * dominated by its predecessor (the one way in), and no path between two
 * other nodes crosses it (it leads only to nodes that hang), so the
 * dominators of the others are those of the graph without the hanging
 * nodes.  left: each node's out-degree, consumed (edges to held nodes
 * may be left out of it: the root's own edge is a way around them); a
 * hanging node's becomes PYDOM_NONE.  The hanging nodes into q, each after every node
 * below it (n entries at most); how many. */
uint32_t pyr_dom_hang(uint32_t n, const uint32_t *one, uint32_t *left, const uint8_t *held,
                    uint32_t *q);
/* After the dominators of the others are in idom (PYDOM_NONE: not
 * reached): the nq hanging nodes of q (pyr_dom_hang's), whose idom holds
 * their predecessor, are made PYDOM_NONE where it is not reached. */
void pyr_dom_hang_reach(uint32_t *idom, const uint32_t *q, uint32_t nq);

#endif
