"""tests/shim/python/leakref_sparse.py - the leaked-reference scan of a
process whose writable memory is mostly pages never written: a 256 MiB
private anonymous mapping written on one page only (an allocator's
reservation, or a library's big .data, look like this), where that page
holds the only pointer to an object given one reference more (marked
held: not leaked). Another object is given a reference nothing points to
(marked leaked). heapsnap_collect (a snapshot with the leak check, whose
scan reads the process's writable memory) is timed in minor faults:
printed as "faults N"."""
import ctypes
import mmap
import resource
import sys

m = mmap.mmap(-1, 256 << 20, flags=mmap.MAP_PRIVATE | mmap.MAP_ANONYMOUS)
held = bytearray(b"held by the mapping's one written page")  # MARK_HELD
ctypes.pythonapi.Py_IncRef(ctypes.py_object(held))
word = (ctypes.c_uint64 * 1).from_buffer(m, 4096)
word[0] = id(held)
del held
leaked = bytearray(b"a reference nothing points to")  # MARK_LEAKED
ctypes.pythonapi.Py_IncRef(ctypes.py_object(leaked))
del leaked
shim = ctypes.CDLL(None)
shim.heapsnap_collect.argtypes = [ctypes.c_char_p]
f0 = resource.getrusage(resource.RUSAGE_SELF).ru_minflt
rc = shim.heapsnap_collect(sys.argv[1].encode())
f1 = resource.getrusage(resource.RUSAGE_SELF).ru_minflt
print("collect", rc, "faults", f1 - f0)
