# heldout.py - holders a program did not write for heapsnap's tests, for
# test_python_retention.sh: a cache dict in a class attribute
# (Service._cache), a memoizing decorator's dict in a closure cell, a
# default argument (handler's _seen), and a bound method registered in
# another module's list of callbacks (heldout_hooks.CALLBACKS).  Each
# target is the one object of its class (HeldN); for each the program
# prints "HeldN PATH" (refpath.py: gc.get_referrers() step by step), then
# takes a snapshot (argv[1]).
import ctypes
import gc
import sys

import heldout_hooks
from refpath import path_of

lib = ctypes.CDLL(None)
lib.heapsnap_take_snapshot.argtypes = [ctypes.c_char_p]
# The interpreter hands out dead lists, dicts and tuples again, made before
# the shim's wrap (no block of heapsnap's): these take them.
_drain = [[] for _ in range(100)], [{} for _ in range(100)], \
    [(i,) for i in range(2100)], [(i, i) for i in range(2100)]


class Held1: pass
class Held2: pass
class Held3: pass


class Held4:
    def on_event(self, event):
        return event


class Service:
    _cache = {}

    @classmethod
    def lookup(cls, key):
        r = cls._cache.get(key)
        if r is None:
            r = cls._cache[key] = Held1()
        return r


def memoize(fn):
    cache = {}

    def wrapper(x):
        if x not in cache:
            cache[x] = fn(x)
        return cache[x]
    return wrapper


@memoize
def load(name):
    return Held2()


def handler(event, _seen=Held3()):
    return _seen


def main():
    Service.lookup("user1")
    load("a")
    heldout_hooks.register(Held4().on_event)
    targets = sorted((o for o in gc.get_objects() if type(o).__name__.startswith("Held")
                      and type(o).__module__ == "__main__"), key=lambda o: type(o).__name__)
    for i in range(len(targets)):
        print(type(targets[i]).__name__, path_of(targets[i], [], [targets]))
    del targets[:]
    sys.stdout.flush()
    lib.heapsnap_take_snapshot(sys.argv[1].encode())


main()
