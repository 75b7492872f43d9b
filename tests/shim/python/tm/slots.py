# slots.py - __slots__ against __dict__ over 100,000 objects, measured
# with tracemalloc snapshots as users do.
import tracemalloc


class WithDict:
    def __init__(self, x, y):
        self.x = x
        self.y = y


class WithSlots:
    __slots__ = ("x", "y")

    def __init__(self, x, y):
        self.x = x
        self.y = y


tracemalloc.start()
s0 = tracemalloc.take_snapshot()
a = [WithDict(i, -i) for i in range(100000)]
s1 = tracemalloc.take_snapshot()
b = [WithSlots(i, -i) for i in range(100000)]
s2 = tracemalloc.take_snapshot()

print("__dict__:", s1.compare_to(s0, "lineno")[0])
print("__slots__:", s2.compare_to(s1, "lineno")[0])
print("file:", s2.compare_to(s1, "filename")[0])
