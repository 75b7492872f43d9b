# frees.py - Python's own frees and reallocs of its objects, under
# PYTHONMALLOC=malloc (for test_python_frees.sh): 60,000 short-lived lists
# and strs, and one bytearray grown 200 times by realloc, kept.
# argv[1]: the snapshot's path.
import ctypes
import sys

for i in range(20000):
    x = [str(i), str(i + 1)] * 3
grown = bytearray()
for i in range(200):
    grown += b"y" * 500
ctypes.CDLL(None).heapsnap_take_snapshot(sys.argv[1].encode())
