# retention.py - objects held in the ways a Python program holds them, for
# test_python_retention.sh: a module global's list and dict, a class
# attribute, a closure's cell, an instance attribute (3.11 on: kept in the
# instance's values), nested containers, a local of a function running in
# another thread, an item of a list the interpreter's free list handed out
# (made before the shim's wrap), and a signal handler's closure (held by
# the interpreter's C state alone).  Each target is the one object of its
# class (CaseN).  For each, the program prints "CaseN PATH": the path from
# a root built from what gc.get_referrers() names at each step, written as
# heapsnap writes it; then it takes a snapshot (argv[1]) for the test.
import ctypes
import gc
import sys
import signal
import threading

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


def type_name(o):
    t = type(o)
    return t.__qualname__ if t.__module__ == "builtins" else t.__module__ + "." + t.__qualname__


def referrers(o, skip):
    out = []
    for r in gc.get_referrers(o):
        if type(r).__name__ != "frame" and not any(r is s for s in skip):
            out.append(r)
    return out


def find(items, o):
    """The key or index of o in items (pairs); explicit loops: a
    comprehension naming o would make o a closure's cell (3.10, 3.11),
    one more referrer."""
    for k, v in items:
        if v is o:
            return k
    raise AssertionError("not there")


def path_of(o, frames, skip):
    """The path to o from a root, one gc.get_referrers() step at a time."""
    tn = type_name(o)
    skip = skip + [sys._getframe()]
    for f in frames:  # a running frame's local
        for k, v in f.f_locals.items():
            if v is o:
                return "frame %s:%d in %s, local %s (%s)" % (
                    f.f_code.co_filename, f.f_lineno, f.f_code.co_name, k, tn)
    refs = referrers(o, skip)
    if not refs and signal.getsignal(signal.SIGUSR1) is o:  # no object names it: C's
        return "the interpreter's own state (%s)" % tn
    if isinstance(o, type):  # a class: its module's global (not its mro, descriptors)
        refs = [r for r in refs if isinstance(r, dict)]
    assert len(refs) == 1, (tn, [type(r) for r in refs])
    r = refs[0]
    for name, m in list(sys.modules.items()):
        if getattr(m, "__dict__", None) is r:
            return "module %s, global %s (%s)" % (name, find(r.items(), o), tn)
    skip = skip + [refs]
    if isinstance(r, (list, tuple)):
        return "%s -> [%d] (%s)" % (path_of(r, frames, skip), find(enumerate(r), o), tn)
    if isinstance(r, dict):
        k = find(r.items(), o)
        owners = referrers(r, skip)
        if len(owners) == 1 and isinstance(owners[0], type):  # a class's __dict__
            c = owners[0]
            return "%s -> %s.%s (%s)" % (path_of(c, frames, skip + [owners]), c.__qualname__,
                                         k, tn)
        if len(owners) == 1 and getattr(owners[0], "__dict__", None) is r:  # 3.10's
            inst = owners[0]
            return "%s -> %s.%s (%s)" % (path_of(inst, frames, skip + [owners]),
                                         type(inst).__name__, k, tn)
        return "%s -> ['%s'] (%s)" % (path_of(r, frames, skip), k, tn)
    if type(r).__name__ == "cell":
        return "%s -> cell.cell_contents (%s)" % (path_of(r, frames, skip), tn)
    if type(r).__name__ == "function" and r.__closure__ is o:
        return "%s -> function.__closure__ (%s)" % (path_of(r, frames, skip), tn)
    # an instance whose values (3.11 on) hold o: the names its __init__ sets
    for k in type(r).__init__.__code__.co_names:
        if getattr(r, k, None) is o:
            return "%s -> %s.%s (%s)" % (path_of(r, frames, skip), type(r).__name__, k, tn)
    raise AssertionError("no step for %s held by %s" % (tn, type(r)))


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
