# deep_churn.py - allocations 60 Python frames deep after the frames under
# them changed (for test_python_deep_churn.sh): the same frames popped and
# pushed again at the same addresses with an outer caller moved on (the
# stale stack a memo of the Python frames could give), recursion up and
# down, a generator resumed under other callers, an exception unwound 30
# frames, and threads allocating at once at depth 60.  Each site's block is
# a bytes object of a size of its own, keyed by its sys.getsizeof, which is
# the block's size on every version (a bytearray's is not: from 3.15 on its
# buffer is a bytes object, 32 bytes more); the stack that made it is
# recorded on the same line from sys._getframe (the interpreter's own
# answer), and written as JSON {"size": [[file, line], ...innermost first]}
# for the checker.
# argv: the snapshot's path, the JSON's path.
import ctypes
import json
import sys
import threading

sys.setrecursionlimit(10000)
sys.setswitchinterval(1e-6)  # threads switch between allocations
keep = []
want = {}
lock = threading.Lock()


def stack(f):
    out = []
    while f is not None:
        out.append([f.f_code.co_filename, f.f_lineno])
        f = f.f_back
    return out


def site(size):
    keep.append(b := bytes(size)); st = stack(sys._getframe())  # noqa: E702
    with lock:  # a bytes object is one block of sys.getsizeof bytes
        if want.setdefault(sys.getsizeof(b), st) != st:
            raise SystemExit("deep_churn: size %d made at two stacks" % size)


def down(n, fn, *a):
    if n > 0:
        return down(n - 1, fn, *a)
    return fn(*a)


def pair(a, b):
    site(a)  # the same frame for site both times, pair moved on
    site(b)


def twice(a, b):
    pair(a, a + 8)  # pair and site pushed again at the same addresses,
    pair(b, b + 8)  # only this frame's line differs


def up_down(base):
    for i in range(20):
        down(60, twice, base, base + 16)
        down(40, site, base + 32)
        down(59, twice, base + 48, base + 64)


def gen(base):
    for i in range(3):
        yield site(base + 8 * i)


def resume(g):
    return next(g)


def generators(base):
    for r in range(10):
        g = gen(base + 32 * r)
        down(30, resume, g)
        down(60, resume, g)
        down(45, resume, g)


class Up(Exception):
    pass


def raise_at(size):
    site(size)
    raise Up


def caught(base):
    try:
        down(30, raise_at, base)
    except Up:
        site(base + 8)


def exceptions(base):
    for r in range(20):
        down(30, caught, base)
        down(31, site, base + 16)


def worker(base):
    for r in range(200):
        down(60, site, base)
        down(58, site, base + 8)


up_down(10000)
generators(20000)
exceptions(30000)
threads = [threading.Thread(target=down, args=(2, worker, 40000 + 100 * t)) for t in range(4)]
for t in threads:
    t.start()
for t in threads:
    t.join()
up_down(50000)  # after the threads: the main thread's memo still exact
with open(sys.argv[2], "w") as f:
    json.dump(want, f)
ctypes.CDLL(None).heapsnap_take_snapshot(sys.argv[1].encode())
