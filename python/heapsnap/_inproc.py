"""heapsnap._inproc - the shim's live blocks read in the process itself.

heapsnap_dump (shim/heapsnap.h) hands over the live blocks (or per-trace
sums), the frames of the traces they name, the Python frames' lines
already read from the line tables, and the names of the code objects
copied since the last dump; this module turns that into tracemalloc's raw
traces without the CLI or a file.  Code ids only grow and a code's record
never changes, so the names are kept here across dumps.  A native frame is
named by its module ("[libfoo.so]", from /proc/self/maps): symbols are the
CLI's business (write_snapshot, then `heapsnap top`).
"""

import array
import bisect
import ctypes
import os

# Python frame words (hsnap_format.h): the top 12 bits are the tag.
_PY_TAG = 0xfff
_CODE_SHIFT = 24
_CODE_MASK = 0x0fffffff

BLOCKS, LIVE, PEAK, BLOCK = 0, 1, 2, 3  # enum heapsnap_dump_what

_OWN_DIR = os.path.dirname(os.path.abspath(__file__)) + os.sep


class _Dump(ctypes.Structure):
    _fields_ = [("nitems", ctypes.c_uint64), ("sizes", ctypes.c_void_p),
                ("counts", ctypes.c_void_p), ("traces", ctypes.c_void_p),
                ("ntraces", ctypes.c_uint32), ("py_version", ctypes.c_uint32),
                ("trace_ids", ctypes.c_void_p), ("frame_at", ctypes.c_void_p),
                ("frames", ctypes.c_void_p), ("lines", ctypes.c_void_p),
                ("code_from", ctypes.c_uint32), ("code_to", ctypes.c_uint32),
                ("names", ctypes.c_void_p), ("names_len", ctypes.c_size_t)]


def declare(lib):
    """Declares heapsnap_dump's prototypes on lib; False when the shim is
    too old to have it."""
    try:
        lib.heapsnap_dump.argtypes = [ctypes.c_int, ctypes.c_uint, ctypes.c_void_p,
                                      ctypes.c_uint]
        lib.heapsnap_dump.restype = ctypes.POINTER(_Dump)
        lib.heapsnap_dump_free.argtypes = [ctypes.POINTER(_Dump)]
        lib.heapsnap_dump_free.restype = None
    except AttributeError:
        return False
    return True


def _array(code, addr, n):
    a = array.array(code)
    if n and addr:
        a.frombytes(ctypes.string_at(addr, n * a.itemsize))
    return a


# Code names by id, kept across dumps: (filename, qualname).
_codes = []


def _take_names(d):
    if d.code_from != len(_codes) or d.code_to <= d.code_from:
        return
    raw = ctypes.string_at(d.names, d.names_len) if d.names_len else b""
    at = 0
    for _ in range(d.code_to - d.code_from):
        fn_len = int.from_bytes(raw[at:at + 4], "little")
        qn_len = int.from_bytes(raw[at + 4:at + 8], "little")
        at += 8
        fn = raw[at:at + fn_len].decode("utf-8", "replace")
        qn = raw[at + fn_len:at + fn_len + qn_len].decode("utf-8", "replace")
        at += fn_len + qn_len
        _codes.append((fn, qn))


class _Modules:
    """The process's mapped files, to name a native frame by its module."""

    def __init__(self):
        self.starts, self.ends, self.names = [], [], []
        try:
            with open("/proc/self/maps") as maps:
                rows = []
                for line in maps:
                    parts = line.split(None, 5)
                    if len(parts) == 6 and parts[5].startswith("/"):
                        lo, hi = (int(x, 16) for x in parts[0].split("-"))
                        rows.append((lo, hi, os.path.basename(parts[5].strip())))
        except OSError:
            rows = []
        for lo, hi, name in sorted(rows):
            self.starts.append(lo)
            self.ends.append(hi)
            self.names.append(name)

    def name(self, ip):
        i = bisect.bisect_right(self.starts, ip - 1) - 1
        if i >= 0 and ip - 1 < self.ends[i]:
            return self.names[i]
        return "???"


