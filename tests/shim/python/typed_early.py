# typed_early.py - objects for test_python_typed_early.sh: rings of
# instances dropped with the collector off (garbage a leak check's graph
# finds), dicts and tuples kept, one str with a reference leaked by
# Py_IncRef.  With arguments (a shared library's path, a count), its
# churn_start first starts a native thread that allocates once the exit
# snapshot's leak check has forked (churnthread.c), and COUNT dicts more
# are kept, so that the parent's typing pass outlasts the thread's wait.
import ctypes
import gc
import sys

if len(sys.argv) > 1:
    ctypes.CDLL(sys.argv[1]).churn_start()
gc.disable()


class Node:
    def __init__(self, n):
        self.n = n
        self.next = None
        self.data = [n] * 10


def ring(k):
    nodes = [Node(i) for i in range(k)]
    for a, b in zip(nodes, nodes[1:] + nodes[:1]):
        a.next = b


KEEP = {}
for i in range(200 + (int(sys.argv[2]) if len(sys.argv) > 2 else 0)):
    if i < 200:
        ring(5)
    KEEP[i] = {"k": [i, str(i) * 3], "t": (i, i + 1)}
LEAKED = "leaked %d" % len(KEEP)
ctypes.pythonapi.Py_IncRef(ctypes.py_object(LEAKED))
del LEAKED
BIG = [bytes(1000) for _ in range(300)]
