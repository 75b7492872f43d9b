"""heapsnap._snapshot - tracemalloc's snapshot classes over heapsnap snapshots.

Snapshot, Statistic, StatisticDiff, Trace, Traceback, Frame, Filter and
DomainFilter behave as tracemalloc's (same attributes, sort orders and
str() text).  take_snapshot() builds a Snapshot in the process, one trace
per live block (_inproc, the shim's heapsnap_dump); a .hsnap file is read
through the heapsnap CLI (`heapsnap export --format tracemalloc-binary`:
each frame once, the stacks as arrays of numbers), never by parsing the
.hsnap format here, and there a trace stands for every live block of one
traceback (`count` of them, `size` their sum).
"""

import array
import fnmatch
import linecache
import os
import pickle
import struct
import sys
from collections.abc import Iterable, Sequence
from functools import total_ordering

from ._blocks import Blocks, drop_items

# Traces whose Python frames pass through this package are heapsnap's own
# bookkeeping (an earlier Snapshot's objects), not the program's.
_OWN_DIR = os.path.dirname(os.path.abspath(__file__)) + os.sep


def _format_size(size, sign):
    units = ('B', 'KiB', 'MiB', 'GiB', 'TiB')
    for i, unit in enumerate(units):
        last = unit == 'TiB'
        if unit != 'B' and abs(size) < 100:
            return ("%+.1f %s" if sign else "%.1f %s") % (size, unit)
        if abs(size) < 10 * 1024 or last:
            return ("%+.0f %s" if sign else "%.0f %s") % (size, unit)
        size /= 1024
    return None  # not reached: TiB always returns


@total_ordering
class Frame:
    """One frame of a traceback: filename and lineno."""
    __slots__ = ("_frame",)

    def __init__(self, frame):
        self._frame = tuple(frame)

    filename = property(lambda self: self._frame[0])
    lineno = property(lambda self: self._frame[1])

    def __eq__(self, other):
        return self._frame == other._frame if isinstance(other, Frame) else NotImplemented

    def __lt__(self, other):
        return self._frame < other._frame if isinstance(other, Frame) else NotImplemented

    def __hash__(self):
        return hash(self._frame)

    def __str__(self):
        return "%s:%s" % self._frame

    def __repr__(self):
        return "<Frame filename=%r lineno=%r>" % self._frame


@total_ordering
class Traceback(Sequence):
    """Frames from the oldest to the most recent, as tracemalloc's.
    `frames` is given most recent first (the raw order of a trace)."""
    __slots__ = ("_frames", "_total_nframe")

    def __init__(self, frames, total_nframe=None):
        self._frames = tuple(tuple(f) for f in frames)[::-1]
        self._total_nframe = total_nframe

    total_nframe = property(lambda self: self._total_nframe)

    def __len__(self):
        return len(self._frames)

    def __getitem__(self, index):
        if isinstance(index, slice):
            return tuple(Frame(f) for f in self._frames[index])
        return Frame(self._frames[index])

    def __contains__(self, frame):
        return frame._frame in self._frames

    def __hash__(self):
        return hash(self._frames)

    def __eq__(self, other):
        return self._frames == other._frames if isinstance(other, Traceback) else NotImplemented

    def __lt__(self, other):
        return self._frames < other._frames if isinstance(other, Traceback) else NotImplemented

    def __str__(self):
        return str(self[0])

    def __repr__(self):
        text = "<Traceback %s" % (tuple(self),)
        if self._total_nframe is not None:
            text += " total_nframe=%s" % self._total_nframe
        return text + ">"

    def format(self, limit=None, most_recent_first=False):
        frames = list(self)
        if limit is not None:
            frames = frames[-limit:] if limit > 0 else frames[:limit]
        if most_recent_first:
            frames.reverse()
        lines = []
        for f in frames:
            lines.append('  File "%s", line %s' % (f.filename, f.lineno))
            source = linecache.getline(f.filename, f.lineno).strip()
            if source:
                lines.append('    %s' % source)
        return lines


class Statistic:
    """Live memory of one key: size (bytes), count (blocks)."""
    __slots__ = ("traceback", "size", "count")

    def __init__(self, traceback, size, count):
        self.traceback, self.size, self.count = traceback, size, count

    def _fields(self):
        return (self.traceback, self.size, self.count)

    def __hash__(self):
        return hash(self._fields())

    def __eq__(self, other):
        return self._fields() == other._fields() if isinstance(other, Statistic) else NotImplemented

    def __str__(self):
        text = "%s: size=%s, count=%i" % (self.traceback, _format_size(self.size, False),
                                          self.count)
        if self.count:
            text += ", average=%s" % _format_size(self.size / self.count, False)
        return text

    def __repr__(self):
        return "<Statistic traceback=%r size=%i count=%i>" % self._fields()

    def _sort_key(self):
        return (self.size, self.count, self.traceback)


