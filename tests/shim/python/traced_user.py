# traced_user.py - get_traced_memory() counts what was allocated since
# start(): frees of older blocks do not lower it, its peak is the peak of
# that sum, and a snapshot's own objects are not in it (heapsnap's list of
# 100000 traces, grown by realloc, was: +0.8 MiB, peak +1.6)
# (test_python_inproc.sh runs it with tracemalloc and heapsnap: the same
# lines).  argv 1: the module.
import importlib
import sys

tm = importlib.import_module(sys.argv[1])
MiB = 1 << 20


def show(what):
    cur, peak = tm.get_traced_memory()
    print("%s: current %.1f MiB, peak %.1f MiB" % (what, cur / MiB, peak / MiB))


old = [bytearray(1000) for _ in range(8000)]  # 8 MB before start()
tm.start()
del old
show("older blocks freed")
new = bytearray(3 * MiB)
show("3 MiB since")
del new
more = bytearray(1 * MiB)
show("freed, then 1 MiB")
rows = [str(i) for i in range(100000)]
cur0, peak0 = tm.get_traced_memory()
snap = tm.take_snapshot()  # its own objects are not traced: 100000 traces
cur1, peak1 = tm.get_traced_memory()
print("a snapshot's own: current %.1f MiB, peak %.1f MiB"
      % (max(0, cur1 - cur0) / MiB, max(0, peak1 - max(peak0, cur0)) / MiB))
del snap, rows
tm.reset_peak()
show("after reset_peak")
tm.clear_traces()
show("after clear_traces")
tm.stop()
show("after stop")
