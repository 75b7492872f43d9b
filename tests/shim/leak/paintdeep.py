"""paintdeep.py - paintdeep.c's rounds in a process that runs Python
(test_leak_leftovers): LIB's pd_run called through ctypes on this thread
(Python's frames under each malloc) and on a native thread of its own (no
Python frame), each from STACKS stacks; then on this thread from 16
stacks, whose walks the unwinder's memo names and whose Python frames the
thread's recent splices find (pyfr_again's path, above the frames' array);
then on this thread by libc's strdup (wrapped: a caller in libc).
Usage: paintdeep.py LIB N STACKS; prints "python stray A B deepest D",
"native ...", "repeat ..." and "wrapped stray A B deepest D"."""
import ctypes, sys
lib = ctypes.CDLL(sys.argv[1])
for kind, native, stacks in (("python", 0, int(sys.argv[3])), ("native", 1, int(sys.argv[3])),
                             ("repeat", 0, 16), ("wrapped", 2, int(sys.argv[3]))):
    out = (ctypes.c_ulong * 3)()
    if lib.pd_run(ctypes.c_long(int(sys.argv[2])), ctypes.c_ulong(stacks), native, out) != 0:
        sys.exit(1)
    print("%s stray %d %d deepest %d" % (kind, out[0], out[1], out[2]))
