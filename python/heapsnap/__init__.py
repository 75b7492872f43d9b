"""heapsnap - tracemalloc's API over the heapsnap shim.

The shim (libheapsnap.so, preloaded by `heapsnap run` or LD_PRELOAD) records
every allocation of the process, Python objects and C extensions' mallocs
alike; this module calls its C API (shim/heapsnap.h) through ctypes,
builds tracemalloc's Snapshot from the shim's own tables in the process
(_inproc.py), and reads .hsnap files through the heapsnap CLI
(_hsnap.py), so that `import heapsnap as tracemalloc` runs tracemalloc
code.  In a process started without the shim (plain `python3 prog.py`),
start() loads it into the running interpreter first (load(): what `heapsnap
attach` does, by the process itself), so only what is allocated from
start() on is known, as with tracemalloc; when it cannot be loaded,
start() and take_snapshot() raise RuntimeError with the reason, and the
other functions are no-ops with a clear result.
"""

from . import _early

# `pytest -p heapsnap.pytest_plugin --heapsnap` from a source tree (no
# heapsnap-pytest.pth): pytest is imported already, so the shim is loaded
# into this process now (its late copy, as `heapsnap attach` loads it),
# before the rest of the package is imported; only if that fails is pytest
# run again under it, as the .pth does at the interpreter's start.
_early.maybe(here=True)

import atexit  # noqa: E402
import ctypes  # noqa: E402
import functools  # noqa: E402
import os  # noqa: E402
import sys  # noqa: E402

from . import _inproc, _retention, _snapshot  # noqa: E402

from ._snapshot import (BaseFilter, DomainFilter, Filter, Frame, Snapshot, Statistic,
                        StatisticDiff, Trace, Traceback)

__all__ = ["is_loaded", "load", "start", "stop", "is_tracing", "take_snapshot",
           "get_object_traceback",
           "write_snapshot", "get_traceback_limit", "get_traced_memory",
           "reset_peak", "clear_traces", "collect", "get_tracemalloc_memory",
           "new_epoch", "Snapshot", "Statistic", "StatisticDiff", "Trace",
           "Traceback", "Frame", "Filter", "DomainFilter", "BaseFilter"]


def _shim():
    """The shim's functions, found in the process (None when not loaded)."""
    try:
        lib = _early.loaded if _early.loaded is not None else ctypes.CDLL(None)  # load_here's
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
    try:
        lib.heapsnap_new_epoch.argtypes = []
        lib.heapsnap_new_epoch.restype = ctypes.c_uint
    except AttributeError:
        pass  # an older shim: snapshots cover the whole run
    lib.heapsnap_collect.argtypes = [ctypes.c_char_p]
    lib.heapsnap_collect.restype = ctypes.c_long
    lib.heapsnap_get_tracemalloc_memory.argtypes = []
    lib.heapsnap_get_tracemalloc_memory.restype = ctypes.c_size_t
    lib.heapsnap_has_dump = _inproc.declare(lib)
    try:
        lib.heapsnap_watch_start.argtypes = lib.heapsnap_watch_stop.argtypes = []
        lib.heapsnap_watch_start.restype = ctypes.c_uint
        lib.heapsnap_watch_stop.restype = None
        lib.heapsnap_watch_memory.argtypes = lib.heapsnap_get_traced_memory.argtypes
        lib.heapsnap_watch_memory.restype = None
        lib.heapsnap_has_watch = True
    except AttributeError:
        lib.heapsnap_has_watch = False  # an older shim: get_traced_memory approximates
    try:
        lib.heapsnap_stop.argtypes = lib.heapsnap_start.argtypes = []
        lib.heapsnap_stop.restype = lib.heapsnap_start.restype = None
        lib.heapsnap_has_stop = True
    except AttributeError:
        lib.heapsnap_has_stop = False
    try:  # the CPython the shim found and does not read (an older shim: not said)
        lib.heapsnap_python_unread.argtypes = []
        lib.heapsnap_python_unread.restype = ctypes.c_char_p
        lib.heapsnap_has_unread = True
    except AttributeError:
        lib.heapsnap_has_unread = False
    try:  # start(nframe)'s limit kept as the shim records (an older shim: cut at the dump)
        lib.heapsnap_python_frames.argtypes = [ctypes.c_uint, ctypes.c_int]
        lib.heapsnap_python_frames.restype = None
        lib.heapsnap_has_frames = True
    except AttributeError:
        lib.heapsnap_has_frames = False
    return lib


