# traced_user.py - get_traced_memory() counts what was allocated since
# start(): frees of older blocks do not lower it, its peak is the peak of
# that sum (test_python_inproc.sh runs it with tracemalloc and heapsnap:
# the same lines).  argv 1: the module.
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
tm.reset_peak()
show("after reset_peak")
tm.clear_traces()
show("after clear_traces")
tm.stop()
show("after stop")
