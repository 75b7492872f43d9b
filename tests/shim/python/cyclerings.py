# cyclerings.py - one ring of cyclic garbage of each kind, each made once
# by a function that returns (no loop, no drain of the free lists first),
# for test_python_cycle_rings.sh: instances with a __dict__ (3 and 1),
# instances with __slots__, lists, dicts, a closure (function, cell and
# the closure's tuple), a bound method stored on its own instance, a
# tuple holding a list that holds it, and a class (its __mro__ holds it).  The collector is off; a snapshot
# (argv[1]), then the collector itself says what it frees, by type
# (gc.DEBUG_SAVEALL keeps it in gc.garbage): "TYPE COUNT" lines, the type
# named as `top --key type` names it, and "total N", gc.collect()'s count.
import collections
import ctypes
import gc
import sys

lib = ctypes.CDLL(None)  # made before: its own cycles are not this garbage
lib.heapsnap_take_snapshot.argtypes = [ctypes.c_char_p]
gc.collect()
gc.disable()


class RingInst:
    pass


class RingSlot:
    __slots__ = ("nxt",)


class RingMeth:
    def meth(self):
        pass


def ring_inst(n):
    objs = [RingInst() for _ in range(n)]
    for i in range(n):
        objs[i].nxt = objs[(i + 1) % n]


def ring_slots(n):
    objs = [RingSlot() for _ in range(n)]
    for i in range(n):
        objs[i].nxt = objs[(i + 1) % n]


def ring_lists(n):
    objs = [[] for _ in range(n)]
    for i in range(n):
        objs[i].append(objs[(i + 1) % n])


def ring_dicts(n):
    objs = [{} for _ in range(n)]
    for i in range(n):
        objs[i]["next"] = objs[(i + 1) % n]


def ring_closure():
    def inner():
        return inner
    return None


def ring_bound():
    m = RingMeth()
    m.again = m.meth


def ring_class():
    class RingClass:
        pass
    return None


def ring_tuple():
    held = []
    held.append((held,))


ring_inst(3)
ring_inst(1)
ring_slots(4)
ring_dicts(2)
ring_closure()
ring_bound()
ring_tuple()
ring_class()
ring_lists(3)  # last: its objects' words still in the eval loop's C frame
lib.heapsnap_take_snapshot(sys.argv[1].encode())
gc.set_debug(gc.DEBUG_SAVEALL)
total = gc.collect()


def name(t):
    return t.__qualname__ if t.__module__ == "builtins" else t.__module__ + "." + t.__qualname__


for t, k in sorted(collections.Counter(name(type(o)) for o in gc.garbage).items()):
    print(t, k)
print("total", total)
