# unwritten_user.py LIB SNAP: loads LIB (unwritten.c), holds an
# UnwrittenHeld by its C global alone, writes a snapshot to SNAP through
# the shim's API, and prints how many of the never-written zeros' pages
# are present (/proc/self/pagemap) before and after it.
import ctypes
import sys

lib = ctypes.CDLL(sys.argv[1])


class UnwrittenHeld:
    pass


obj = UnwrittenHeld()
ctypes.pythonapi.Py_IncRef(ctypes.py_object(obj))
ctypes.c_void_p.in_dll(lib, "unwritten_held").value = id(obj)
del obj
zeros = ctypes.addressof(ctypes.c_char.in_dll(lib, "unwritten_zeros"))
size = ctypes.c_size_t.in_dll(lib, "unwritten_size").value


def present():
    with open("/proc/self/pagemap", "rb") as f:
        f.seek(zeros // 4096 * 8)
        e = f.read(size // 4096 * 8)
    return sum(e[i + 7] >> 7 for i in range(0, len(e), 8))


before = present()
rc = ctypes.CDLL(None).heapsnap_take_snapshot(sys.argv[2].encode())
print("snapshot", rc, "pages present before", before, "after", present(), "of", size // 4096)
