# cycletree.py - cycles of more than one attribute, for
# test_python_cycle_paths.sh: with the collector off, 4 trees whose
# children point to their parent (a Node's parent, its children list: a
# root, 3 children, 2 grandchildren each, each level made on its own
# line), each Node holding a list of its own (data: on no cycle, held by
# one), and 5 rings of three classes (A.to_b, B.to_c, C.to_a).  A
# snapshot (argv[1]), then gc.collect()'s count.
import ctypes
import gc
import sys

lib = ctypes.CDLL(None)
lib.heapsnap_take_snapshot.argtypes = [ctypes.c_char_p]
gc.collect()
gc.disable()


class Node:
    def __init__(self, parent):
        self.parent = parent
        self.children = []  # CHILDREN
        self.data = [len(self.children)]  # DATA
        if parent is not None:
            parent.children.append(self)


class A:
    pass


class B:
    pass


class C:
    pass


def make():
    for t in range(4):
        root = Node(None)  # ROOT
        for i in range(3):
            child = Node(root)  # CHILD
            for j in range(2):
                Node(child)  # GRANDCHILD
    for k in range(5):
        a, b, c = A(), B(), C()
        a.to_b = b
        b.to_c = c
        c.to_a = a


make()
lib.heapsnap_take_snapshot(sys.argv[1].encode())
print(gc.collect())
