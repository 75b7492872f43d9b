# pools.py - what the shim spends on pymalloc's objects, and that it books
# them right: 400,000 objects made and dropped; prints the shim's memory
# (heapsnap_get_tracemalloc_memory) per object they added, and the traced
# bytes they added against what the interpreter says they hold, then what
# is left of them once dropped.  Run under the shim.
import ctypes
import sys

lib = ctypes.CDLL(None)
mem = lib.heapsnap_get_tracemalloc_memory
mem.restype = ctypes.c_size_t


def traced():
    cur, peak = ctypes.c_size_t(), ctypes.c_size_t()
    lib.heapsnap_get_traced_memory(ctypes.byref(cur), ctypes.byref(peak))
    return cur.value


N = 400000
shim0, t0 = mem(), traced()
keep = [object() for _ in range(N)]
shim1, t1 = mem(), traced()
want = N * sys.getsizeof(object()) + (sys.getsizeof(keep) - sys.getsizeof([]))
print("shim_bytes_per_object %.2f" % ((shim1 - shim0) / N))
print("traced_over_expected %.4f" % ((t1 - t0) / want))
del keep
print("left_after_drop %d" % (traced() - t0))