_lib = _shim()


def is_loaded():
    """True when the shim is in this process."""
    return _lib is not None


_NOT_LOADED = ("heapsnap: the shim is not loaded in this process: run it under "
               "`heapsnap run --` or with LD_PRELOAD=/path/to/libheapsnap.so")
_NOT_FOUND = ("no libheapsnap.so found: set HEAPSNAP_SHIM, or put the heapsnap CLI "
              "on PATH")


def load():
    """Loads the shim into this running interpreter when it is not in it
    (start() does): its late copy, libheapsnap-attach.so beside the
    libheapsnap.so that $HEAPSNAP_SHIM names or the heapsnap CLI sits
    beside, as the pytest plugin does (_early.load_here: the GOT entries of
    the malloc family rewritten, CPython's domains wrapped at the first
    recorded allocation), recording stopped until start().  Blocks
    allocated before are unknown to it, as they are to tracemalloc.
    Without HEAPSNAP_OUTPUT the process then writes no exit snapshot (it
    stops recording at its Python exit: no file tracemalloc would not
    leave).  True when the shim is in the process (loaded before, or now);
    RuntimeError with the reason when it cannot be loaded."""
    why = _load_why()
    if why is not None:
        raise RuntimeError("%s (it could not be loaded into it: %s)" % (_NOT_LOADED, why))
    return True


def _load_why():
    """load(): None when the shim is in the process, or why it cannot be
    loaded into it."""
    global _lib
    if _lib is not None:
        return None
    shim = _early.shim_for_exec()
    why = _early.load_here(shim) if shim else _NOT_FOUND
    if why is None:
        _lib = _shim()
        why = None if _lib is not None else "its functions were not found"
    if why is not None:
        return why
    if _lib.heapsnap_has_stop:  # domains wrapped by load_here (_early._wrap_now)
        if "HEAPSNAP_OUTPUT" not in os.environ:
            atexit.register(_lib.heapsnap_stop)  # runs before the shim's exit snapshot
    return None

# start()'s state: tracing, Python frames kept, the birth epoch it began,
# the shim's traced bytes then.
_state = {"tracing": False, "nframe": 1, "epoch": None, "base": 0}

_OLD_PYTHON = ("heapsnap: Python frames need CPython 3.10 or later (this is %d.%d): "
               "the shim records this process with native frames only, so tracemalloc's "
               "API is refused; use `heapsnap run` and the CLI")


def new_epoch():
    """Starts a new birth epoch in the shim and returns it: the blocks
    allocated from now on carry it (heapsnap top --born-since N).  None
    without the shim (or with one too old to have it)."""
    if not _lib or not hasattr(_lib, "heapsnap_new_epoch"):
        return None
    return _lib.heapsnap_new_epoch()


