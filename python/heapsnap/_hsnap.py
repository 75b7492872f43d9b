"""heapsnap._hsnap - a .hsnap read through the heapsnap CLI, for
Snapshot.load.

The CLI is found beside the shim, through $HEAPSNAP or on PATH, and run
without the shim; its `export --format tracemalloc-binary` (report's
tmtraces.c: each frame's text once, the stacks as numbers into them, each
live block as its stack's number and size) is taken in whole arrays into
a _blocks.Blocks, one trace per live block as tracemalloc has them, and
its `top --key traceback` JSON (for --born-since) a trace per stack.
This package never parses the .hsnap format itself.  The readers of the
plain lines (`export --format tracemalloc`) and of top's groups stay for
the tests and --born-since.
"""

import array
import json
import os
import shutil
import struct
import subprocess
import sys

from ._blocks import Blocks, drop_items

# Traces whose Python frames pass through this package are heapsnap's own
# bookkeeping (an earlier Snapshot's objects), not the program's.
_OWN_DIR = os.path.dirname(os.path.abspath(__file__)) + os.sep


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
    proc = subprocess.run([cli_path()] + list(args), cwd="/", env=cli_env(),
                          stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    if proc.returncode != 0:
        why = proc.stderr.decode("utf-8", "replace").strip().splitlines()
        raise RuntimeError("heapsnap %s: %s" % (args[0], why[-1] if why else
                                                "exit status %d" % proc.returncode))
    return proc.stdout


def cli_json(args):
    """The CLI's JSON document for args."""
    return json.loads(cli_out(args))


def _frames_shown(py, native, nframe):
    """A trace's frames as tracemalloc shows them: its Python frames, or
    its native ones where it has none, the first nframe; and how many it
    had."""
    if not py:
        py = [(f[1] or "[%s]" % f[3], f[2]) for f in native]
    total = len(py)
    return tuple(py if nframe is None else py[:nframe]), total

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
        py, total = _frames_shown(py, native, nframe)
        out.append((0, int(cols[0]), py, total, int(cols[1]), tuple(native)))
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
        py, total = _frames_shown(py, native, nframe)
        out.append((0, g["bytes"], py, total, g["blocks"], native))
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
    from ._snapshot import Snapshot
    snap = Snapshot(traces, limit, natives)
    snap.path = os.path.abspath(path)
    return snap
