# clean_numpy.py - a clean program for test_python_clean_programs.sh
# (an interpreter with numpy): arrays, a reduction, a matrix product and
# the ufuncs whose identity numpy 1.25 on keeps references to
# (logaddexp, logaddexp2: heapsnap's built-in suppression names them).
# With "plant" (argv[1]) it also drops a pair of Planted objects that
# point to each other, with the collector off (a cycle only the collector
# frees, at its marked line), and a 4000-byte malloc whose address it
# never keeps (a direct leak).
import sys

import numpy as np

a = np.arange(1000, dtype=np.float64).reshape(10, 100)
b = a @ a.T
s = np.logaddexp.reduce(np.log(a[1:].ravel())) + np.logaddexp2(1.0, 2.0)
assert b.shape == (10, 10) and float(a.sum()) == sum(range(1000)) and s > 0, (b.shape, s)
m = memoryview(np.ones(8))
m.release()

if sys.argv[1:] == ["plant"]:
    import ctypes
    import gc

    class Planted:
        pass

    gc.disable()
    a, b = Planted(), Planted()  # MARK_PLANTED
    a.other, b.other = b, a
    del a, b
    libc = ctypes.CDLL(None)
    libc.malloc.restype = None  # no Python object ever holds the address
    libc.malloc(4000)  # MARK_NATIVE
