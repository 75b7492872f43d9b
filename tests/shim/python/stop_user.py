# stop_user.py - heapsnap.stop() stops the shim's recording, as
# tracemalloc.stop() stops tracing (test_python_inproc.sh).
import heapsnap as tracemalloc

tracemalloc.start()
tracemalloc.stop()
print("after stop", tracemalloc.get_traced_memory(), tracemalloc.is_tracing())
unseen = bytearray(5 << 20)  # MARK_UNSEEN: allocated while stopped
tracemalloc.start()
seen = bytearray(3 << 20)  # MARK_SEEN
snap = tracemalloc.take_snapshot()
sizes = sorted(t.size for t in snap.traces if t.size >= 1 << 20)
print("big blocks", sizes)
cur, peak = tracemalloc.get_traced_memory()
print("traced since start >= 3 MiB", cur >= 3 << 20, "peak >= current", peak >= cur)
