# initconst_user.py DIR - imports tests/shim/python/initconst.c's module
# (built into DIR): its exec slot keeps a bytes and a code object with no
# pointer (the runtime's, not leaks), and three calls of leak() drop a
# bytes each (leaked references at run time: 3 direct leaks); keep()
# holds an InitconstHeld in a C global (its root: the module's static
# data); a daemon thread blocks in block_holding with an InitconstBlocked
# held by its C stack alone, until the process ends.  initsingle.c's
# single-phase module (built beside it) keeps a bytes with no pointer and
# a str counted once more than pointed to: the extension's own, neither.
# 1-tuples dropped just before the import fill the interpreter's free
# list, so initconst's nested constant takes one (its stack: this line;
# each slot cleared first: the list's freed array keeps no stale word).
import os
import sys
import threading
import time
sys.path.insert(0, sys.argv[1])


def names_deep(n):
    """initconst's exec slot calls it (3.11 on): at depth n, a 2-tuple
    freshly allocated (the free list drained, kept drained), dropped on
    return: the head of the list, its address left in dead slots of the
    data stack deeper than the rest of the program goes."""
    global names_drain
    if n:
        return names_deep(n - 1)
    names_drain = [(n, i) for i in range(2100)]
    t = (n, len(names_drain))  # MARK_NAMES
    return t is None


_ones = [(str(i),) for i in range(1900)]  # MARK_FREELIST
for _i in range(len(_ones)):  # no stale word left in the list's array
    _ones[_i] = None
del _ones
import initconst
import initsingle
names_drain = None
KEPT = "held by the module"
for _ in range(3):
    initconst.leak(KEPT)


class InitconstHeld:
    pass


initconst.keep(InitconstHeld())


class InitconstBlocked:
    pass


R, W = os.pipe()  # W stays open: the read blocks
threading.Thread(target=initconst.block_holding, args=(InitconstBlocked, R), daemon=True).start()
time.sleep(0.3)
