# codes.py - code objects that die, their addresses free for the next:
# 200 functions compiled from text, each under its own file name with its
# allocation on its own line, called once and dropped (for
# test_python_codes.sh).  argv[1]: the snapshot's path.
import ctypes
import gc
import sys

keep = []
for i in range(200):
    src = "\n" * i + "def f():\n    return bytearray(1000)\n"
    ns = {}
    exec(compile(src, "gen%d.py" % i, "exec"), ns)
    keep.append(ns["f"]())
    del ns
    gc.collect()
ctypes.CDLL(None).heapsnap_take_snapshot(sys.argv[1].encode())
