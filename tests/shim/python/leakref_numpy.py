# leakref_numpy.py - for test_python_clean_numpy.sh: references leaked
# next to numpy's known ones, which heapsnap's built-in suppression of
# logaddexp's and logaddexp2's -inf identities (4 references over, numpy
# 1.25 on) must not hide: tests/shim/python/leakref.c makes a -inf float
# and leaks 4 references to each of 40 floats (the same type and count,
# made elsewhere; a list holds them, as logaddexp's ufunc holds its
# identity, so that their counts read as numpy's do: refcount 5, 1
# reference found, but where a stale word is taken for one more
# reference), and leaks two more to logaddexp's own identity (6 over; two,
# so that a stale word read as its reference leaves it over all the same:
# one was hidden so where a package's .pth ran imports at start-up).
# argv: the extension's directory.
import sys

sys.path.insert(0, sys.argv[1])
import numpy as np  # noqa: E402

import leakref  # noqa: E402

held = None


def run():
    global held
    held = [None] * 40  # its size once: a grown list's old arrays hold stale pointers
    for i in range(40):
        held[i] = leakref.leaked_float(-1.0 - i, 4)  # MARK_FLOAT
    leakref.incref(np.logaddexp.identity, 2)  # MARK_IDENTITY


# A frame of many locals over the slots run's frame left (a stale pointer
# there would count as a reference: the scan is conservative), as
# leakref_user.py does.
exec("def scrub():\n    " + "; ".join("v%d = 0" % i for i in range(300)) + "\n")

run()
scrub()  # noqa: F821
assert np.logaddexp2(1.0, 1.0) == 2.0
