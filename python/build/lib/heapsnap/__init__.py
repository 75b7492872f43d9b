"""heapsnap - tracemalloc-shaped access to the heapsnap shim.

The shim (libheapsnap.so, preloaded by `heapsnap run` or LD_PRELOAD) records
every allocation of the process, Python objects and C extensions' mallocs
alike; this module calls its C API (shim/heapsnap.h) through ctypes.  When
the shim is not loaded, each function is a no-op with a clear result.
"""

import ctypes
import os

__all__ = ["is_loaded", "is_tracing", "take_snapshot", "get_traced_memory",
           "reset_peak", "clear_traces", "collect", "get_tracemalloc_memory"]


def _shim():
    """The shim's functions, found in the process (None when not loaded)."""
    try:
        lib = ctypes.CDLL(None)
        lib.heapsnap_is_tracing
    except (OSError, AttributeError):
        return None
    lib.heapsnap_take_snapshot.argtypes = [ctypes.c_char_p]
    lib.heapsnap_take_snapshot.restype = ctypes.c_int
    lib.heapsnap_get_traced_memory.argtypes = [ctypes.POINTER(ctypes.c_size_t),
                                               ctypes.POINTER(ctypes.c_size_t)]
    lib.heapsnap_get_traced_memory.restype = None
    lib.heapsnap_reset_peak.argtypes = []
    lib.heapsnap_reset_peak.restype = None
    lib.heapsnap_clear_traces.argtypes = []
    lib.heapsnap_clear_traces.restype = None
    lib.heapsnap_is_tracing.argtypes = []
    lib.heapsnap_is_tracing.restype = ctypes.c_int
    lib.heapsnap_collect.argtypes = [ctypes.c_char_p]
    lib.heapsnap_collect.restype = ctypes.c_long
    lib.heapsnap_get_tracemalloc_memory.argtypes = []
    lib.heapsnap_get_tracemalloc_memory.restype = ctypes.c_size_t
    return lib


_lib = _shim()


def is_loaded():
    """True when the shim is in this process."""
    return _lib is not None


def is_tracing():
    """True while the shim records allocations (tracemalloc.is_tracing)."""
    return bool(_lib and _lib.heapsnap_is_tracing())


def _path(path):
    return None if path is None else os.fsencode(path)


def take_snapshot(path=None):
    """Writes a snapshot to path (HEAPSNAP_OUTPUT's next name when None).
    True when written; False when it could not be, or without the shim."""
    return bool(_lib) and _lib.heapsnap_take_snapshot(_path(path)) == 0


def get_traced_memory():
    """(current, peak) traced bytes, as tracemalloc.get_traced_memory;
    (0, 0) without the shim."""
    if not _lib:
        return (0, 0)
    cur, peak = ctypes.c_size_t(), ctypes.c_size_t()
    _lib.heapsnap_get_traced_memory(ctypes.byref(cur), ctypes.byref(peak))
    return (cur.value, peak.value)


def reset_peak():
    """The peak restarts from the current size (tracemalloc.reset_peak)."""
    if _lib:
        _lib.heapsnap_reset_peak()


def clear_traces():
    """Forgets every traced block (tracemalloc.clear_traces)."""
    if _lib:
        _lib.heapsnap_clear_traces()


def get_tracemalloc_memory():
    """Bytes the shim itself uses; 0 without it."""
    return _lib.heapsnap_get_tracemalloc_memory() if _lib else 0


def collect(path=None):
    """The leak check now (like gc.collect()): the number of unreachable
    blocks, writing a snapshot with its results to path when given.  None
    without the shim, or when the check failed."""
    if not _lib:
        return None
    n = _lib.heapsnap_collect(_path(path))
    return None if n < 0 else n