class StatisticDiff:
    """A key's live memory in the new snapshot and its change from the old."""
    __slots__ = ("traceback", "size", "size_diff", "count", "count_diff")

    def __init__(self, traceback, size, size_diff, count, count_diff):
        self.traceback, self.size, self.size_diff = traceback, size, size_diff
        self.count, self.count_diff = count, count_diff

    def _fields(self):
        return (self.traceback, self.size, self.size_diff, self.count, self.count_diff)

    def __hash__(self):
        return hash(self._fields())

    def __eq__(self, other):
        if not isinstance(other, StatisticDiff):
            return NotImplemented
        return self._fields() == other._fields()

    def __str__(self):
        text = "%s: size=%s (%s), count=%i (%+i)" % (
            self.traceback, _format_size(self.size, False), _format_size(self.size_diff, True),
            self.count, self.count_diff)
        if self.count:
            text += ", average=%s" % _format_size(self.size / self.count, False)
        return text

    def __repr__(self):
        return "<StatisticDiff traceback=%r size=%i (%+i) count=%i (%+i)>" % self._fields()

    def _sort_key(self):
        return (abs(self.size_diff), self.size, abs(self.count_diff), self.count,
                self.traceback)


# A raw trace: (domain, size, frames, total_nframe, count, native), frames
# most recent first as (filename, lineno); native: the full stack as the
# CLI gave it, (function, file, line, module) innermost first, or the
# trace id an in-process snapshot's resolver turns into one.
class Trace:
    """A live block (count 1; from a .hsnap: every live block of one
    traceback, count of them, size their sum): domain, size, count,
    traceback; `native` is the whole stack, native frames included, as
    (function, file, line, module) tuples from the allocation site out (in
    the process: a native frame's address and module, not its symbol)."""
    __slots__ = ("_trace", "_native")

    def __init__(self, trace, native=None):
        self._trace = trace
        self._native = native

    domain = property(lambda self: self._trace[0])
    size = property(lambda self: self._trace[1])
    count = property(lambda self: self._trace[4])

    @property
    def native(self):
        n = self._trace[5]
        return self._native(n) if self._native is not None else n

    @property
    def traceback(self):
        return Traceback(self._trace[2], self._trace[3])

    def __eq__(self, other):
        return self._trace == other._trace if isinstance(other, Trace) else NotImplemented

    def __hash__(self):
        return hash(self._trace)

    def __str__(self):
        return "%s: %s" % (self.traceback, _format_size(self.size, False))

    def __repr__(self):
        return "<Trace domain=%s size=%s, traceback=%r>" % (
            self.domain, _format_size(self.size, False), self.traceback)


class _Traces(Sequence):
    def __init__(self, traces, native=None):
        self._traces = traces
        self._native = native

    def __len__(self):
        return len(self._traces)

    def __getitem__(self, index):
        if isinstance(index, slice):
            return tuple(Trace(t, self._native) for t in self._traces[index])
        return Trace(self._traces[index], self._native)

    def __contains__(self, trace):
        return trace._trace in self._traces

    def __eq__(self, other):
        return self._traces == other._traces if isinstance(other, _Traces) else NotImplemented

    def __repr__(self):
        return "<Traces len=%s>" % len(self)

    def __getstate__(self):
        # An in-process snapshot reads Trace.native from the shim's dump
        # (a ctypes library: not picklable); a dump() keeps the stacks
        # themselves, so that the loaded snapshot still has them.
        native, traces = self._native, self._traces
        if native is not None and not isinstance(native, (_Natives, _NativeTable)):
            keys = ([traces.keys[r] for r in traces.used_rows()] if isinstance(traces, Blocks)
                    else [t[5] for t in traces])
            native = _NativeTable({k: native(k) for k in keys})
        return {"_traces": traces, "_native": native}


class _NativeTable(dict):
    """Trace.native's stacks by trace number, kept whole (a pickled
    in-process snapshot's)."""

    def __call__(self, k):
        return self[k]


def _normalize_filename(filename):
    filename = os.path.normcase(filename)
    return filename[:-1] if filename.endswith('.pyc') else filename


