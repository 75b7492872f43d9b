"""heapsnap.pytest_plugin - memory limits and a memory summary for pytest.

`pytest --heapsnap` (a pytest11 entry point, or `-p heapsnap.pytest_plugin`)
runs the tests under the shim, recording stopped (HEAPSNAP_PAUSED=1):
pytest is executed again with it preloaded (by heapsnap-pytest.pth before
pytest's import), or, with pytest imported already, the shim's late copy
is loaded into this process (heapsnap's __init__, else this module's
import; pytest runs again only when that fails); the shim records each test's call
alone (heapsnap_start/heapsnap_stop around it, the innermost wrapper), and
no exit snapshot is written unless HEAPSNAP_OUTPUT asks.  Each call is
measured in the process (heapsnap_dump, no CLI, no file): its peak over
its start and what it allocated and still holds at its end.  A site is
the innermost Python line outside pytest, pluggy and this package.
Markers, enforced under --heapsnap only, as pytest-memray reads them (sizes
"<NUMBER> [KMGTP]B" in powers of 1024, so "10 MB" is 10 MiB; its keywords
limit=, location_limit=, filter_fn=; the limit reached fails):
  @pytest.mark.limit_memory("24 MB")          the peak over the start
  @pytest.mark.limit_leaks("1 MB", warmups=N) what one allocation stack of
                                              the test leaves allocated and
                                              live (after N warm-up calls)
"""

import dataclasses
import gc
import os
import re
import sys

import pytest

import heapsnap
from heapsnap import _early, _inproc, _retention, _snapshot

# pytest-memray's units (its parse_memory_string): powers of 1024; KiB and
# the like are accepted too, with the same meaning.
_UNITS = {"": 1, "B": 1, "KB": 1024, "MB": 1024 ** 2, "GB": 1024 ** 3, "TB": 1024 ** 4,
          "PB": 1024 ** 5, "KIB": 1024, "MIB": 1024 ** 2, "GIB": 1024 ** 3, "TIB": 1024 ** 4}
_REEXEC = _early.REEXEC
_SITES = 5  # sites named per test


def parse_size(text):
    """Bytes of "24 MB", "1.5 GB", "512KB", "100 B" as pytest-memray reads
    them (KB, MB, GB, TB, PB: powers of 1024), or of "2 MiB", or an int."""
    if isinstance(text, (int, float)) and not isinstance(text, bool):
        return int(text)
    m = re.fullmatch(r"\s*\+?([0-9]*\.?[0-9]+)\s*([A-Za-z]*)\s*", str(text))
    if not m or m.group(2).upper() not in _UNITS:
        raise ValueError("heapsnap: bad memory size %r (a number and B, KB, MB, GB, TB or PB, "
                         "in powers of 1024 as pytest-memray reads them: \"24 MB\")" % (text,))
    return int(float(m.group(1)) * _UNITS[m.group(2).upper()])


@dataclasses.dataclass(frozen=True)
class StackFrame:
    """One frame of a stack handed to limit_leaks' filter_fn, as
    pytest-memray's StackFrame."""
    function: str
    filename: str
    lineno: int


@dataclasses.dataclass(frozen=True)
class Stack:
    """The stack of a block the test left, as pytest-memray's Stack: frames,
    most recent first."""
    frames: tuple


def _size(n):
    return _snapshot._format_size(n, False)


def pytest_addoption(parser):
    group = parser.getgroup("heapsnap")
    group.addoption("--heapsnap", action="store_true", default=False,
                    help="run the tests under heapsnap's shim: per-test memory summary, "
                         "limit_memory and limit_leaks markers enforced")
    group.addoption("--most-allocations", dest="heapsnap_most", type=int, default=5,
                    metavar="N", help="heapsnap: the summary shows the N tests with the "
                                      "highest peak (0: all of them)")
    group.addoption("--hide-heapsnap-summary", action="store_true", default=False,
                    help="heapsnap: no memory summary at the end")


def _shim_for_exec():
    """The libheapsnap.so to preload (_early.shim_for_exec; the CLI found as
    the package finds it)."""
    try:
        cli = _snapshot.cli_path()
    except RuntimeError:
        cli = None
    return _early.shim_for_exec(cli)