class Dump:
    """One heapsnap_dump, copied out of the shim: items (size, count,
    trace id) and, per trace id, its stack."""

    def __init__(self, lib, what, since=0, block=None):
        p = lib.heapsnap_dump(what, since or 0, block, len(_codes))
        if not p:
            raise MemoryError("heapsnap: the shim could not dump its live blocks "
                              "(out of memory)")
        try:
            d = p.contents
            n = d.nitems
            self.sizes = _array("Q", d.sizes, n)
            self.counts = _array("Q", d.counts, n) if d.counts else None
            self.traces = _array("I", d.traces, n)
            ids = _array("I", d.trace_ids, d.ntraces)
            at = _array("I", d.frame_at, d.ntraces + 1 if d.ntraces else 0)
            nframes = at[-1] if len(at) else 0
            frames = _array("Q", d.frames, nframes)
            lines = _array("i", d.lines, nframes)
            _take_names(d)
        finally:
            lib.heapsnap_dump_free(p)
        self.stacks = {}
        for j, tid in enumerate(ids):
            self.stacks[tid] = (frames[at[j]:at[j + 1]], lines[at[j]:at[j + 1]])

    def items(self):
        """(size, count, trace id) per item."""
        counts = self.counts
        if counts is None:
            return ((s, 1, t) for s, t in zip(self.sizes, self.traces))
        return zip(self.sizes, counts, self.traces)


def _frame_of(word, line):
    code = (word >> _CODE_SHIFT) & _CODE_MASK
    name = _codes[code][0] if code < len(_codes) else "<unknown>"
    return (name, line)


class Tracebacks:
    """Trace ids turned into tracemalloc's raw tracebacks, memoized."""

    def __init__(self, nframe):
        self.nframe = nframe
        self.memo = {}
        self.modules = None

    def native_frame(self, ip):
        if self.modules is None:
            self.modules = _Modules()
        return ("[%s]" % self.modules.name(ip), 0)

    def get(self, dump, tid):
        """(frames most recent first, total_nframe, own): the Python
        frames (the native ones' modules when it has none), cut at nframe;
        own: heapsnap's own bookkeeping (a frame in this package)."""
        got = self.memo.get(tid)
        if got is not None:
            return got
        words, lines = dump.stacks.get(tid, ((), ()))
        py = [_frame_of(w, l) for w, l in zip(words, lines) if w >> 52 == _PY_TAG]
        own = any(f[0].startswith(_OWN_DIR) for f in py)
        if not py:
            py = [self.native_frame(w) for w in words] or [("<unknown>", 0)]
        total = len(py)
        if self.nframe is not None:
            py = py[:self.nframe]
        got = (tuple(py), total, own)
        self.memo[tid] = got
        return got

    def full(self, dump, tid):
        """Every frame, innermost first, as (function, file, line, module):
        a Python frame's qualified name, file and line ("<python>"), a
        native frame's address and module."""
        out = []
        words, lines = dump.stacks.get(tid, ((), ()))
        for w, l in zip(words, lines):
            if w >> 52 == _PY_TAG:
                code = (w >> _CODE_SHIFT) & _CODE_MASK
                fn, qn = _codes[code] if code < len(_codes) else ("<unknown>", "?")
                out.append((qn, fn, l, "<python>"))
            else:
                if self.modules is None:
                    self.modules = _Modules()
                out.append(("0x%x" % w, None, 0, self.modules.name(w)))
        return tuple(out)


def raw_traces(dump, nframe, per_block=True):
    """tracemalloc's raw traces from a dump: (domain, size, frames,
    total_nframe, count, trace id), one per item; heapsnap's own left
    out."""
    tbs = Tracebacks(nframe)
    out = []
    append = out.append
    get = tbs.get
    for size, count, tid in dump.items():
        frames, total, own = get(dump, tid)
        if not own:
            append((0, size, frames, total, count, tid))
    return out, tbs
