"""graph_peak.py - N live objects (N/2 instances each holding a list of
one int), then one snapshot with the objects' graph; prints how much the
process's peak RSS grew in it, in KiB (ru_maxrss after less before).
The heap of test_python_graph_peak and test_python_graph_reads.
usage: graph_peak.py SNAPSHOT N"""
import ctypes
import gc
import resource
import sys


class Node:
    def __init__(self, i):
        self.items = [i]


keep = [Node(i) for i in range(int(sys.argv[2]) // 2)]
gc.collect()
lib = ctypes.CDLL(None)
lib.heapsnap_take_snapshot.argtypes = [ctypes.c_char_p]
before = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
rc = lib.heapsnap_take_snapshot(sys.argv[1].encode())
print(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss - before)
sys.exit(rc)
