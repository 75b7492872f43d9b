# arenas.py - 200,000 small objects kept, which pymalloc puts in arenas it
# maps itself (1 MiB each from 3.10), and a 4 MiB anonymous mapping made by
# the mmap module (for test_python_mapped.sh).  argv[1]: the snapshot's path.
import ctypes
import mmap
import sys

keep = [object() for _ in range(200000)]
mapped = mmap.mmap(-1, 4 << 20)
ctypes.CDLL(None).heapsnap_take_snapshot(sys.argv[1].encode())
