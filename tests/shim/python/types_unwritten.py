"""types_unwritten.py - a heap whose blocks look like objects whose type
word points into code: N blocks from libc's malloc (ctypes), each 32
bytes holding a count of 1 then an address in libc's text, kept to the
exit, beside M instances of a class of the program's own (Marker).  The
heap of test_python_types_unwritten.
usage: types_unwritten.py N M"""
import ctypes
import sys

libc = ctypes.CDLL(None)
libc.malloc.restype = ctypes.c_void_p
libc.malloc.argtypes = [ctypes.c_size_t]
text = ctypes.cast(libc.malloc, ctypes.c_void_p).value & ~7  # in libc's text
kept = []
for i in range(int(sys.argv[1])):
    p = libc.malloc(32)
    words = (ctypes.c_uint64 * 4).from_address(p)
    words[0], words[1], words[2], words[3] = 1, text + 8 * i, 0, 0
    kept.append(p)


class Marker:
    pass


markers = [Marker() for _ in range(int(sys.argv[2]))]
print(len(kept), len(markers))
