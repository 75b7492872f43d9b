# leakref_frames.py - for test_python_leakref.sh: 3 references leaked
# from Python (ctypes' Py_IncRef) to objects that each call of leak()
# makes in a local, then drops; the last frame's slots are left behind
# (the data stack from 3.11 on), no scrub after.  A stale slot must not
# hide a leak: all 3 are reported.
import ctypes


class Planted:
    pass


def leak():
    t = Planted()  # MARK_PLANTED
    ctypes.pythonapi.Py_IncRef(ctypes.py_object(t))


for _ in range(3):
    leak()
s = "x" * 1000  # a live str, no leak
