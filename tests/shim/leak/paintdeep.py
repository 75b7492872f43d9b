"""paintdeep.py - paintdeep.c's rounds in a process that runs Python
(test_leak_leftovers): LIB's pd_run called through ctypes on this thread
(Python's frames under each malloc) and on a native thread of its own (no
Python frame).  Usage: paintdeep.py LIB N STACKS; prints "python stray A B
deepest D" and "native stray A B deepest D"."""
import ctypes, sys
lib = ctypes.CDLL(sys.argv[1])
for native in (0, 1):
    out = (ctypes.c_ulong * 3)()
    if lib.pd_run(ctypes.c_long(int(sys.argv[2])), ctypes.c_ulong(int(sys.argv[3])), native, out) != 0:
        sys.exit(1)
    print("%s stray %d %d deepest %d" % ("native" if native else "python", out[0], out[1], out[2]))
