# clean_lrucache.py - a clean program for test_python_clean_programs.sh:
# functools.lru_cache on a function called many times (hits and misses,
# a bounded cache that evicts), its cache_info, an unbounded cache
# cleared.  With "plant" (argv[1]) it also drops a pair of Planted objects
# that point to each other, with the collector off (a cycle only the
# collector frees, at its marked line), and a 4000-byte malloc
# whose address it never keeps (a direct leak).
import functools
import sys


@functools.lru_cache(maxsize=64)
def fib(n):
    return n if n < 2 else fib(n - 1) + fib(n - 2)


@functools.lru_cache(maxsize=None)
def square(x):
    return x * x


for i in range(2000):
    fib(i % 150)
    square(i % 300)
info = fib.cache_info()
assert info.hits > 0 and info.misses > 0 and info.currsize == 64, info
assert square.cache_info().currsize == 300
square.cache_clear()

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
