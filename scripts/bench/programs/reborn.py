# reborn.py - the worst case of a free list's objects born again
# (docs/python.md, Cost): every float and tuple a call makes comes back from
# the interpreter's free lists, left there by its caller's temporaries, so
# from 3.13 on each birth costs heapsnap a stack (shim/python/wrap/pyreborn.c).
#
# Usage: python3 reborn.py CALLS      prints "checksum reborn <float>", exits 0.
import sys


def f(k):
    return (k * 0.5, k + 0.25)


def run(n):
    acc = 0.0
    for i in range(n):
        a, b = f(i)
        acc += a * b
    return acc


print("checksum reborn %.6g" % run(int(sys.argv[1])))
