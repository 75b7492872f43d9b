# retention.py - objects held in the ways a Python program holds them, for
# test_python_retention.sh: a module global's list and dict, a class
# attribute, a closure's cell, an instance attribute (3.11 on: kept in the
# instance's values), nested containers, a local of a function running in
# another thread, an item of a list the interpreter's free list handed out
# (made before the shim's wrap), and a signal handler's closure (held by
# the interpreter's C state alone).  Each target is the one object of its
# class (CaseN).  For each, the program prints "CaseN PATH": the path from
# a root built from what gc.get_referrers() names at each step, written as
# heapsnap writes it (refpath.py); then it takes a snapshot (argv[1]) for
# the test.
import ctypes
import gc
import sys
import signal
import threading

from refpath import path_of

lib = ctypes.CDLL(None)
lib.heapsnap_take_snapshot.argtypes = [ctypes.c_char_p]


class Case9: pass


# before the drain: a list the free list hands out, made before the shim's
# wrap (no object of heapsnap's graph): its items are named through it
EARLY = [Case9()]
# The interpreter hands out dead lists, dicts and tuples again, made before
# the shim's wrap (no block of heapsnap's): these take them, so the
# containers below are new.
_drain = [[] for _ in range(100)], [{} for _ in range(100)], \
    [(i,) for i in range(2100)], [(i, i) for i in range(2100)]


class Case1: pass
class Case2: pass
class Case3: pass
class Case4: pass
class Case5: pass
class Case6: pass
class Case7: pass
class Case8: pass


class Holder:
    def __init__(self):
        self.payload = Case2()


class Config:
    target = Case3()


def make_getter():
    box = Case4()

    def get():
        return box
    return get


HOLD_LIST = [None, Case1()]
HOLDER = Holder()
GETTER = make_getter()
NESTED = {"a": [(1, Case6())]}
TABLE = {"k1": Case7()}
ready, stop = threading.Event(), threading.Event()


def make_handler():
    box = Case8()

    def handler(signum, frame):
        return box
    return handler


# held by the interpreter's own state alone: a signal's handler (C's table)
signal.signal(signal.SIGUSR1, make_handler())


def worker():
    rows = [Case5()]
    ready.set()
    stop.wait()  # MARK_WAIT
    return rows


def main():
    t = threading.Thread(target=worker, daemon=True)
    t.start()
    ready.wait()
    frames, f = [], sys._current_frames()[t.ident]
    while f:  # the worker's frames, innermost (Event.wait's) first
        frames.append(f)
        f = f.f_back
    targets = sorted((o for o in gc.get_objects() if type(o).__name__.startswith("Case")),
                     key=lambda o: type(o).__name__)
    for i in range(len(targets)):
        print(type(targets[i]).__name__, path_of(targets[i], frames, [targets, frames]))
    del targets[:], frames[:]
    sys.stdout.flush()
    lib.heapsnap_take_snapshot(sys.argv[1].encode())
    stop.set()
    t.join()


main()
