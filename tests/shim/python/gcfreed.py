# gcfreed.py - what the cycle collector frees, per line, for
# test_python_gcfreed.sh: N trees of K nodes whose children point to their
# parent (made at one line: only a collection frees them) and N acyclic
# leaves (made at another: reference counting frees them), dropped; the
# collector runs (automatic collections, then gc.collect()).  Snapshots
# argv[1] before and argv[2] after, each with the gc's own collected sum
# printed beside it (read with the collector paused, so that no automatic
# collection falls between the two).  Node has __slots__: one object a
# node, none from a free list (whose blocks keep the trace of their first
# owner), on every version.  The leaves' lists and tuples go to CPython's
# free lists as they die, which a full collection empties: not counted.
import ctypes
import gc
import sys

lib = ctypes.CDLL(None)
lib.heapsnap_take_snapshot.argtypes = [ctypes.c_char_p]
N, K = int(sys.argv[3]), int(sys.argv[4])


class Node:
    __slots__ = ("parent", "left", "right")


class Leaf:
    __slots__ = ("value",)

    def __init__(self, value):
        self.value = value


def collected():
    return sum(s["collected"] for s in gc.get_stats())


def snapshot(path):
    gc.disable()
    print(path, collected())
    lib.heapsnap_take_snapshot(path.encode())
    gc.enable()


def make_trees(n, k):
    trees = []
    for _ in range(n):
        nodes = [Node() for _ in range(k)]  # TREE: every node of the tree
        for i, c in enumerate(nodes):
            c.parent = nodes[(i - 1) // 2] if i else None
            c.left = nodes[2 * i + 1] if 2 * i + 1 < k else None
            c.right = nodes[2 * i + 2] if 2 * i + 2 < k else None
        trees.append(nodes[0])
    return trees


def make_acyclic(n):
    return [Leaf(([i], (i, -i))) for i in range(n)]  # ACYCLIC: freed by reference counting


gc.collect()
snapshot(sys.argv[1])
trees = make_trees(N, K)
leaves = make_acyclic(N)
del trees, leaves
junk = [Leaf(None) for _ in range(3000)]  # allocations: automatic collections run
print("freed", gc.collect())
snapshot(sys.argv[2])
