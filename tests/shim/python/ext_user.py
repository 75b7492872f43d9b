# ext_user.py - calls pyext (tests/shim/python/pyext.c) and libc through ctypes,
# for test_python_ext.sh.  argv: the extension's directory, a snapshot path.
import ctypes
import sys
import threading

sys.path.insert(0, sys.argv[1])
import pyext  # noqa: E402

libc = ctypes.CDLL(None)
libc.malloc.restype = ctypes.c_void_p
libc.malloc.argtypes = [ctypes.c_size_t]
held = []


def deep(n):
    if n:
        return deep(n - 1)
    pyext.leak(300001)  # MARK_PY_LEAK


def leaker():
    for i in range(3):
        deep(20)


def keeper():
    for i in range(5):
        pyext.keep(70001)  # MARK_PY_KEEP


def through_ctypes():
    for i in range(4):
        held.append(libc.malloc(90001))  # MARK_PY_CTYPES


def worker():
    for i in range(200):
        held.append(bytearray(5001))  # MARK_PY_THREAD
    for i in range(6):
        pyext.nogil(110001)  # MARK_PY_NOGIL


leaker()
keeper()
through_ctypes()
threads = [threading.Thread(target=worker) for i in range(4)]
for t in threads:
    t.start()
for t in threads:
    t.join()
if len(sys.argv) > 2:
    libc.heapsnap_take_snapshot(sys.argv[2].encode())