def start(nframe=1, native=True):
    """tracemalloc.start(): snapshots taken from now on hold the blocks
    allocated since this call (not the interpreter's start-up memory), with
    at most nframe Python frames per traceback, as the shim now records
    them (its tables stay small); native=False (heapsnap's own) keeps no
    native frame under a Python one either: tracemalloc's footprint, but
    Trace.native and the CLI's reports then show Python frames alone.  The
    shim records again if stop() (or HEAPSNAP_PAUSED) stopped it, and
    get_traced_memory() counts from here.  Calling it again while tracing only changes nframe, as
    tracemalloc.  CPython older than 3.10 is refused (RuntimeError), and so
    is one the shim does not read (newer than it knows, free-threaded)."""
    if not isinstance(nframe, int) or isinstance(nframe, bool):
        raise TypeError("nframe must be an int, not %s" % type(nframe).__name__)
    if nframe < 1 or nframe > 65535:
        raise ValueError("the number of frames must be in range [1; 65535]")
    if sys.version_info < (3, 10):
        raise RuntimeError(_OLD_PYTHON % sys.version_info[:2])
    if _lib is None:  # no call else: 3.10 allocates a call's frame at its caller's line
        load()
    # a CPython the shim does not read (a version it has no layout for, a
    # free-threaded build) would answer from native frames: refused.  No
    # call here: 3.10 allocates a call's frame, charged to the caller's line
    if _lib.heapsnap_has_unread:
        why = _lib.heapsnap_python_unread()
        if why:
            raise RuntimeError("heapsnap: %s (docs/python.md, \"Versions\")"
                               % why.decode("utf-8", "replace"))
    if not _state["tracing"]:
        if _lib.heapsnap_has_stop:
            _lib.heapsnap_start()
        if _lib.heapsnap_has_watch:
            _state["epoch"] = _lib.heapsnap_watch_start()
        else:
            _state["epoch"] = new_epoch()
        _state["tracing"] = True
        _lib.heapsnap_reset_peak()
        _state["base"] = _totals()[0]
    _state["nframe"] = nframe
    if _lib.heapsnap_has_frames:  # the shim keeps no more frames than asked for
        _lib.heapsnap_python_frames(nframe, 1 if native else 0)


def stop():
    """tracemalloc.stop(): the shim stops recording (allocations pass
    unrecorded until start()) and snapshots can no longer be taken.  A
    process that ends stopped writes no exit snapshot."""
    if _lib and _lib.heapsnap_has_stop and _state["tracing"]:
        _lib.heapsnap_stop()
    if _lib and _lib.heapsnap_has_watch and _state["tracing"]:
        _lib.heapsnap_watch_stop()
    if _lib and _lib.heapsnap_has_frames:
        _lib.heapsnap_python_frames(0, 1)
    _state["tracing"] = False
    _state["epoch"] = None


def is_tracing():
    """True between start() and stop() while the shim records
    (tracemalloc.is_tracing)."""
    return bool(_state["tracing"] and _lib and _lib.heapsnap_is_tracing())


def get_traceback_limit():
    """The nframe of start() (tracemalloc.get_traceback_limit)."""
    return _state["nframe"]


def _path(path):
    return None if path is None else os.fsencode(path)


def write_snapshot(path=None):
    """Writes a heapsnap snapshot (.hsnap) to path (HEAPSNAP_OUTPUT's next
    name when None), for the CLI.  True when written; False when it could
    not be, or without the shim."""
    return bool(_lib) and _lib.heapsnap_take_snapshot(_path(path)) == 0


def _dump(what, since=0, block=None, nframe=None):
    """The shim's dump; block: an address (an int); nframe: Python frames
    kept per trace."""
    if not _lib.heapsnap_has_dump:
        raise RuntimeError("heapsnap: the shim loaded (%s) is older than this package: "
                           "it has no heapsnap_dump" % _snapshot.shim_path())
    return _inproc.Dump(_lib, what, since, block, nframe)


def take_snapshot(path=None):
    """tracemalloc.take_snapshot(): a Snapshot of the blocks allocated since
    start() and still live, Python objects and native memory alike, one
    trace per block, built in the process from the shim's tables.  With a
    path, a .hsnap is also written there for the CLI."""
    if not is_tracing():
        raise RuntimeError(_NOT_LOADED if not _lib else
                           "the tracemalloc module must be tracing memory "
                           "allocations to take a snapshot")
    if path is not None and _lib.heapsnap_take_snapshot(_path(path)) != 0:
        raise RuntimeError("heapsnap: the snapshot could not be written to %s" % path)
    with _inproc.unrecorded(_lib):
        mine = _own_frame(sys._getframe()) if sys.version_info < (3, 11) else None
        dump = _dump(_inproc.BLOCKS | _inproc.PYTHON_ONLY | _inproc.PLACES, _state["epoch"],
                     nframe=_state["nframe"])
        traces, tbs = _inproc.raw_traces(dump, _state["nframe"])
        dump.release()  # the items are in traces now
        if mine:
            traces.drop_one(*mine)
    # No closure here: on 3.10 a function's cells are made with its frame,
    # before its first line runs, at the caller's line, and the Snapshot
    # keeps them alive (tracemalloc's "Pretty top" printed "1 other").
    return _snapshot.Snapshot(traces, _state["nframe"], functools.partial(tbs.full, dump))


