# tm_guest.py - test_python_tracemalloc_plain.sh's guest: start(),
# allocations of every kind (threads, json, a child process, a C library's
# malloc), get_object_traceback, stop(), and output that must be the same
# whether tracemalloc or heapsnap (loaded into this plain interpreter by
# start()) traces it.
import atexit
import ctypes
import json
import subprocess
import sys
import threading

import tracemalloc

atexit.register(lambda: print("atexit ran"))
tracemalloc.start(5)
print("loaded", getattr(tracemalloc, "is_loaded", lambda: None)())
libc = ctypes.CDLL(None)
libc.malloc.restype = ctypes.c_void_p
libc.malloc.argtypes = [ctypes.c_size_t]
libc.free.argtypes = [ctypes.c_void_p]
blocks = [libc.malloc(4096) for _ in range(100)]
for b in blocks:
    libc.free(b)
rows = [{"id": i, "name": "row %d" % i, "tags": list(range(i % 7))} for i in range(20000)]
text = json.dumps(rows[:500], sort_keys=True)
back = json.loads(text)
out = []


def work(k):
    out.append(sum(len(str(x)) for x in range(k * 1000, k * 1000 + 5000)))


threads = [threading.Thread(target=work, args=(k,)) for k in range(4)]
for t in threads:
    t.start()
for t in threads:
    t.join()
child = subprocess.run([sys.executable, "-c", "print(sum(range(1000)))"],
                       capture_output=True, text=True, check=True)
print("tracing", tracemalloc.is_tracing(), tracemalloc.get_traced_memory()[0] > 1_000_000)
print("json", len(text), back == rows[:500])
print("threads", sorted(out))
print("child", child.stdout.strip(), repr(child.stderr))


class Made:  # no managed dict: tracemalloc 3.11 misses objects with a pre-header
    __slots__ = ("a",)


made = Made()
big = bytearray(300000)
text = bytes(5000)
for obj in (made, big, text):
    tb = tracemalloc.get_object_traceback(obj)
    print("traceback of", type(obj).__name__, [(f.filename.rsplit("/", 1)[-1], f.lineno) for f in tb])
tracemalloc.stop()
print("stopped", tracemalloc.is_tracing(), tracemalloc.get_traced_memory())
try:
    tracemalloc.take_snapshot()
except RuntimeError as e:
    print("snapshot refused:", type(e).__name__)
print("traceback after stop", tracemalloc.get_object_traceback(rows[0]))
sys.exit(3)
