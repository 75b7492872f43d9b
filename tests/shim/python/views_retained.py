# views_retained.py - for test_python_views_retained.sh: a module-level
# list of 6 memoryviews of bytes objects that only the views hold (each
# 100000 bytes, held through the view's managed buffer).  Snapshot to
# argv[1]; prints the bases' bytes (sys.getsizeof).
import ctypes
import sys

lib = ctypes.CDLL(None)
lib.heapsnap_take_snapshot.argtypes = [ctypes.c_char_p]
# Lists come from free lists that keep the line of their first life:
# drained, so the list below is new.
_drain = [[] for _ in range(200)]


def fill():
    out = []  # MARK_VIEWS: views whose bases only they hold
    for _ in range(6):
        base = bytes(100000)
        out.append(memoryview(base)[10:])
    return out


VIEWS = fill()
lib.heapsnap_take_snapshot(sys.argv[1].encode())
print(sum(sys.getsizeof(v.obj) for v in VIEWS))
