# leakref_ignored.py - for test_python_leakref.sh: 5 references leaked
# from Python (ctypes' Py_IncRef), to objects each call of leak() makes
# in a local and drops; the blocks of 2 of them the program asks the
# leak check to ignore (heapsnap_ignore, the shim's API, found in the
# process as LD_PRELOAD put it there).  The leaked references' scan runs
# while the check's fork does, before the check's classes are known: the
# ignored ones must still be left out, and the other 3 reported.
import ctypes

ignore = ctypes.CDLL(None).heapsnap_ignore
ignore.argtypes = [ctypes.c_void_p]


class Planted:
    pass


def leak():
    t = Planted()  # MARK_PLANTED
    ctypes.pythonapi.Py_IncRef(ctypes.py_object(t))


def leak_ignored():
    t = Planted()  # MARK_IGNORED
    ctypes.pythonapi.Py_IncRef(ctypes.py_object(t))
    if ignore(id(t)) != 0:
        raise SystemExit("heapsnap_ignore refused the block")


for _ in range(2):
    leak_ignored()
for _ in range(3):
    leak()
s = "x" * 1000  # a live str, no leak
