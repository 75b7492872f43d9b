# leakref_thread.py - for test_python_leakref.sh: a thread leaks 3
# references from Python (ctypes' Py_IncRef) to objects that each call of
# leak() makes in a local, then drops, and blocks on a lock (its GIL
# released, through C calls only: no frame pushed over them) while
# the main thread ends: the returned frames' slots are left behind above
# the thread's data stack top (3.11 on), no scrub after (but of its C
# stack's words, by deep C calls: the blocked wait's live frames have
# unwritten slots above its stack pointer, which the C stack's scan
# reads; 2 of 3 on 3.11 and 3.13 without it).  The exit snapshot is taken by the main thread: another
# thread's stale slot must not hide a leak either: all 3 are reported.
import ctypes
import threading


class Planted:
    pass


def leak():
    t = Planted()  # MARK_PLANTED
    ctypes.pythonapi.Py_IncRef(ctypes.py_object(t))


NESTED = []
for _ in range(300):
    NESTED = [NESTED]


def worker(ready, done):
    for _ in range(3):
        leak()
    repr(NESTED)  # deep C calls, no Python frame: the C stack's dead words scrubbed
    ready.release()  # C calls: no frame over the slots leak() left
    done.acquire()


ready, done = threading.Lock(), threading.Lock()
ready.acquire()
done.acquire()
threading.Thread(target=worker, args=(ready, done), daemon=True).start()
ready.acquire()
s = "x" * 1000  # a live str, no leak
