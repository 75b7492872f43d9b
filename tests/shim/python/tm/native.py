# native.py - memory tracemalloc cannot see: a C library's malloc (ctypes).
# heapsnap charges it to the Python line that called it.
import ctypes

import heapsnap as tracemalloc

libc = ctypes.CDLL(None)
libc.malloc.restype = ctypes.c_void_p
libc.malloc.argtypes = [ctypes.c_size_t]
tracemalloc.start()
kept = [libc.malloc(1 << 20) for _ in range(6)]  # MARK_NATIVE
snapshot = tracemalloc.take_snapshot()
print(snapshot.statistics("lineno")[0])
# Since start(): none of the interpreter's start-up memory (the import
# system's "<frozen ...>" rows of a whole-run snapshot).
print("start-up rows", sum(1 for s in snapshot.statistics("filename")
                           if s.traceback[0].filename.startswith("<frozen")))
