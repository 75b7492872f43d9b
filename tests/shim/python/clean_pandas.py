# clean_pandas.py - a clean program for test_python_clean_programs.sh
# (an interpreter with pandas): two DataFrames, a groupby sum, a merge and
# two read_csv calls (pandas' TextReader keeps a bytes per call with a
# reference never released: heapsnap's built-in suppression names it).
# With "plant" (argv[1]) it also drops a pair of Planted objects that
# point to each other, with the collector off (a cycle only the collector
# frees, at its marked line), and a 4000-byte malloc whose address it
# never keeps (a direct leak).
import io
import sys

import pandas as pd

a = pd.DataFrame({"k": [i % 10 for i in range(1000)], "v": range(1000)})
b = pd.DataFrame({"k": range(10), "name": ["n%d" % i for i in range(10)]})
g = a.groupby("k")["v"].sum().reset_index()
m = g.merge(b, on="k")
assert len(m) == 10 and int(m["v"].sum()) == sum(range(1000)), m
for _ in range(2):
    c = pd.read_csv(io.StringIO("k,name\n1,a\n2,b\n3,c\n"))
    assert list(c["k"]) == [1, 2, 3], c

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
