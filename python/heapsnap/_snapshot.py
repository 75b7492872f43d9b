"""heapsnap._snapshot - tracemalloc's snapshot classes over heapsnap snapshots.

Snapshot, Statistic, StatisticDiff, Trace, Traceback, Frame, Filter and
DomainFilter behave as tracemalloc's (same attributes, sort orders and
str() text).  take_snapshot() builds a Snapshot in the process, one trace
per live block (_inproc, the shim's heapsnap_dump), and Snapshot.load reads
a .hsnap through the heapsnap CLI (_hsnap), one trace per live block too;
the traces are held as arrays (_blocks.Blocks) and made when asked.
"""

import fnmatch
import linecache
import os
import pickle
from collections.abc import Iterable, Sequence
from functools import total_ordering

from ._blocks import Blocks

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
        from . import _hsnap
        native, traces = self._native, self._traces
        if native is not None and not isinstance(native, (_hsnap._Natives, _NativeTable)):
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
        from . import _hsnap
        doc = _hsnap.cli_json(["top", self.path, "--retainers", "--key", "type", "-n", str(limit),
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
        from . import _hsnap
        return _hsnap.read_hsnap(filename, nframe, native=native)

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


# The .hsnap reader (loaded when first asked: the CLI's modules, json and
# subprocess, are not paid for at `import heapsnap`), and its names as this
# module had them (the pytest plugin and the notebook call them here; an
# older dump()'s pickle names _snapshot._Natives).
def __getattr__(name):
    if name in ("shim_path", "cli_path", "cli_env", "cli_out", "cli_json", "traces_from_lines",
                "traces_from_binary", "traces_from_groups", "read_hsnap", "_Natives"):
        from . import _hsnap
        return getattr(_hsnap, name)
    raise AttributeError("module %r has no attribute %r" % (__name__, name))
