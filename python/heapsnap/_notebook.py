"""heapsnap._notebook - the IPython extension: `%load_ext heapsnap`, then
`%%heapsnap` runs a cell under the shim and shows what it cost.

The cell is compiled under a file name of its own ("<cell N>", its source
put in linecache for the lines' text), so that its blocks are charged to
the innermost frame of the cell itself, tracemalloc-style, whatever
IPython's and ipykernel's machinery or the libraries it calls did below
it; blocks without a frame of the cell (the machinery's) are left out.
Around the cell the shim starts recording (the heapsnap kernel keeps it
stopped, HEAPSNAP_PAUSED, until a cell asks), a birth epoch begins and the
peak is reset, as the pytest plugin does per test; after it, the blocks
born in it and still live (by line), the peak over the cell's start with
the lines that held it, and the flame graph: the CLI's HTML page (`heapsnap
html`, self-contained, no network) of a snapshot taken at the cell's end,
which opens on the peak, inline in an iframe.  A kernel started without
the shim gets it loaded into its process at its first %%heapsnap cell
(heapsnap.load, recording stopped between cells); when that fails the cell
runs unmeasured and one line says why and how to get it.
"""

import ast
import html
import linecache
import os
import shlex
import subprocess
import sys
import tempfile

import heapsnap
from . import _early, _inproc, _snapshot

_NO_SHIM = ("heapsnap: this kernel does not run under heapsnap's shim and it could not be "
            "loaded into it (%s), so the cell ran unmeasured: pick the kernel \"Python 3 "
            "(heapsnap)\" (installed by `python3 -m heapsnap.kernel install --user`), or "
            "start Jupyter under `heapsnap run --`")

_USAGE = "%%heapsnap [--top N] [--no-flamegraph] [--height PIXELS]"


def _size(n):
    for unit in ("B", "KiB", "MiB", "GiB"):
        if abs(n) < 1024 or unit == "GiB":
            return ("%d %s" % (n, unit)) if unit == "B" else ("%.1f %s" % (n, unit))
        n /= 1024.0


def _options(line):
    opts = {"top": 10, "flame": True, "height": 600}
    words = shlex.split(line)
    i = 0
    while i < len(words):
        w = words[i]
        if w in ("--top", "--height") and i + 1 < len(words) and words[i + 1].isdigit():
            opts[w[2:]] = int(words[i + 1])
            i += 2
        elif w == "--no-flamegraph":
            opts["flame"] = False
            i += 1
        else:
            from IPython.core.error import UsageError  # IPython shows it as one line
            raise UsageError("heapsnap: unknown argument %r: %s" % (w, _USAGE))
    return opts


class _Cell:
    """A cell compiled as a file of its own, run in the user's namespace;
    its last expression's value returned, as IPython shows a cell's."""

    def __init__(self, shell, cell):
        self.shell = shell
        n = getattr(shell, "execution_count", 0)
        self.filename = "<cell %s>" % n
        src = shell.transform_cell(cell)
        linecache.cache[self.filename] = (len(src), None, src.splitlines(True), self.filename)
        tree = shell.transform_ast(ast.parse(src, self.filename))
        flags = getattr(shell.compile, "flags", 0)  # the notebook's __future__ imports
        self.last = None
        if tree.body and isinstance(tree.body[-1], ast.Expr):
            self.last = compile(ast.Expression(tree.body.pop().value), self.filename, "eval",
                                flags, True)
        self.body = compile(tree, self.filename, "exec", flags, True)

    def run(self):
        ns = self.shell.user_ns
        exec(self.body, ns)
        return eval(self.last, ns) if self.last is not None else None


def _cell_line(dump, tid, filename, memo):
    """The innermost line of the cell in trace tid's Python frames, or None."""
    got = memo.get(tid, False)
    if got is False:
        got = None
        for packed in dump.python(tid)[0]:
            fn, line = _inproc._frame_of(packed)
            if fn == filename:
                got = line
                break
        memo[tid] = got
    return got


def _by_line(items):
    out = {}
    for size, line in items:
        out[line] = out.get(line, 0) + size
    return sorted(out.items(), key=lambda r: (-r[1], r[0]))


