"""objects_capped.py - 2000 reference cycles left to the collector (gc
off), then two snapshots of the process: the heap of
test_python_objects_capped, whose cap (HEAPSNAP_PYTHON_OBJECTS) is below
the live blocks.
usage: objects_capped.py SNAPSHOT"""
import ctypes
import gc
import sys

gc.disable()


class Node:
    pass


for _ in range(2000):
    a, b = Node(), Node()
    a.n, b.n = b, a
del a, b
lib = ctypes.CDLL(None)
lib.heapsnap_take_snapshot.argtypes = [ctypes.c_char_p]
rc = lib.heapsnap_take_snapshot(sys.argv[1].encode())
rc |= lib.heapsnap_take_snapshot((sys.argv[1] + ".2").encode())
sys.exit(rc)
