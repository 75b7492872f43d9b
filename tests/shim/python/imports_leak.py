# imports_leak.py - a module that leaks at its top level, so that its loss
# record's stack runs through the import machinery, for
# test_python_html_folds_imports.sh (imported by imports.py).
import ctypes

libc = ctypes.CDLL(None)
libc.malloc.restype = ctypes.c_void_p
libc.malloc.argtypes = [ctypes.c_size_t]
libc.malloc(4096)  # MARK_LEAK
