"""graph_reads.py - N live objects (N/2 instances each holding a list of
one int), then one snapshot with the objects' graph.
usage: graph_reads.py SNAPSHOT N"""
import ctypes
import gc
import sys


class Node:
    def __init__(self, i):
        self.items = [i]


keep = [Node(i) for i in range(int(sys.argv[2]) // 2)]
gc.collect()
lib = ctypes.CDLL(None)
lib.heapsnap_take_snapshot.argtypes = [ctypes.c_char_p]
sys.exit(lib.heapsnap_take_snapshot(sys.argv[1].encode()))
