"""dump_user.py - test_python_inproc.sh: an in-process snapshot written with
Snapshot.dump() and read back with Snapshot.load(), as tracemalloc's
examples do; prints its top line before and after, and whether each
trace's native stack came back whole."""
import sys

import heapsnap as tracemalloc

tracemalloc.start()
x = [bytearray(100) for _ in range(1000)]
s = tracemalloc.take_snapshot()
s.dump(sys.argv[1])
s2 = tracemalloc.Snapshot.load(sys.argv[1])
print("before", s.statistics("lineno")[0])
print("after", s2.statistics("lineno")[0])
print("natives", all(a.native == b.native for a, b in zip(s.traces, s2.traces)),
      len(s.traces) == len(s2.traces))
