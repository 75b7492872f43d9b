# gcpairs.py - a known count for the collector's tests
# (test_python_gcfreed.sh, test_python_gcfreed_html.sh, through
# lib_gcfreed.sh): 300 pairs of objects that point at each other, made at
# the line marked PAIR, dropped and collected: 600 objects freed by the
# collector there.  With argv[1] (a FIFO), it then writes "1" to it and
# waits for a signal, for a test that kills it.
import gc
import signal
import sys


class Node:
    __slots__ = ("other",)


for i in range(300):
    a, b = Node(), Node()  # PAIR
    a.other, b.other = b, a
del a, b
gc.collect()
if len(sys.argv) > 1:
    with open(sys.argv[1], "w") as f:
        f.write("1")
    while True:
        signal.pause()