def _measure(lib, cell, snap_path):
    """Runs cell under the shim: (value, live [(line, bytes)], peak over the
    start, peak [(line, bytes)]); snap_path, when given, gets a snapshot of
    the cell's end (its peak captured)."""
    paused = lib.heapsnap_has_stop and not lib.heapsnap_is_tracing()
    if paused:
        lib.heapsnap_start()
    try:
        before = {tid: size for size, _, tid in _inproc.Dump(lib, _inproc.LIVE).items()}
        epoch = heapsnap.new_epoch()
        base = heapsnap._totals()[0]
        lib.heapsnap_reset_peak()
        value = cell.run()
        peak = heapsnap._totals()[1]
        if snap_path and lib.heapsnap_take_snapshot(snap_path.encode()) != 0:
            snap_path = None
    finally:
        if paused:
            lib.heapsnap_stop()
    with _inproc.unrecorded(lib):
        memo = {}
        dump = _inproc.Dump(lib, _inproc.BLOCKS | _inproc.PYTHON_ONLY, epoch)
        live = []
        for size, _, tid in dump.items():
            line = _cell_line(dump, tid, cell.filename, memo)
            if line is not None:
                live.append((size, line))
        memo = {}
        dump = _inproc.Dump(lib, _inproc.PEAK | _inproc.PYTHON_ONLY)
        at_peak = []
        for size, _, tid in dump.items():
            over = size - before.get(tid, 0)
            line = _cell_line(dump, tid, cell.filename, memo) if over > 0 else None
            if line is not None:
                at_peak.append((over, line))
    return value, _by_line(live), max(0, peak - base), _by_line(at_peak)


def _report(filename, live, peak, at_peak, top):
    """The text: the peak and its lines, then what the cell left live."""
    def rows(items):
        for line, size in items[:top]:
            text = linecache.getline(filename, line).strip()
            yield "  %s:%d: size=%s%s" % (filename, line, _size(size),
                                          "    " + text if text else "")
    out = ["heapsnap: %s peak %s over its start, %s allocated in it and still live"
           % (filename, _size(peak), _size(sum(s for _, s in live)))]
    if at_peak:
        out.append("at the peak:")
        out.extend(rows(at_peak))
    if live:
        out.append("still live:")
        out.extend(rows(live))
    return "\n".join(out)


def _flamegraph(snap_path, height):
    """The CLI's HTML page of the snapshot, as an iframe (its own document:
    its script and style stay out of the notebook's), or a line saying why
    there is none."""
    try:
        cli = _snapshot.cli_path()
    except RuntimeError as e:
        return None, "heapsnap: no flame graph: %s" % e
    page = snap_path + ".html"
    try:
        r = subprocess.run([cli, "html", "-o", page, snap_path], env=_snapshot.cli_env(),
                           stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, timeout=120)
    except (OSError, subprocess.TimeoutExpired) as e:
        return None, "heapsnap: no flame graph: %s" % e
    if r.returncode != 0:
        return None, "heapsnap: no flame graph: %s" % (r.stderr.strip().splitlines() or ["?"])[-1]
    with open(page, encoding="utf-8") as f:
        doc = f.read()
    return ('<div class="heapsnap-flamegraph"><iframe title="heapsnap flame graph" '
            'style="width:100%%;height:%dpx;border:1px solid #ccc" srcdoc="%s"></iframe></div>'
            % (height, html.escape(doc, quote=True))), None


def heapsnap_cell(line, cell, shell):
    """%%heapsnap: the cell run under the shim; its cost printed, its flame
    graph shown; the value of its last expression returned."""
    opts = _options(line)
    c = _Cell(shell, cell)
    why = heapsnap._load_why()  # a plain kernel: the shim loaded into it (heapsnap.load)
    lib = heapsnap._lib
    if why is None and not getattr(lib, "heapsnap_has_dump", False):
        why = "the shim loaded is older than this package"
    if why is not None:
        print(_NO_SHIM % why, file=sys.stderr)
        return c.run()
    with tempfile.TemporaryDirectory(prefix="heapsnap-cell-") as d:
        snap = os.path.join(d, "cell.hsnap") if opts["flame"] else None
        value, live, peak, at_peak = _measure(lib, c, snap)
        print(_report(c.filename, live, peak, at_peak, opts["top"]))
        if snap and os.path.exists(snap):
            frame, why = _flamegraph(snap, opts["height"])
            if frame:
                from IPython.display import HTML, display
                display(HTML(frame))
            else:
                print(why, file=sys.stderr)
    return value


def load(ipython):
    """load_ipython_extension: registers %%heapsnap."""
    lib = heapsnap._lib
    if lib is not None and lib.heapsnap_has_stop and not lib.heapsnap_is_tracing():
        _early._wrap_now(lib)  # the domains wrapped now: the objects alive then are no cell's
    def magic(line, cell):
        return heapsnap_cell(line, cell, ipython)
    magic.__doc__ = heapsnap_cell.__doc__ + "\n\nUsage: " + _USAGE
    ipython.register_magic_function(magic, "cell", "heapsnap")
