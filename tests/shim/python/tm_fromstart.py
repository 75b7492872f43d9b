# tm_fromstart.py - a program run with tracemalloc on from start-up
# (-X tracemalloc, PYTHONTRACEMALLOC=1): its hooks are on the allocator
# domains before the shim wraps them.  Prints tracemalloc's own count for
# the points' line; with "leak", loses three zeroed 40000-byte malloc
# blocks: ctypes discards each result, so no Python int holds an address
# (a freed int's digits stayed in memory and kept one block "reachable"
# once in 20-odd runs), and a thread of its own asks for them, so that
# they come from a glibc arena mapped for it, where the interpreter freed
# no array: calloc'd on the main thread, a block could take the address of
# the array of take_snapshot's traces list, freed, whose list object, dead
# on CPython's list free list, kept it in ob_item: the block read reachable
# now and then, as it would for LeakSanitizer
# (test_python_tracemalloc_from_start.sh says more); with "stop", ends with
# tracemalloc.stop(), which on 3.10-3.12 leaves tracebacks behind, some
# made outside its hooks (_PyTraceMalloc_NewReference).
import ctypes
import os
import sys
import threading
import time
import tracemalloc

points = [{"x": i, "y": i * 2} for i in range(10000)]  # MARK_POINTS
for st in tracemalloc.take_snapshot().statistics("lineno"):
    if st.traceback[0].filename == __file__:
        print("tracemalloc: count=%d" % st.count)
        break


def lose(libc):
    for i in range(3):
        libc.calloc(1, 40000)  # MARK_LEAK


if "leak" in sys.argv:
    libc = ctypes.CDLL(None)
    libc.calloc.restype = None
    t = threading.Thread(target=lose, args=(libc,))
    t.start()
    t.join()
    # join returns once the thread's Python state is gone, and the thread
    # ends in C after it: the exit check comes once the kernel has dropped
    # it, or it could find the thread still there and the last block
    # reachable "from the stack of thread N" (see the test)
    for i in range(5000):
        if not os.path.exists("/proc/self/task/%d" % t.native_id):
            break
        time.sleep(0.001)
if "stop" in sys.argv:
    tracemalloc.stop()