def _no_shim_reason():
    """Why no shim was found, naming what HEAPSNAP points at when it is set."""
    cli = os.environ.get("HEAPSNAP")
    if cli and not os.environ.get("HEAPSNAP_SHIM"):
        d = os.path.dirname(os.path.realpath(cli))
        what = ("is not a file" if not os.path.isfile(cli) else
                "has no libheapsnap.so beside it (in %s or %s)"
                % (d, os.path.normpath(os.path.join(d, "..", "lib", "heapsnap"))))
        return ("heapsnap: HEAPSNAP=%s %s: set HEAPSNAP to the heapsnap CLI (build/heapsnap), "
                "or HEAPSNAP_SHIM to libheapsnap.so" % (cli, what))
    return ("heapsnap: libheapsnap.so is not found: set HEAPSNAP_SHIM "
            "to its path, or put the heapsnap CLI on PATH")


def _reexec(config):
    if os.environ.get(_REEXEC):
        raise pytest.UsageError("heapsnap: pytest was run again with the shim preloaded, "
                                "but it is not loaded (LD_PRELOAD=%s)"
                                % os.environ.get("LD_PRELOAD", ""))
    shim = _shim_for_exec()
    if not shim:
        raise pytest.UsageError(_no_shim_reason())
    if _load_here(shim):
        return
    os.chdir(str(config.invocation_params.dir))
    _exec_with(shim, [sys.executable, "-m", "pytest"] + list(config.invocation_params.args))


_exec_with = _early.exec_with


def _load_here(shim):
    """The shim loaded into this process (_early.load_here): True, or False
    after saying why once (the caller runs pytest again under it)."""
    why = _early.load_here(shim)
    if why is None:
        heapsnap._lib = heapsnap._shim()
        return heapsnap._lib is not None
    _early.say_once(why)
    return False


def _asked_early():
    """--heapsnap on the command line of a pytest run from it (pytest, python
    -m pytest) or in PYTEST_ADDOPTS, when this module is imported (pytest
    loads its plugins before it parses its options)."""
    import shlex
    try:
        extra = shlex.split(os.environ.get("PYTEST_ADDOPTS", ""))
    except ValueError:
        extra = []
    args = sys.argv[1:] + extra
    if "--" in args:
        args = args[:args.index("--")]
    main = os.path.basename(sys.argv[0] or "")
    return "--heapsnap" in args and (main.startswith(("pytest", "py.test")) or
                                     main == "__main__.py" and "pytest" in sys.argv[0])


def _reexec_early():
    """The run again under the shim as soon as this module is imported, so
    that the first process pays for little more than pytest's import;
    anything unusual is left to pytest_configure's."""
    if heapsnap.is_loaded() or os.environ.get(_REEXEC) or not _asked_early():
        return
    shim = _shim_for_exec()
    if shim and not _load_here(shim):
        _exec_with(shim, [sys.executable, "-m", "pytest"] + sys.argv[1:])


def pytest_configure(config):
    config.addinivalue_line("markers", "limit_memory(size): fail when the test's peak "
                            "memory over its start exceeds size (with --heapsnap)")
    config.addinivalue_line("markers", "limit_leaks(size, warmups=0): fail when one "
                            "allocation stack of the test leaves more than size allocated "
                            "and live (with --heapsnap)")
    if not config.getoption("heapsnap", False):
        return
    if not heapsnap.is_loaded():
        _reexec(config)
    if not heapsnap._lib.heapsnap_has_dump:
        raise pytest.UsageError("heapsnap: the shim loaded (%s) is older than this "
                                "package" % _snapshot.shim_path())
    config.pluginmanager.register(_Tracker(config), "heapsnap-tracker")


def _dirs_of(*modules):
    out = []
    for m in modules:
        f = getattr(m, "__file__", None)
        if f:
            out.append(os.path.dirname(os.path.abspath(f)) + os.sep)
    return tuple(out)


