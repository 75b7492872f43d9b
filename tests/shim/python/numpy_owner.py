# numpy_owner.py - numpy arrays and the blocks they own, for
# test_python_numpy_owner.sh: 10 arrays of 100000 float64 (each owns its
# 800000-byte buffer), 10 views of them made where 10 freed arrays' objects
# were (so a view's object may come before its base's in address order: a
# view owns no buffer, NPY_ARRAY_OWNDATA clear), and an ndarray subclass's
# array of 50000.  Snapshot to argv[1]; prints the arrays' and the
# subclass's nbytes and whether the views own their data.
import ctypes
import sys

import numpy as np

lib = ctypes.CDLL(None)
lib.heapsnap_take_snapshot.argtypes = [ctypes.c_char_p]


class Arr(np.ndarray):
    pass


fill = [np.arange(1.0) for _ in range(10)]
arrs = [np.arange(100000.0) for _ in range(10)]  # MARK_ARRAYS
del fill
views = [a[:] for a in arrs]  # MARK_VIEWS
sub = Arr((50000,))  # MARK_SUB
lib.heapsnap_take_snapshot(sys.argv[1].encode())
print("arrays=%d sub=%d views_own=%d" % (sum(a.nbytes for a in arrs), sub.nbytes,
                                         sum(v.flags.owndata for v in views)))
