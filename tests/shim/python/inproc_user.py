# inproc_user.py - the same program under tracemalloc (argv 1 "tracemalloc")
# or heapsnap (argv 1 "heapsnap"): test_python_inproc.sh compares what each
# prints.  One trace per live block; cumulative statistics counting a line
# once per frame it holds in a stack (a recursion puts one line in three).
import importlib
import sys

tm = importlib.import_module(sys.argv[1])
tm.start(10)
blocks = [bytearray(4000) for _ in range(300)]  # MARK_BLOCKS


def rec(n):
    return rec(n - 1) if n else [bytearray(5000) for _ in range(40)]  # MARK_REC


deep = rec(2)
snap = tm.take_snapshot()
mine = [t for t in snap.traces if t.traceback[-1].filename == __file__]
# a bytearray's buffer: 4001 bytes; from 3.15 on a bytes object's block
size = 4001 if sys.version_info < (3, 15) else sys.getsizeof(bytes(4000))
big = [t for t in mine if t.size == size]
print("blocks of the bytearrays:", len(big), "one block each:",
      all(getattr(t, "count", 1) == 1 for t in big))
for stat in snap.statistics("lineno", cumulative=True):
    if stat.traceback[0].filename == __file__ and stat.size > 100000:
        print("cumulative %s: %d KiB, count %d" % (stat.traceback[0].lineno,
                                                   stat.size // 1024, stat.count))
