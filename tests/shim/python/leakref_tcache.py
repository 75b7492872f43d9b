# leakref_tcache.py - for test_python_leakref.sh: 3 references leaked
# (ctypes' Py_IncRef) to objects whose addresses were also written into
# small malloc blocks, then freed: glibc keeps such a chunk in its
# tcache, still "in use" to a walk of the heap, the stale address past
# the tcache's own two words.  A stale word there must not hide a leak:
# all 3 are reported.
import ctypes

libc = ctypes.CDLL(None)
libc.malloc.restype = ctypes.c_void_p
libc.malloc.argtypes = [ctypes.c_size_t]
libc.free.argtypes = [ctypes.c_void_p]


class Planted:
    pass


def leak(size):
    t = Planted()  # MARK_PLANTED
    ctypes.pythonapi.Py_IncRef(ctypes.py_object(t))
    p = libc.malloc(size)
    ctypes.memmove(p + 16, ctypes.byref(ctypes.c_void_p(id(t))), 8)
    libc.free(p)


for size in (72, 104, 136):
    leak(size)
libc.free(libc.malloc(40))  # a later free: the held ones reach glibc
