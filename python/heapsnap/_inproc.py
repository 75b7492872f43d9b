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

from ._blocks import Blocks, drop_items

# Python frame words (hsnap_format.h): the top 12 bits are the tag.
_PY_TAG = 0xfff
_CODE_SHIFT = 24
_CODE_MASK = 0x0fffffff

BLOCKS, LIVE, PEAK, BLOCK = 0, 1, 2, 3  # enum heapsnap_dump_what
PYTHON_ONLY = 0x100
PLACES = 0x200  # an item's trace is its place in the dump's ids

_OWN_DIR = os.path.dirname(os.path.abspath(__file__)) + os.sep


class _Dump(ctypes.Structure):
    _fields_ = [("nitems", ctypes.c_uint64), ("sizes", ctypes.c_void_p),
                ("counts", ctypes.c_void_p), ("traces", ctypes.c_void_p),
                ("ntraces", ctypes.c_uint32), ("py_version", ctypes.c_uint32),
                ("trace_ids", ctypes.c_void_p), ("frame_at", ctypes.c_void_p),
                ("frames", ctypes.c_void_p), ("lines", ctypes.c_void_p),
                ("py_at", ctypes.c_void_p), ("py_frames", ctypes.c_void_p),
                ("code_from", ctypes.c_uint32), ("code_to", ctypes.c_uint32),
                ("names", ctypes.c_void_p), ("names_len", ctypes.c_size_t),
                ("domains", ctypes.c_void_p), ("py_total", ctypes.c_void_p)]


def declare(lib):
    """Declares heapsnap_dump's prototypes on lib; False when the shim is
    too old to have it."""
    try:
        lib.heapsnap_dump.argtypes = [ctypes.c_int, ctypes.c_uint, ctypes.c_void_p,
                                      ctypes.c_uint]
        lib.heapsnap_dump.restype = ctypes.POINTER(_Dump)
        lib.heapsnap_dump_free.argtypes = [ctypes.POINTER(_Dump)]
        lib.heapsnap_dump_free.restype = None
        lib.heapsnap_thread_recording.argtypes = [ctypes.c_int]
        lib.heapsnap_thread_recording.restype = ctypes.c_int
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


class unrecorded:
    """This thread's allocations pass unrecorded inside the block (the
    package's own objects, as tracemalloc does not trace its own)."""

    def __init__(self, lib):
        self.lib = lib

    def __enter__(self):
        self.was = self.lib.heapsnap_thread_recording(0)

    def __exit__(self, *exc):
        if self.was:
            self.lib.heapsnap_thread_recording(1)


def _copy(code, view):
    """An array of the items of view (a _view), copied at C speed."""
    a = array.array(code)
    a.frombytes(view.cast("B") if len(view) else b"")
    return a


def _view(code, addr, n):
    """The n items at addr in the shim's memory, without a copy (valid until
    the dump is freed)."""
    if not n or not addr:
        return array.array(code)
    size = array.array(code).itemsize
    return memoryview((ctypes.c_ubyte * (n * size)).from_address(addr)).cast("B").cast(code)


class Dump:
    """One heapsnap_dump: items (size, count, trace id, domain) and, per
    trace id, its stack.  The items and the Python frames are read in the
    shim's memory until release() (a snapshot's raw traces are made by
    then); the native stacks, which Trace.native reads later, are copied."""

    def __init__(self, lib, what, since=0, block=None, nframe=None):
        if nframe:
            what |= min(nframe, 0xffff) << 16  # HEAPSNAP_DUMP_PYTHON_FRAMES
        p = lib.heapsnap_dump(what, since or 0, block, len(_codes))
        if not p:
            raise MemoryError("heapsnap: the shim could not dump its live blocks "
                              "(out of memory)")
        self._lib, self._p = lib, p
        self.places = bool(what & PLACES)
        try:
            d = p.contents
            n = d.nitems
            self.sizes = _view("Q", d.sizes, n)
            self.counts = _view("Q", d.counts, n) if d.counts else None
            self.traces = _view("I", d.traces, n)
            # tracemalloc's domain per block (PyTraceMalloc_Track); None: all 0
            self.domains = _view("I", d.domains, n) if d.domains else None
            ids = _view("I", d.trace_ids, d.ntraces)
            nt = d.ntraces + 1 if d.ntraces else 0
            self.at = _array("I", d.frame_at, nt)
            nframes = self.at[-1] if nt else 0
            self.frames = _array("Q", d.frames, nframes)
            self.lines = _array("i", d.lines, nframes)
            self.py_at = _view("I", d.py_at, nt)
            self.py = _view("Q", d.py_frames, self.py_at[-1] if nt else 0)
            self.py_total = _view("I", d.py_total, d.ntraces) if d.py_total else None
            _take_names(d)
            # ascending (heapsnap.h): a trace's place by bisection, in 4
            # bytes a trace where a dict took about 100
            self.ids = array.array("I", ids)
        except BaseException:
            self.release()
            raise

    def release(self):
        """Frees the shim's copy: the items and Python frames go with it."""
        if self._p:
            self.sizes = self.counts = self.traces = self.domains = None
            self.py_at = self.py = self.py_total = None
            self._lib.heapsnap_dump_free(self._p)
            self._p = None

    def __del__(self):
        self.release()

    def place(self, tid):
        """Trace tid's place in the dump, or None."""
        j = bisect.bisect_left(self.ids, tid)
        return j if j < len(self.ids) and self.ids[j] == tid else None

    def stack(self, tid):
        """(frame words, lines) of trace tid, innermost first."""
        j = self.place(tid)
        if j is None:
            return ((), ())
        lo, hi = self.at[j], self.at[j + 1]
        return self.frames[lo:hi], self.lines[lo:hi]

    def python(self, tid, limit=None):
        """(Python frames as (code id << 32 | line), innermost first, at most
        limit of them; how many the trace has)."""
        j = self.place(tid)
        if j is None:
            return (), 0
        lo, hi = self.py_at[j], self.py_at[j + 1]
        total = self.py_total[j] if self.py_total is not None else hi - lo
        return self.py[lo:hi if limit is None else min(hi, lo + limit)], total

    def items(self):
        """(size, count, trace id) per item.  A generator, so that it keeps
        the dump alive while it runs: the items are views of the shim's
        memory, which release() (or the dump's end, as in
        `Dump(...).items()`) frees."""
        counts = self.counts
        if counts is None:
            for s, t in zip(self.sizes, self.traces):
                yield (s, 1, t)
        else:
            yield from zip(self.sizes, counts, self.traces)


