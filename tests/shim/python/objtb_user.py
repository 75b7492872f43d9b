# objtb_user.py - tracemalloc's "Get the traceback of a memory block"
# (Doc/library/tracemalloc.rst) through the import, for
# test_python_inproc.sh, with objects of several kinds (a GC object with a
# managed dict from 3.11 on, a set (no free list: lists and dicts may
# come from one, allocated before start()), a bytes, a bytearray).
import importlib
import sys

tm = importlib.import_module(sys.argv[1])
tm.start(25)


class Point:
    def __init__(self, x):
        self.x = x


def make():
    return [Point(1), {1, 2, 3}, b"x" * 100000, bytearray(5000)]  # MARK_OBJ


objs = make()
for o in objs:
    tb = tm.get_object_traceback(o)
    print(type(o).__name__, "\n".join(tb.format()[-4:]) if tb else None)
print("untraced", tm.get_object_traceback(sys))
