# nframe_cap.py - start(nframe)'s limit kept as the shim records, for
# test_python_nframe_cap.sh.  argv: nframe, and "bare" for native=False.  One line allocates from 4,096
# call chains (12 levels of two functions, then 40 frames of one), each a
# stack of its own when kept whole, one under start(1): the exit
# snapshot's count of traces says which.  Then stop(), start(40): the same
# line's tracebacks are deep again (the threads' recent splices made under
# the cap are forgotten).  One line makes 12 kinds of object, each
# through native frames of its own: 12 stacks or more under start(1),
# one under start(1, native=False) (the count of traces says).
import sys

import heapsnap

heapsnap.start(int(sys.argv[1]), native=sys.argv[2:] != ["bare"])
held = []


def chain(n):
    if n:
        return chain(n - 1)
    held.append(bytearray(100))  # MARK_CAP_LINE


def a(bits, level):
    return (a if bits & 1 else b)(bits >> 1, level - 1) if level else chain(40)


def b(bits, level):
    return (a if bits & 1 else b)(bits >> 1, level - 1) if level else chain(40)


def run():
    for i in range(4096):
        a(i, 12)


run()
kinds = (list, tuple, set, frozenset, bytearray, bytes, dict.fromkeys, sorted, reversed,
         enumerate, zip, lambda r: [i * 2 for i in r])
for kind in kinds:
    held.append([kind(range(i, i + 200)) for i in range(3)])  # MARK_CAP_KINDS
snap = heapsnap.take_snapshot().filter_traces([heapsnap.Filter(True, __file__)])
print("deepest", max(len(t.traceback) for t in snap.traces))
heapsnap.stop()
heapsnap.start(40)
held.clear()
run()
snap = heapsnap.take_snapshot().filter_traces([heapsnap.Filter(True, __file__)])
print("after start(40) deepest", max(len(t.traceback) for t in snap.traces))
