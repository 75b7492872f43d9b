"""heapsnap.pytest_plugin - memory limits and a memory summary for pytest.

`pytest --heapsnap` (the plugin is a pytest11 entry point, or `-p
heapsnap.pytest_plugin`) runs the tests under the shim: when it is not
preloaded, pytest is executed again with LD_PRELOAD set to it.  Each test's
call is measured between two snapshots: its peak over what was live at its
start (the shim's traced peak, reset at the start) and what it allocated
and still holds at its end (the blocks born since the start: a birth epoch
taken then).  The sites come from `heapsnap diff START END@peak` and `top
--born-since`, by traceback: the innermost Python line and the innermost
native frame of each.  Markers, enforced under --heapsnap only:
  @pytest.mark.limit_memory("24 MB")          the peak over the start
  @pytest.mark.limit_leaks("1 MB", warmups=N) live after the test, allocated
                                              in it (after N warm-up calls)
"""

import gc
import os
import re
import shutil
import sys
import tempfile

import pytest

import heapsnap
from heapsnap import _snapshot

_UNITS = {"": 1, "B": 1, "KB": 1000, "MB": 1000 ** 2, "GB": 1000 ** 3,
          "KIB": 1024, "MIB": 1024 ** 2, "GIB": 1024 ** 3,
          "K": 1024, "M": 1024 ** 2, "G": 1024 ** 3}
_REEXEC = "HEAPSNAP_PYTEST_REEXEC"
_SITES = 5  # sites named per test


def parse_size(text):
    """Bytes of "24 MB", "1.5MiB", "512 KB", 4096 (KB, MB: powers of 1000;
    KiB, MiB and K, M: of 1024)."""
    if isinstance(text, (int, float)):
        return int(text)
    m = re.fullmatch(r"\s*([0-9]*\.?[0-9]+)\s*([A-Za-z]*)\s*", str(text))
    if not m or m.group(2).upper() not in _UNITS:
        raise ValueError("heapsnap: bad memory size %r (e.g. \"24 MB\", \"512 KiB\")" % text)
    return int(float(m.group(1)) * _UNITS[m.group(2).upper()])


def _size(n):
    return _snapshot._format_size(n, False)


def pytest_addoption(parser):
    group = parser.getgroup("heapsnap")
    group.addoption("--heapsnap", action="store_true", default=False,
                    help="run the tests under heapsnap's shim: per-test memory summary, "
                         "limit_memory and limit_leaks markers enforced")


def _shim_for_exec():
    """The libheapsnap.so to preload: $HEAPSNAP_SHIM, or beside the CLI
    (a build tree's build/, an install's lib/heapsnap/)."""
    env = os.environ.get("HEAPSNAP_SHIM")
    if env:
        return env
    try:
        cli = os.path.realpath(_snapshot.cli_path())
    except RuntimeError:
        return None
    d = os.path.dirname(cli)
    for c in (os.path.join(d, "libheapsnap.so"),
              os.path.join(d, "..", "lib", "heapsnap", "libheapsnap.so")):
        if os.path.isfile(c):
            return os.path.normpath(c)
    return None


def _reexec(config):
    if os.environ.get(_REEXEC):
        raise pytest.UsageError("heapsnap: pytest was run again with the shim preloaded, "
                                "but it is not loaded (LD_PRELOAD=%s)"
                                % os.environ.get("LD_PRELOAD", ""))
    shim = _shim_for_exec()
    if not shim:
        raise pytest.UsageError("heapsnap: libheapsnap.so is not found: set HEAPSNAP_SHIM "
                                "to its path, or put the heapsnap CLI on PATH")
    env = dict(os.environ)
    env["LD_PRELOAD"] = (shim + " " + env["LD_PRELOAD"]).strip() if env.get("LD_PRELOAD") \
        else shim
    env[_REEXEC] = "1"
    env.setdefault("HEAPSNAP_OUTPUT",
                   os.path.join(tempfile.gettempdir(), "heapsnap-pytest.%p.hsnap"))
    sys.stdout.flush()
    sys.stderr.flush()
    argv = [sys.executable, "-m", "pytest"] + list(config.invocation_params.args)
    os.chdir(str(config.invocation_params.dir))
    os.execve(sys.executable, argv, env)


def pytest_configure(config):
    config.addinivalue_line("markers", "limit_memory(size): fail when the test's peak "
                            "memory over its start exceeds size (with --heapsnap)")
    config.addinivalue_line("markers", "limit_leaks(size, warmups=0): fail when the test "
                            "leaves more than size allocated and live (with --heapsnap)")
    if not config.getoption("heapsnap", False):
        return
    if not heapsnap.is_loaded():
        _reexec(config)
    config.pluginmanager.register(_Tracker(config), "heapsnap-tracker")


