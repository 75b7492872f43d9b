# tmreuse.py - the cost of one snapshot's pass over tracemalloc's table
# (pytmline.c, CPython 3.10-3.12 under -X tracemalloc): about 1,000,000
# live dicts, lists, tuples and floats, some reborn from the free lists,
# then one heapsnap snapshot (heapsnap_take_snapshot, the shim preloaded)
# timed around the call.  usage: python3 -X tracemalloc tmreuse.py OUT.hsnap
import ctypes
import sys
import time

keep = []
for r in range(10):
    tmp = [{"a": i} for i in range(100)]
    del tmp
    keep.append([{"k": i} for i in range(25000)])
    keep.append([[i] for i in range(25000)])
    keep.append([(i, i) for i in range(25000)])
    keep.append([i * 0.5 for i in range(25000)])
lib = ctypes.CDLL(None)
t = time.perf_counter()
lib.heapsnap_take_snapshot(sys.argv[1].encode())
print("snapshot_s %.3f objects %d" % (time.perf_counter() - t, sum(len(x) for x in keep)))
