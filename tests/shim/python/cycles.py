# cycles.py - garbage only the collector frees, for test_python_cycles.sh:
# with the collector off, 50 pairs of Node objects that point to each
# other and one Fin (with a __del__) that points to itself are dropped;
# 10 Node kept in a list are not garbage; 5 Ided that point to themselves
# are garbage though IDS maps their id() (an int key's hash is the int:
# the address, which is no reference).  A snapshot (argv[1]), then
# gc.collect()'s count printed: the garbage the snapshot must have found.
import ctypes
import gc
import sys

lib = ctypes.CDLL(None)  # made before: its own cycles are not this garbage
lib.heapsnap_take_snapshot.argtypes = [ctypes.c_char_p]
gc.collect()
gc.disable()


class Node:
    def __init__(self):
        self.next = None


class Ided:
    pass


IDS = {}


class Fin:
    def __del__(self):
        pass


def make(n):
    for i in range(n):
        a, b = Node(), Node()
        a.next = b
        b.next = a
    f = Fin()
    f.me = f
    for i in range(5):
        d = Ided()
        d.me = d
        IDS[id(d)] = i


make(50)
keep = [Node() for i in range(10)]
lib.heapsnap_take_snapshot(sys.argv[1].encode())
print(gc.collect())