class BaseFilter:
    def __init__(self, inclusive):
        self.inclusive = inclusive

    def _match(self, trace):
        raise NotImplementedError


class Filter(BaseFilter):
    """Traces whose most recent frame (every frame with all_frames) matches
    filename_pattern (fnmatch) and lineno; inclusive keeps them, else drops."""

    def __init__(self, inclusive, filename_pattern, lineno=None, all_frames=False,
                 domain=None):
        super().__init__(inclusive)
        self._filename_pattern = _normalize_filename(filename_pattern)
        self.lineno = lineno
        self.all_frames = all_frames
        self.domain = domain

    filename_pattern = property(lambda self: self._filename_pattern)

    def _frame_matches(self, frame):
        if not fnmatch.fnmatch(_normalize_filename(frame[0]), self._filename_pattern):
            return False
        return self.lineno is None or frame[1] == self.lineno

    def _match(self, trace):
        frames = trace[2]
        if self.all_frames:
            hit = any(self._frame_matches(f) for f in frames)
        else:
            hit = bool(frames) and self._frame_matches(frames[0])
        res = hit if self.inclusive else not hit
        if self.domain is None:
            return res
        if self.inclusive:
            return res and trace[0] == self.domain
        return res or trace[0] != self.domain


class DomainFilter(BaseFilter):
    """Traces of one address-space domain (heapsnap: every trace is 0)."""

    def __init__(self, inclusive, domain):
        super().__init__(inclusive)
        self._domain = domain

    domain = property(lambda self: self._domain)

    def _match(self, trace):
        return (trace[0] == self._domain) == bool(self.inclusive)


class Snapshot:
    """Live blocks of a heapsnap snapshot, as tracemalloc's Snapshot."""

    def __init__(self, traces, traceback_limit, native=None):
        """traces: raw traces, a list or a _blocks.Blocks (one per block)."""
        if not isinstance(traces, (list, Blocks)):
            traces = list(traces)
        self.traces = _Traces(traces, native)
        self.traceback_limit = traceback_limit
        self.path = None  # the .hsnap it was read from

    def retainers(self, limit=10):
        """Who holds the Python objects of a .hsnap snapshot, by type (the
        limit types with the most bytes; 0: all): a list of {"type",
        "objects", "size", "paths": [{"path", "objects"}]}, as `heapsnap top
        --retainers --key type --format json` gives it (docs/json.md)."""
        if not getattr(self, "path", None):
            raise ValueError("heapsnap: retainers() reads a .hsnap file: Snapshot.load(PATH)")
        doc = cli_json(["top", self.path, "--retainers", "--key", "type", "-n", str(limit),
                        "--format", "json"])
        return doc.get("python_retainers", [])

    def dump(self, filename):
        """Writes the snapshot (pickle, as tracemalloc's)."""
        with open(filename, "wb") as fp:
            pickle.dump(self, fp, pickle.HIGHEST_PROTOCOL)

    @staticmethod
    def load(filename, nframe=None, native=False):
        """Reads a snapshot that dump() wrote, or a heapsnap .hsnap file
        (all its live blocks; nframe: Python frames kept per traceback,
        all of them when None; native: a Python trace's Trace.native keeps
        its native frames, symbolized, which costs the CLI's symbolization
        of every native frame; by default it holds the Python frames, as
        tracemalloc's traces do)."""
        with open(filename, "rb") as fp:
            head = fp.read(2)
            if head[:1] == b"\x80":
                fp.seek(0)
                return pickle.load(fp)
        return read_hsnap(filename, nframe, native=native)

    def filter_traces(self, filters):
        """A new Snapshot with the traces that pass filters (a list of Filter
        and DomainFilter: any inclusive one, and every exclusive one)."""
        if not isinstance(filters, Iterable):
            raise TypeError("filters must be a list of filters, not %s" % type(filters).__name__)
        filters = list(filters)
        inc = [f for f in filters if f.inclusive]
        exc = [f for f in filters if not f.inclusive]

        def match(t):
            return (not inc or any(f._match(t) for f in inc)) and all(f._match(t) for f in exc)
        traces = self.traces._traces
        if isinstance(traces, Blocks):  # filters read a trace's domain and frames
            kept = traces.select(match) if filters else traces
        else:
            kept = [t for t in traces if match(t)]
        return Snapshot(kept, self.traceback_limit, self.traces._native)

    def _sums(self):
        """(frames, bytes, blocks) per trace, or per row of a Blocks (its
        blocks summed first)."""
        traces = self.traces._traces
        if not isinstance(traces, Blocks):
            return ((t[2], t[1], t[4]) for t in traces)
        size, count = traces.row_sums()
        return ((f, s, c) for f, s, c in zip(traces.frames, size, count) if c)

    def _group_by(self, key_type, cumulative):
        if key_type not in ("traceback", "filename", "lineno"):
            raise ValueError("unknown key_type: %r" % (key_type,))
        if cumulative and key_type not in ("lineno", "filename"):
            raise ValueError("cumulative mode cannot by used with key type %r" % key_type)

        def key(frames):
            if key_type == "traceback":
                return frames
            if key_type == "lineno":
                return frames[:1]
            return ((frames[0][0], 0),)

        # tracemalloc's Snapshot._group_by: cumulative counts the trace once
        # per frame, so a line twice in one stack counts twice.
        stats = {}
        memo = {}
        for frames, size, count in self._sums():
            if not frames:
                frames = (("<unknown>", 0),)
            for k in (frames,) if not cumulative else ((f,) for f in frames):
                k = memo.get(k) or memo.setdefault(k, key(k))
                stat = stats.get(k)
                if stat is None:
                    stats[k] = Statistic(Traceback(k), size, count)
                else:
                    stat.size += size
                    stat.count += count
        return stats

    def statistics(self, key_type, cumulative=False):
        """Statistic per key, biggest first (tracemalloc's order)."""
        stats = list(self._group_by(key_type, cumulative).values())
        stats.sort(reverse=True, key=Statistic._sort_key)
        return stats

    def compare_to(self, old_snapshot, key_type, cumulative=False):
        """StatisticDiff per key against old_snapshot, biggest change first."""
        new = self._group_by(key_type, cumulative)
        old = old_snapshot._group_by(key_type, cumulative)
        diffs = []
        for k, stat in new.items():
            prev = old.pop(k, None)
            psize, pcount = (prev.size, prev.count) if prev else (0, 0)
            diffs.append(StatisticDiff(stat.traceback, stat.size, stat.size - psize,
                                       stat.count, stat.count - pcount))
        for k, stat in old.items():
            diffs.append(StatisticDiff(stat.traceback, 0, -stat.size, 0, -stat.count))
        diffs.sort(reverse=True, key=StatisticDiff._sort_key)
        return diffs


