# lines.py - allocations at known lines, for test_python_lines.sh: run under
# heapsnap (a snapshot through the C API at the end) or under
# `python3 -X tracemalloc` (statistics('lineno') for this file printed).
import ctypes
import sys
import tracemalloc

keep = []
# The list and dict free lists (80 each) emptied first, so that both runs
# take every list and dict below from the allocator.
drained = [[] for i in range(200)] + [{} for i in range(200)]


def lists():
    for i in range(500):
        keep.append([0] * 100)  # L_LIST


def buffers():
    for i in range(300):
        keep.append(bytearray(2000))  # L_BYTES


def strings():
    for i in range(3000):
        keep.append("x%07d" % i)  # L_STR


def dicts():
    for i in range(400):
        keep.append({"a": i, "b": [i]})  # L_DICT


class Node:
    def __init__(self, n):
        self.payload = b"p" * n  # L_PAYLOAD


def nodes():
    return [Node(100) for i in range(700)]  # L_NODES


lists()
buffers()
strings()
dicts()
keep.append(nodes())
if tracemalloc.is_tracing():
    snap = tracemalloc.take_snapshot()
    snap = snap.filter_traces([tracemalloc.Filter(True, __file__)])
    for st in snap.statistics("lineno"):
        print(st.traceback[0].lineno, st.size, st.count)
else:
    ctypes.CDLL(None).heapsnap_take_snapshot(sys.argv[1].encode())