def _frame_of(packed):
    code, line = packed >> 32, packed & 0xffffffff
    if line >= 1 << 31:
        line -= 1 << 32
    return (_codes[code][0] if code < len(_codes) else "<unknown>", line)


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
        own: heapsnap's own bookkeeping (its innermost frame in this
        package)."""
        got = self.memo.get(tid)
        if got is not None:
            return got
        packed, total = dump.python(tid, self.nframe)
        if total:
            py = [_frame_of(p) for p in packed]
        else:
            py = [self.native_frame(w) for w in dump.stack(tid)[0]] or [("<unknown>", 0)]
            total = len(py)
            py = py[:self.nframe]
        # heapsnap's own bookkeeping: made by this package's code (its
        # innermost Python frame here)
        own = bool(total) and py[0][0].startswith(_OWN_DIR)
        got = (tuple(py), total, own)
        self.memo[tid] = got
        return got

    def full(self, dump, tid):
        """Every frame, innermost first, as (function, file, line, module):
        a Python frame's qualified name, file and line ("<python>"), a
        native frame's address and module."""
        out = []
        words, lines = dump.stack(tid)
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


def raw_traces(dump, nframe):
    """tracemalloc's raw traces from a dump, one per item, as a
    _blocks.Blocks: a row per trace (its frames, total_nframe and trace
    id), the items' sizes, rows and domains (the domain a C extension gave
    the block with PyTraceMalloc_Track, else 0) copied out of the dump as
    arrays; heapsnap's own left out.  The tracebacks are made once per
    trace (a frame tuple once per frame) in one pass; the items are copied
    at C speed (the rows as the shim gives them with PLACES)."""
    tbs = Tracebacks(nframe)
    ids = dump.ids
    at, py, codes, totals = dump.py_at, dump.py, _codes, dump.py_total
    ncodes, memo, memo1 = len(codes), {}, {}
    frames_of, total_of, own_rows = [], array.array("I"), 0

    def frame(p):
        code, line = p >> 32, p & 0xffffffff
        return (codes[code][0] if code < ncodes else "<unknown>",
                line - (1 << 32) if line >= 1 << 31 else line)

    for j, tid in enumerate(ids):
        lo, hi = at[j], at[j + 1]
        if lo == hi:
            frames, total, own = tbs.get(dump, tid)
        elif nframe == 1:  # the common case: one tuple per innermost frame
            p = py[lo]
            frames = memo1.get(p)
            if frames is None:
                frames = memo1[p] = (frame(p),)
            total = totals[j] if totals is not None else hi - lo
            own = frames[0][0].startswith(_OWN_DIR)
        else:
            top = py[lo:hi if nframe is None else min(hi, lo + nframe)]
            frames = tuple([memo.get(p) or memo.setdefault(p, frame(p)) for p in top])
            total = totals[j] if totals is not None else hi - lo
            own = frames[0][0].startswith(_OWN_DIR)
        frames_of.append(None if own else frames)
        total_of.append(total)
        own_rows += own
    if dump.places:  # the items' rows, as the shim gave them
        rows = _copy("I", dump.traces)
    else:  # per trace id, its row (its place in ids): a list by id or a dict
        top = ids[-1] + 1 if ids else 0
        per = [0] * top if top <= 4 * len(ids) + 65536 else {}
        for j, tid in enumerate(ids):
            per[tid] = j
        rows = array.array("I", map(per.__getitem__, dump.traces))
        del per
    sizes = _copy("Q", dump.sizes)
    domains = _copy("I", dump.domains) if dump.domains is not None else None
    counts = _copy("Q", dump.counts) if dump.counts is not None else None
    if own_rows:  # a byte a block: kept or not
        ok = bytes(f is not None for f in frames_of)
        drop_items((rows, sizes, domains, counts), bytes(map(ok.__getitem__, rows)))
    return Blocks(sizes, rows, frames_of, total_of, array.array("I", ids), domains,
                  counts), tbs