# ---- reading a .hsnap through the CLI ----------------------------------

def shim_path():
    """The path of the libheapsnap.so loaded in this process, or None."""
    try:
        with open("/proc/self/maps") as maps:
            for line in maps:
                path = line.split(None, 5)[-1].strip()
                if os.path.basename(path).startswith("libheapsnap"):
                    return path
    except OSError:
        pass
    return None


def cli_path():
    """The heapsnap CLI: $HEAPSNAP, next to the shim (a build tree's
    build/, or an install's bin/ beside lib/heapsnap/), or on PATH."""
    env = os.environ.get("HEAPSNAP")
    if env:
        return env
    shim = shim_path()
    if shim:
        d = os.path.dirname(shim)
        for c in (os.path.join(d, "heapsnap"), os.path.join(d, "..", "..", "bin", "heapsnap"),
                  os.path.join(d, "..", "bin", "heapsnap")):
            if os.path.isfile(c) and os.access(c, os.X_OK):
                return os.path.normpath(c)
    import shutil  # here: the CLI's modules are not paid for at `import heapsnap`
    found = shutil.which("heapsnap")
    if found:
        return found
    raise RuntimeError("heapsnap: the heapsnap CLI is not found (set HEAPSNAP to its path)")


def cli_env():
    """This process's environment without the shim: the CLI is not traced."""
    env = dict(os.environ)
    pre = [p for p in env.get("LD_PRELOAD", "").replace(":", " ").split()
           if "libheapsnap" not in os.path.basename(p)]
    if pre:
        env["LD_PRELOAD"] = " ".join(pre)
    else:
        env.pop("LD_PRELOAD", None)
    return env


