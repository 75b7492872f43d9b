# memo.py - allocations that share native stacks and Python lines in every
# way the recorder's memos could confuse (for test_python_memo.sh): many
# lines under one native stack, one line under several native stacks
# (called from C: map, sorted's key), recursion deeper than a kept splice,
# generators, and code objects that die and are born at the same address.
# argv[1]: the snapshot's path.
import ctypes
import gc
import sys

keep = []


def lines(i):
    keep.append(bytearray(101))
    keep.append(bytearray(102 + i % 3))
    if i % 2:
        keep.append(bytearray(103))
    return bytearray(104)


def deep(n):
    if n == 0:
        return bytearray(105)
    keep.append(bytearray(106))
    return deep(n - 1)


def gen(n):
    for i in range(n):
        yield bytearray(107 + i % 2)


for r in range(30):
    for i in range(5):
        keep.append(lines(i))
    keep.extend(map(lines, range(3)))
    keep.append(sorted(range(4), key=lambda k: len(lines(k))))
    keep.append(deep(r % 25))
    keep.extend(gen(3))
    src = "\n" * (r % 7) + "def f():\n    return bytearray(109)\n"
    ns = {}
    exec(compile(src, "memo_gen%d.py" % (r % 7), "exec"), ns)
    keep.append(ns["f"]())
    del ns
    gc.collect()
ctypes.CDLL(None).heapsnap_take_snapshot(sys.argv[1].encode())