class _Sites:
    """A test's blocks by site: the innermost Python line that is neither
    pytest's, pluggy's nor heapsnap's; location: the test's Python frames
    (its allocation stack, as pytest-memray's limit_leaks counts)."""

    def __init__(self):
        import _pytest
        import pluggy
        import sysconfig
        self.skip = _dirs_of(pytest, _pytest, pluggy) + (_inproc._OWN_DIR,)
        paths = sysconfig.get_paths()
        self.stdlib = tuple(os.path.abspath(paths[k]) + os.sep for k in ("stdlib", "platstdlib")
                            if paths.get(k))
        self.memo = {}

    def _users(self, filename):
        """A file of the program's own, not the standard library's."""
        return not filename.startswith(("<frozen ",) + self.stdlib)

    def of(self, dump, tbs, tid):
        """(site line or None for pytest's own, the test's frames, the
        native module, the whole stack) of trace tid."""
        got = self.memo.get(tid)
        if got is None:
            stack = tbs.full(dump, tid)
            py = [(f[1], f[2]) for f in stack if f[3] == "<python>"]
            theirs = [i for i, f in enumerate(py) if f[0].startswith(self.skip)]
            if theirs:  # outward of pytest's outermost frame: its runner (runpy, main)
                py = py[:theirs[-1]]
            mine = tuple(f for f in py if not f[0].startswith(self.skip))
            if (py or theirs) and not any(self._users(f[0]) for f in mine):
                got = (None, None, "", stack)  # pytest's work (through the standard library)
            else:
                line = "%s:%s" % mine[0] if mine else "(no Python frame)"
                got = (line, mine, self._native(stack), stack)
            self.memo[tid] = got
        return got

    @staticmethod
    def _native(stack):
        """The innermost native frame's module when it is not the
        interpreter's (a C extension's, a library's)."""
        for fn, _, _, module in stack:
            if module == "<python>":
                return ""
            if not module.startswith(("python", "libpython", "libheapsnap")):
                return "[%s]" % module
        return ""


class _Holders:
    """Who holds each tracked object (gc.get_referrers for all of them),
    from one pass over gc.get_objects()."""

    def __init__(self, objs):
        tracked = {id(o) for o in objs}
        self.by = {}
        for r in objs:
            for x in gc.get_referents(r):
                if id(x) in tracked:
                    self.by.setdefault(id(x), []).append(r)

    def of(self, o):
        return self.by.get(id(o), ())

    def reaches(self, o, roots, bound):
        """Whether one of roots (ids) holds o through at most bound
        holders, breadth first, frames left out (as _retention.path_to)."""
        frame_type = type(sys._getframe())
        seen, queue = {id(o)}, [o]
        for i in range(bound):
            if i >= len(queue):
                return False
            for r in self.of(queue[i]):
                if id(r) in roots:
                    return True
                if id(r) not in seen and not isinstance(r, frame_type):
                    seen.add(id(r))
                    queue.append(r)
        return False


def _group(items):
    """[(size, key)] summed by key, biggest first."""
    out = {}
    for size, k in items:
        out[k] = out.get(k, 0) + size
    return sorted(((s, k) for k, s in out.items()), reverse=True, key=lambda r: r[0])


class _Modules:
    """The process's modules (_inproc's, for a native frame's name) read
    from /proc/self/maps once for the whole run, not once a test, and read
    again only when a frame's address is in none of them (a library loaded
    since), at most once a dump."""

    def __init__(self):
        self.maps = None
        self.fresh = False
        self.reads = 0  # how often the maps were read (the tests' count)

    def stale(self):
        """A new dump: a miss may read the maps again."""
        self.fresh = False

    def name(self, ip):
        got = self.maps.name(ip) if self.maps is not None else "???"
        if got == "???" and not self.fresh:
            self.maps = _inproc._Modules()
            self.fresh = True
            self.reads += 1
            got = self.maps.name(ip)
        return got


