# cyclepaths.py - cycles held by attributes, for test_python_cycle_paths.sh:
# with the collector off, 20 pairs of Node (a.next = b, b.next = a; kept
# in an instance's inline values from 3.11, its __dict__ on 3.10), 10
# pairs of Slot (a __slots__ member), a Wide holding itself whose
# attributes outgrew its class's shared keys (3.13: a dict took over its
# inline values, which stay behind, stale), two Stale holding themselves
# that a kept Wide held so, then let go (3.13: their stale inline words are no
# references), and a Shared holding itself whose __dict__ was made and
# shares its inline values (3.13).  A snapshot (argv[1]), then
# gc.collect()'s count printed.
import ctypes
import gc
import sys

lib = ctypes.CDLL(None)
lib.heapsnap_take_snapshot.argtypes = [ctypes.c_char_p]
gc.collect()
gc.disable()


class Node:
    def __init__(self):
        self.next = None


class Slot:
    __slots__ = ("peer",)


class Wide:
    pass


class Shared:
    pass


class Stale:
    def __init__(self):
        self.me = self


KEEP = Wide()


def make():
    for i in range(20):
        a, b = Node(), Node()
        a.next = b
        b.next = a
    for i in range(10):
        a, b = Slot(), Slot()
        a.peer = b
        b.peer = a
    w = Wide()
    w.back = w
    KEEP.x, KEEP.y = Stale(), Stale()
    for i in range(40):
        setattr(w, "a%d" % i, i)
        setattr(KEEP, "a%d" % i, i)
    del KEEP.x, KEEP.y
    s = Shared()
    s.other = 1
    vars(s)["own"] = s


make()
lib.heapsnap_take_snapshot(sys.argv[1].encode())
print(gc.collect())
