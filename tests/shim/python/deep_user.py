# deep_user.py - a Python stack 200 frames deep for test_python_trim.sh:
# every level calls the next through C (the interpreter's map, or, at 4
# of the innermost levels, the pyext extension's call), so interpreter
# frames stand between each two Python frames.  argv: the extension's
# directory, a snapshot path.
import ctypes
import sys

sys.path.insert(0, sys.argv[1])
import pyext  # noqa: E402

sys.setrecursionlimit(10000)
held = []


def rec(n):
    if n == 0:
        held.append(bytearray(100003))  # MARK_DEEP_ALLOC
        pyext.keep(70003)  # MARK_DEEP_EXT
        return 0
    if n in (4, 8, 12, 16):
        return pyext.call(rec, n - 1)  # MARK_DEEP_CALL
    return list(map(rec, [n - 1]))[0]  # MARK_DEEP_MAP


rec(200)  # MARK_DEEP_MODULE
ctypes.CDLL(None).heapsnap_take_snapshot(sys.argv[2].encode())