def cli_out(args):
    """Runs the CLI with args (cwd "/", so file names stay as recorded) and
    returns its standard output (bytes)."""
    import subprocess
    proc = subprocess.run([cli_path()] + list(args), cwd="/", env=cli_env(),
                          stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    if proc.returncode != 0:
        why = proc.stderr.decode("utf-8", "replace").strip().splitlines()
        raise RuntimeError("heapsnap %s: %s" % (args[0], why[-1] if why else
                                                "exit status %d" % proc.returncode))
    return proc.stdout


def cli_json(args):
    """The CLI's JSON document for args."""
    import json
    return json.loads(cli_out(args))


def traces_from_lines(text, nframe):
    """Raw traces from `export --format tracemalloc` (report's tmtraces.c:
    "BYTES<TAB>BLOCKS<TAB>FRAME..." a stack, innermost first, each frame
    "MODULE<US>FILE<US>LINE<US>FUNCTION"), as traces_from_groups makes them
    from top's JSON.  A frame's text is parsed once, into its native tuple,
    its Python frame (None for a native one) and whether it is heapsnap's
    own: a row is then lookups only."""
    out, parsed = [], {}
    for row in text.decode("utf-8", "replace").split("\n"):
        if not row:
            continue
        cols = row.split("\t")
        native, py, own = [], [], False
        for col in cols[2:]:
            f = parsed.get(col)
            if f is None:
                module, file, line, func = (col.split("\x1f") + ["", "", "0", ""])[:4]
                nat = (func, file or None, int(line or 0), module)
                pyf = (file or "<unknown>", nat[2]) if module == "<python>" else None
                f = parsed[col] = (nat, pyf, pyf is not None and pyf[0].startswith(_OWN_DIR))
            native.append(f[0])
            if f[1] is not None:
                py.append(f[1])
                own = own or f[2]
        if own:
            continue
        if not py:
            py = [(f[1] or "[%s]" % f[3], f[2]) for f in native]
        total = len(py)
        if nframe is not None:
            py = py[:nframe]
        out.append((0, int(cols[0]), tuple(py), total, int(cols[1]), tuple(native)))
    return out


def _frame_texts(texts):
    """Per frame text ("MODULE<US>FILE<US>LINE<US>FUNCTION"): its native
    tuple, its Python frame (None for a native one), the frame a stack
    without Python frames shows, and whether it is heapsnap's own."""
    nat, pyf, fallback, own = [], [], [], set()
    for i, col in enumerate(texts):
        module, file, line, func = (col.split("\x1f") + ["", "", "0", ""])[:4]
        n = (func, file or None, int(line or 0), module)
        p = (file or "<unknown>", n[2]) if module == "<python>" else None
        if p is not None and p[0].startswith(_OWN_DIR):
            own.add(i)
        nat.append(n)
        pyf.append(p)
        fallback.append((file or "[%s]" % module, n[2]))
    return nat, pyf, fallback, own


_TMB_MAGIC = (b"HSTMB1\n\0", b"HSTMB2\n\0")


def traces_from_binary(data, nframe):
    """Raw traces from `export --format tracemalloc-binary` (report's
    tmtraces.c, tmbin_write: each frame's text once, the stacks as numbers
    into them, each live block as its stack's number and size), as a
    _blocks.Blocks: one trace per live block, a row per stack (one per
    stack, its sums, from a snapshot without blocks or an older CLI's
    HSTMB1).  The arrays are taken whole; a stack is a few C-speed passes
    over its numbers (map, isdisjoint), never a Python loop per frame or
    per block.  A row's key is its stack's number, which the returned
    _Natives turns into Trace.native when asked."""
    if data[:8] not in _TMB_MAGIC or len(data) < 24:
        raise RuntimeError("heapsnap export: not a tracemalloc-binary export")
    nframes, nstacks, nrefs = struct.unpack_from("<IIQ", data, 8)
    mv, at = memoryview(data), 24
    nblocks = 0
    if data[:8] == _TMB_MAGIC[1]:
        if len(data) < 32:
            raise RuntimeError("heapsnap export: a tracemalloc-binary export is cut short")
        nblocks, at = struct.unpack_from("<Q", data, 24)[0], 32

    def take(code, n):
        nonlocal at
        a = array.array(code)
        size = a.itemsize * n
        if at + size > len(data):
            raise RuntimeError("heapsnap export: a tracemalloc-binary export is cut short")
        a.frombytes(mv[at:at + size])
        at += size
        if sys.byteorder != "little":
            a.byteswap()
        return a

    sizes, counts = take("q", nstacks), take("q", nstacks)
    depths, refs = take("I", nstacks), take("I", nrefs)
    bstack, bsize = take("I", nblocks), take("Q", nblocks)
    texts = data[at:].decode("utf-8", "replace").split("\0")
    if len(texts) != nframes + 1 or sum(depths) != nrefs:
        raise RuntimeError("heapsnap export: a tracemalloc-binary export does not hold "
                           "its frames")
    nat, pyf, fallback, own = _frame_texts(texts[:nframes])
    del texts
    # heapsnap's own frames read as None too: a stack is then one scan for
    # None in the common case (Python frames only, none of them ours)
    pyseen = [None if i in own else f for i, f in enumerate(pyf)] if own else pyf
    pyget, seenget, fbget = pyf.__getitem__, pyseen.__getitem__, fallback.__getitem__
    frames, totals, lo = [], array.array("I"), 0
    starts = array.array("Q", [0]) * (nstacks + 1)
    try:
        for k in range(nstacks):
            hi = starts[k + 1] = lo + depths[k]
            py = tuple(map(seenget, refs[lo:hi]))
            if None in py:
                ix = refs[lo:hi]
                if own and not own.isdisjoint(ix):
                    frames.append(None)  # heapsnap's own: its blocks are left out
                    totals.append(0)
                    lo = hi
                    continue
                py = tuple([f for f in map(pyget, ix) if f is not None]) or tuple(map(fbget, ix))
            lo = hi
            totals.append(len(py))
            frames.append(py if nframe is None else py[:nframe])
    except IndexError:
        raise RuntimeError("heapsnap export: a tracemalloc-binary export names a frame "
                           "it does not hold") from None
    if nblocks:
        if bstack and max(bstack) >= nstacks:
            raise RuntimeError("heapsnap export: a tracemalloc-binary export names a stack "
                               "it does not hold")
        rows, bsizes, bcounts = bstack, bsize, None
    else:  # a trace per stack: its bytes in its blocks
        rows, bsizes, bcounts = array.array("I", range(nstacks)), array.array("Q", sizes), counts
    if None in frames:
        ok = bytes(f is not None for f in frames)
        drop_items((rows, bsizes, bcounts), bytes(map(ok.__getitem__, rows)))
    return (Blocks(bsizes, rows, frames, totals, array.array("I", range(nstacks)), None, bcounts),
            _Natives(nat, refs, starts))


class _Natives:
    """A loaded trace's whole stack (Trace.native) from its stack number:
    made when asked, from the export's frame numbers."""

    def __init__(self, nat, refs, starts):
        self.nat, self.refs, self.starts = nat, refs, starts

    def __call__(self, k):
        return tuple(map(self.nat.__getitem__, self.refs[self.starts[k]:self.starts[k + 1]]))


def traces_from_groups(groups, nframe):
    """Raw traces from `top --key traceback` groups: the traceback is the
    group's Python frames (tracemalloc's), most recent first, cut at nframe;
    a stack without Python frames keeps its native frames as "file:line"
    ("[module]:0" without debug info).  heapsnap's own are left out."""
    out = []
    for g in groups:
        stack = g.get("frames") or []
        native = tuple((f.get("function"), f.get("file"), f.get("line") or 0, f.get("module"))
                       for f in stack)
        py = [(f.get("file") or "<unknown>", f.get("line") or 0) for f in stack
              if f.get("module") == "<python>"]
        if any(name.startswith(_OWN_DIR) for name, _ in py):
            continue
        if not py:
            py = [(f[1] or "[%s]" % f[3], f[2]) for f in native]
        total = len(py)
        if nframe is not None:
            py = py[:nframe]
        out.append((0, g["bytes"], tuple(py), total, g["blocks"], native))
    return out


def read_hsnap(path, nframe=None, born_since=None, native=True):
    """A Snapshot of the live blocks of the .hsnap at path (born in epoch
    born_since or later when given).  Through `heapsnap export --format
    tracemalloc-binary --no-notes` (without native, --python-only: a
    Python stack's native frames are neither symbolized nor sent); with
    born_since, through top's JSON, which has --born-since."""
    if born_since is None:
        args = ["export", "--format", "tracemalloc-binary", "--no-notes",
                os.path.abspath(path)]
        if not native:
            args.insert(3, "--python-only")
        traces, natives = traces_from_binary(cli_out(args), nframe)
    else:
        args = ["top", os.path.abspath(path), "--key", "traceback", "-n", "0",
                "--format", "json", "--born-since", str(born_since)]
        traces, natives = traces_from_groups(cli_json(args).get("groups", []), nframe), None
    if nframe is not None:
        limit = nframe
    elif isinstance(traces, Blocks):
        limit = max(traces.totals, default=0) or 1
    else:
        limit = max([t[3] for t in traces] or [1])
    snap = Snapshot(traces, limit, natives)
    snap.path = os.path.abspath(path)
    return snap