def _sites(groups, field):
    """[(bytes, python line, native frame)] from traceback groups, by field,
    biggest first; heapsnap's own traces left out."""
    out = []
    for g in groups:
        if g.get(field, 0) <= 0:
            continue
        stack = g.get("frames") or []
        py = [f for f in stack if f.get("module") == "<python>"]
        if any((f.get("file") or "").startswith(_snapshot._OWN_DIR) for f in py):
            continue
        line = "%s:%s" % (py[0].get("file"), py[0].get("line")) if py else "(no Python frame)"
        native = ""
        for f in stack:  # the native frames inside the Python line, innermost
            if f.get("module") == "<python>":
                break
            native = native or "%s %s" % (f.get("function"), "%s:%s" % (f["file"], f["line"])
                                          if f.get("file") else "[%s]" % f.get("module"))
        out.append((g[field], line, native))
    merged = {}
    for size, line, native in sorted(out, reverse=True):
        old = merged.get(line)
        merged[line] = (old[0] + size, old[1]) if old else (size, native)
    return sorted(((s, l, n) for l, (s, n) in merged.items()), reverse=True)


class _Tracker:
    def __init__(self, config):
        self.config = config
        self.dir = tempfile.mkdtemp(prefix="heapsnap-pytest-")
        self.results = []  # (nodeid, peak, retained, sites)

    @pytest.hookimpl(hookwrapper=True)
    def pytest_runtest_call(self, item):
        leaks = item.get_closest_marker("limit_leaks")
        memory = item.get_closest_marker("limit_memory")
        if leaks:
            for _ in range(int(leaks.kwargs.get("warmups", 0))):
                item.runtest()
        gc.collect()
        n = len(self.results)
        start = os.path.join(self.dir, "%d-start.hsnap" % n)
        end = os.path.join(self.dir, "%d-end.hsnap" % n)
        if memory:  # the sites at the peak are START to END@peak
            heapsnap.write_snapshot(start)
        epoch = heapsnap.new_epoch()
        base, _ = heapsnap.get_traced_memory()
        heapsnap.reset_peak()
        outcome = yield
        gc.collect()
        _, peak = heapsnap.get_traced_memory()
        heapsnap.write_snapshot(end)
        peak_over = max(0, peak - base)
        peak_sites = []
        try:
            live = _snapshot.cli_json(["top", end, "--key", "traceback", "-n", "0",
                                       "--format", "json", "--born-since", str(epoch)])
            if memory and outcome.excinfo is None and peak_over > self._limit(memory):
                at_peak = _snapshot.cli_json(["diff", start, end + "@peak", "--key",
                                              "traceback", "-n", "40", "--format", "json"])
                peak_sites = _sites(at_peak["groups"], "bytes_diff")
        finally:
            for p in (start, end):
                try:
                    os.unlink(p)
                except OSError:
                    pass
        live_sites = _sites(live["groups"], "bytes")
        retained = sum(s for s, _, _ in live_sites)
        self.results.append((item.nodeid, peak_over, retained, live_sites[:_SITES]))
        if outcome.excinfo is not None:
            return
        if memory:
            limit = self._limit(memory)
            if peak_over > limit:
                pytest.fail(self._why("peak memory %s over the test's start exceeds the limit "
                                      "%s" % (_size(peak_over), _size(limit)),
                                      "allocated at the peak", peak_sites), pytrace=False)
        if leaks:
            limit = self._limit(leaks)
            if retained > limit:
                pytest.fail(self._why("the test leaves %s allocated and live, over the limit "
                                      "%s" % (_size(retained), _size(limit)),
                                      "still live", live_sites), pytrace=False)

    @staticmethod
    def _limit(mark):
        return parse_size(mark.args[0] if mark.args else mark.kwargs["size"])

    @staticmethod
    def _why(head, what, sites):
        lines = ["heapsnap: " + head, "top sites, %s:" % what]
        for size, line, native in sites[:_SITES]:
            lines.append("  %s: %s%s" % (line, _size(size), "  (native: %s)" % native
                                         if native else ""))
        return "\n".join(lines)

    def pytest_terminal_summary(self, terminalreporter):
        tr = terminalreporter
        tr.section("heapsnap memory summary")
        for nodeid, peak, retained, sites in sorted(self.results, key=lambda r: -r[1]):
            tr.write_line("%s: peak %s, allocated and still live %s" % (nodeid, _size(peak),
                                                                _size(retained)))
            for size, line, native in sites[:3]:
                tr.write_line("    %s: %s%s" % (line, _size(size), "  (native: %s)" % native
                                                if native else ""))

    def pytest_unconfigure(self, config):
        shutil.rmtree(self.dir, ignore_errors=True)