class _Tracker:
    def __init__(self, config):
        self.config = config
        self.sites = _Sites()
        self.modules = _Modules()
        self.results = []  # (nodeid, peak, retained, [(size, line, native)])
        self.failed = {}  # nodeid: why its limit failed it (pytest_runtest_makereport)
        self.paused = heapsnap._lib.heapsnap_has_stop and not heapsnap._lib.heapsnap_is_tracing()
        if self.paused:  # the domains wrapped now: the objects alive then are no test's
            _early._wrap_now(heapsnap._lib)

    def _tracebacks(self):
        tbs = _inproc.Tracebacks(None)
        tbs.modules = self.modules
        self.modules.stale()
        return tbs

    def _blocks(self, epoch):
        """[(size, site line, test frames, native, trace)] of the blocks born since
        epoch and still live, pytest's own left out."""
        dump = _inproc.Dump(heapsnap._lib, _inproc.BLOCKS, epoch)
        tbs = self._tracebacks()
        out = []
        for size, _, tid in dump.items():
            line, mine, native, _ = self.sites.of(dump, tbs, tid)
            if line is not None:
                out.append((size, line, mine, native, tid))
        return out

    def _peak_sites(self, start):
        """[(bytes, line, native)] that the peak's capture held over start
        (per-trace sums before the call)."""
        dump = _inproc.Dump(heapsnap._lib, _inproc.PEAK)
        tbs = self._tracebacks()
        rows = {}
        for size, _, tid in dump.items():
            over = size - start.get(tid, 0)
            line, _, native, _ = self.sites.of(dump, tbs, tid)
            if over > 0 and line is not None:
                old = rows.get(line)
                rows[line] = (old[0] + over, old[1]) if old else (over, native)
        return sorted(((s, l, n) for l, (s, n) in rows.items()), reverse=True)

    # trylast: the innermost wrapper, so that pytest's own wrappers of the call
    # (capture, logging, warnings) run unrecorded: less cost, less of their noise
    @pytest.hookimpl(hookwrapper=True, trylast=True)
    def pytest_runtest_call(self, item):
        leaks = item.get_closest_marker("limit_leaks")
        memory = item.get_closest_marker("limit_memory")
        try:
            limits = (self._limit(memory), self._limit(leaks))
        except (TypeError, ValueError) as e:
            outcome = yield
            if outcome.excinfo is None:
                self.failed[item.nodeid] = str(e)
            return
        lib = heapsnap._lib
        if self.paused:
            lib.heapsnap_start()
        if leaks:
            for _ in range(int(leaks.kwargs.get("warmups", 0))):
                item.runtest()
            gc.collect()
        before = None
        if leaks:  # the objects alive before: what the test left is named by its holders
            before = {id(o) for o in gc.get_objects()}
        start = {}
        if memory:  # what each trace held at the start: the peak's sites are over it
            d = _inproc.Dump(lib, _inproc.LIVE)
            start = {tid: size for size, _, tid in d.items()}
        epoch = heapsnap.new_epoch()
        base, _ = heapsnap._totals()
        lib.heapsnap_reset_peak()
        outcome = yield
        _, peak = heapsnap._totals()
        if leaks:
            gc.collect()
        if self.paused:
            lib.heapsnap_stop()
        peak_over = max(0, peak - base)
        blocks = self._blocks(epoch)
        natives = {}
        for b in blocks:  # a line's native frame: its biggest block's
            if b[0] > natives.get(b[1], (-1, ""))[0]:
                natives[b[1]] = (b[0], b[3])
        live = [(s, l, natives[l][1]) for s, l in _group((b[0], b[1]) for b in blocks)]
        retained = sum(b[0] for b in blocks)
        self.results.append((item.nodeid, peak_over, retained, live[:_SITES]))
        if outcome.excinfo is not None:
            return
        if memory and peak_over >= limits[0]:  # as pytest-memray: at the limit fails
            self.failed[item.nodeid] = self._why(
                "peak memory %s over the test's start exceeds the limit %s"
                % (_size(peak_over), _size(limits[0])),
                "allocated at the peak", self._peak_sites(start))
            return
        if leaks:
            keep = leaks.kwargs.get("filter_fn")
            if keep is not None:  # pytest-memray's: a stack it refuses is not counted
                blocks = [b for b in blocks if keep(self._stack(b[4]))]
            over = [(s, loc) for s, loc in _group((b[0], b[2]) for b in blocks)
                    if s >= limits[1]]
            if over:
                lines = ["heapsnap: the test leaves %s allocated and live; %d allocation "
                         "stack(s) over the limit %s:" % (_size(retained), len(over),
                                                           _size(limits[1]))]
                for s, loc in over[:_SITES]:
                    lines.append("  %s: %s" % ("%s:%s" % loc[0] if loc else
                                               "(no Python frame)", _size(s)))
                    lines.extend("      from %s:%s" % f for f in loc[1:4])
                lines.extend("  kept by %s" % p for p in self._kept_by(before))
                self.failed[item.nodeid] = "\n".join(lines)

    # A limit fails the call's report here, as pytest-memray does, not by
    # raising in the call's wrapper: under pluggy 1.0 that skips the outer
    # wrappers' ends (capture stays on and swallows the test's FAILED line)
    @pytest.hookimpl(hookwrapper=True)
    def pytest_runtest_makereport(self, item, call):
        outcome = yield
        why = self.failed.pop(item.nodeid, None) if call.when == "call" else None
        report = outcome.get_result()
        if why is not None and report.passed:
            report.outcome, report.longrepr = "failed", why

    def _kept_by(self, before):
        """The retention paths (_retention) of the objects the test left
        that something older holds: from a module's global of the program's
        (not pytest's, pluggy's, heapsnap's or the standard library's).
        Who holds whom is read once, in one pass over the tracked objects
        (_Holders); _retention.path_to, which scans every object at each
        step, writes the path of an object only once that map found one
        (a search that finds nothing cost it seconds on pytest's heap)."""
        def module_ok(name, m):
            f = getattr(m, "__file__", None) or ""
            return name == "__main__" or (f and not f.startswith(self.sites.skip) and
                                          self.sites._users(f))
        objs = gc.get_objects()
        new = [o for o in objs if id(o) not in before]
        # A dict or tuple that holds nothing tracked is untracked (`CACHE =
        # {}`): it shows as new once the test filled it.  As a holder it
        # may be old, so the objects it holds are named through it; it is
        # named itself only when it holds no new object
        new_ids = {id(o) for o in new if not isinstance(o, (dict, tuple))}
        all_new = {id(o) for o in new}
        held = _Holders(objs)
        roots = {id(getattr(m, "__dict__", None)) for name, m in list(sys.modules.items())
                 if module_ok(name, m)}
        out = []
        for o in new:
            if len(out) == _SITES:
                break
            if isinstance(o, (dict, tuple)) and any(id(r) in all_new
                                                    for r in gc.get_referents(o)):
                continue
            holders = [r for r in held.of(o) if id(r) not in new_ids]
            if not holders:  # held by another new object: that one is named
                continue
            if not held.reaches(o, roots, _retention._MAX_NODES):
                continue
            p = _retention.path_to(o, (objs, new, holders), module_ok)
            if p and p not in out:
                out.append(p)
        return out

    def _stack(self, tid):
        """Trace tid as pytest-memray hands a stack to limit_leaks' filter_fn:
        every frame, most recent first; a native one as (its address, its
        module, 0)."""
        return Stack(tuple(StackFrame(qn, fn, line) if module == "<python>" else
                           StackFrame(qn, "[%s]" % module, 0)
                           for qn, fn, line, module in self.sites.memo[tid][3]))

    @staticmethod
    def _limit(mark):
        """The marker's size in bytes, None without the marker: its first
        argument or pytest-memray's keyword (limit, location_limit)."""
        if mark is None:
            return None
        kw = mark.kwargs
        size = mark.args[0] if mark.args else next(
            (kw[k] for k in ("limit", "location_limit", "size", "memory_limit") if k in kw),
            None)
        if size is None:
            raise TypeError("heapsnap: @pytest.mark.%s needs a size: %s(\"24 MB\")"
                            % (mark.name, mark.name))
        return parse_size(size)

    @staticmethod
    def _why(head, what, sites):
        lines = ["heapsnap: " + head, "top sites, %s:" % what]
        for size, line, native in sites[:_SITES]:
            lines.append("  %s: %s%s" % (line, _size(size), "  (native: %s)" % native
                                         if native else ""))
        return "\n".join(lines)

    def pytest_terminal_summary(self, terminalreporter):
        if self.config.getoption("hide_heapsnap_summary", False):
            return
        tr = terminalreporter
        most = self.config.getoption("heapsnap_most", 5)
        rows = sorted(self.results, key=lambda r: -r[1])
        tr.section("heapsnap memory summary")
        for nodeid, peak, retained, sites in rows[:most] if most > 0 else rows:
            tr.write_line("%s: peak %s, allocated and still live %s" % (nodeid, _size(peak),
                                                                _size(retained)))
            for size, line, native in sites[:3]:
                tr.write_line("    %s: %s%s" % (line, _size(size), "  (native: %s)" % native
                                                if native else ""))


_reexec_early()
