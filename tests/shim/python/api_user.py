# api_user.py - the heapsnap package (python/) from a program, for
# test_python_api.sh.  argv: a directory for its snapshots.
import sys

import heapsnap

out = sys.argv[1]
if heapsnap.is_loaded():
    heapsnap.start()
print("loaded", heapsnap.is_loaded(), "tracing", heapsnap.is_tracing())
held = [bytearray(10000) for i in range(100)]  # MARK_API_HELD
cur, peak = heapsnap.get_traced_memory()
print("current >= 1000000", cur >= 1000000, "peak >= current", peak >= cur)
del held
heapsnap.reset_peak()
cur2, peak2 = heapsnap.get_traced_memory()
print("shrank", cur2 < cur, "peak reset", peak2 < peak)
print("snapshot", heapsnap.write_snapshot(out + "/api.hsnap"))
n = heapsnap.collect(out + "/collect.hsnap")
print("collect", "None" if n is None else "int")
print("memory", heapsnap.get_tracemalloc_memory() > 0)