def _own_frame(frame):
    """3.10 allocates a Python function's frame object at its caller's line
    (and keeps it with its code once it returned), unless it reuses a freed
    one: take_snapshot's own frame, when its block was born since start(),
    as (trace id, size), to be left out as heapsnap's own; else None."""
    start = _object_starts(frame)[0]
    dump = _dump(_inproc.BLOCK, _state["epoch"], start)
    try:
        if len(dump.sizes) and start + dump.sizes[0] > id(frame):
            return (dump.traces[0], dump.sizes[0])
    finally:
        dump.release()
    return None


def _totals(watched=False):
    cur, peak = ctypes.c_size_t(), ctypes.c_size_t()
    get = _lib.heapsnap_watch_memory if watched else _lib.heapsnap_get_traced_memory
    get(ctypes.byref(cur), ctypes.byref(peak))
    return (cur.value, peak.value)


# Py_TPFLAGS_HAVE_GC, and (3.11 on) the flags of the pre-header CPython puts
# before such objects: the block starts that far before id(obj).
_TPFLAGS_GC = 1 << 14
_TPFLAGS_PREHEADER = (1 << 4) | ((1 << 3) if sys.version_info >= (3, 12) else 0)


def _object_starts(obj):
    flags = type(obj).__flags__
    pre = 16 if flags & _TPFLAGS_GC else 0
    if sys.version_info >= (3, 11) and flags & _TPFLAGS_PREHEADER:
        pre += 16
    return [id(obj) - pre] + [id(obj) - k for k in (0, 16, 32) if k != pre]


def get_object_traceback(obj):
    """tracemalloc.get_object_traceback(obj): the Traceback where obj was
    allocated (at most start()'s nframe frames), or None when it was not
    traced (allocated before start(), or while stopped)."""
    if not is_tracing():
        return None
    with _inproc.unrecorded(_lib):
        for start in _object_starts(obj):
            dump = _dump(_inproc.BLOCK | _inproc.PYTHON_ONLY | _inproc.PLACES,
                         _state["epoch"], start, _state["nframe"])
            if len(dump.sizes) and start + dump.sizes[0] > id(obj):
                traces, _ = _inproc.raw_traces(dump, _state["nframe"])
                dump.release()
                return _snapshot.Traceback(traces[0][2], traces[0][3]) if traces else None
    return None


def get_traced_memory():
    """(current, peak) traced bytes, as tracemalloc.get_traced_memory: while
    tracing, the bytes of the live blocks allocated since start() (frees of
    older blocks do not lower it) and the highest that sum reached since
    start() or reset_peak(), counted by the shim as the blocks are born and
    die (heapsnap_watch_memory); (0, 0) when not tracing, as tracemalloc
    after stop(), and without the shim.  With a shim older than
    heapsnap_watch_start, the shim's total over its value at start()."""
    if not _lib or not _state["tracing"]:
        return (0, 0)
    if _lib.heapsnap_has_watch:
        return _totals(watched=True)
    cur, peak = _totals()
    base = _state["base"]
    return (max(0, cur - base), max(0, peak - base, cur - base))


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


def load_ipython_extension(ipython):
    """`%load_ext heapsnap`: the %%heapsnap cell magic (_notebook.py)."""
    from . import _notebook
    _notebook.load(ipython)


def retention_path(obj):
    """Who keeps obj alive, asked in the process (gc.get_referrers): the
    path from a module's global as the CLI writes it ("module app, global
    CACHE (dict) -> ['k'] (list)"), or None when no module's global
    reaches it within a bounded walk."""
    return _retention.path_to(obj)
