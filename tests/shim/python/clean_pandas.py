# clean_pandas.py - a clean program for test_python_clean_programs.sh
# (Debian's python3 with python3-pandas): two DataFrames, a groupby sum
# and a merge.  With "plant" (argv[1]) it also drops a pair of Planted
# objects that point to each other, with the collector off (a cycle only
# the collector frees, at its marked line), and a 4000-byte malloc
# whose address it never keeps (a direct leak).
import sys

import pandas as pd

a = pd.DataFrame({"k": [i % 10 for i in range(1000)], "v": range(1000)})
b = pd.DataFrame({"k": range(10), "name": ["n%d" % i for i in range(10)]})
g = a.groupby("k")["v"].sum().reset_index()
m = g.merge(b, on="k")
assert len(m) == 10 and int(m["v"].sum()) == sum(range(1000)), m

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
