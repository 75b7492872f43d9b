# objtypes.py - objects of known types for test_python_types.sh: 1000 Node
# instances (a class of the script: __main__.Node), 500 dicts made at one
# line, 300 instances of a class with __slots__ and one with a metaclass;
# prints what gc.get_objects() counts of each class, then takes a snapshot
# (argv[1]) and, with "churn", first frees and makes big objects (bytes of
# 200 KiB, mapped and unmapped by malloc) in a thread while snapshots are
# taken (argv[1] + ".N"): the reads must never fault on a freed object.
import ctypes
import gc
import sys
import threading

lib = ctypes.CDLL(None)
lib.heapsnap_take_snapshot.argtypes = [ctypes.c_char_p]


class Node:
    def __init__(self, i):
        self.i = i
        self.next = None


class Slotted:
    __slots__ = ("a", "b")

    def __init__(self, a):
        self.a = a
        self.b = None


class Meta(type):
    pass


class WithMeta(metaclass=Meta):
    pass


nodes = [Node(i) for i in range(1000)]
dicts = [{"k": i} for i in range(500)]  # MARK_DICTS
slotted = [Slotted(i) for i in range(300)]
withmeta = [WithMeta() for i in range(200)]
counts = {}
for o in gc.get_objects():
    t = type(o)
    if t in (Node, Slotted, WithMeta):
        counts[t.__qualname__] = counts.get(t.__qualname__, 0) + 1
print(" ".join("%s=%d" % kv for kv in sorted(counts.items())))

if len(sys.argv) > 2 and sys.argv[2] == "churn":
    stop = []

    def churn():
        keep = []
        while not stop:
            keep.append(bytes(200 * 1024))
            if len(keep) > 4:
                keep.pop(0)
            keep.append(Node(0))
            keep.pop()

    t = threading.Thread(target=churn)
    t.start()
    for n in range(10):
        lib.heapsnap_take_snapshot(("%s.%d" % (sys.argv[1], n)).encode())
    stop.append(1)
    t.join()

sys.stdout.flush()
lib.heapsnap_take_snapshot(sys.argv[1].encode())
