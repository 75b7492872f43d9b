#!/usr/bin/env python3
"""The instructions heapsnap spends recording a Python process's start-up
(issue 47 item 6), counted by callgrind: the same count on every run,
where CPU seconds on a shared machine move by a fifth.

The workload is an interpreter's start-up and a few standard imports
(`PYTHON -S -c 'import json, argparse, email.parser'`: no site-packages,
so no .pth of the machine's; PYTHONHASHSEED=0), run under
`setarch -R valgrind --tool=callgrind` plain and with the shim preloaded
(HEAPSNAP_STATE=0 and HEAPSNAP_SITELINE=0: the state documents and the
memory-over-time walks come on the clock).  Printed: the process's
instructions plain and with the shim, `stacks`: the instructions of
hook_stack (everything past the unwinder's memo: the Python frames' walk,
the recent splices, the native walk, the splice and the intern), and
`again`: those of unwind_again (the memo's test for an exact repeat, made
on every allocation before hook_stack).

  scripts/bench/pystartcount.py [PYTHON]            # the figures
  scripts/bench/pystartcount.py --check [PYTHON]    # the drift test
  scripts/bench/pystartcount.py --record [PYTHON]   # rewrite PYTHON's line
  (--save FILE writes the figure measured; --measured FILE takes it from
  there instead of a run; --counts FILE checks against FILE)

--check fails (exit 1) when a figure is more than 5% over the one
scripts/bench/pystart.counts records for PYTHON's version, and exits 3
when it records no `stacks` for it.  PYTHON: by default the pyenv 3.11 build, else
python3.11 on PATH.
"""

import argparse
import glob
import os
import shutil
import subprocess
import sys
import tempfile

sys.dont_write_bytecode = True
sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import phasecost  # noqa: E402
from instrcount import inclusive, read_counts  # noqa: E402

ROOT = os.path.abspath(os.path.join(os.path.dirname(__file__), "..", ".."))
COUNTS = os.path.join(ROOT, "scripts/bench/pystart.counts")
CODE = "import json, argparse, email.parser"
ENV = {"PYTHONHASHSEED": "0"}
QUIET = {"HEAPSNAP_STATE": "0", "HEAPSNAP_SITELINE": "0"}
DRIFT = 1.05
FIGURES = ("stacks", "again")


def default_python():
    for p in sorted(glob.glob(os.path.expanduser("~/.pyenv/versions/3.11.*/bin/python3.11"))):
        return p
    return shutil.which("python3.11")


def version(py):
    return subprocess.run([py, "-c", "import platform; print(platform.python_version())"],
                          capture_output=True, text=True, check=True).stdout.strip()


def measure(py, shim, work):
    """{plain, shim, stacks} for PYTHON."""
    argv = [py, "-S", "-c", CODE]
    plain, _, _ = phasecost.parse(phasecost.callgrind(argv, ENV, work, "plain"), None)
    out = phasecost.callgrind(argv, dict(ENV, LD_PRELOAD=shim, **QUIET), work, "shim")
    total, _, _ = phasecost.parse(out, os.path.realpath(shim))
    inc = inclusive(out)
    return {"plain": plain, "shim": total, "stacks": inc.get("hook_stack", 0),
            "again": inc.get("unwind_again", 0)}


def main(argv):
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("python", nargs="?")
    g = ap.add_mutually_exclusive_group()
    g.add_argument("--check", action="store_true")
    g.add_argument("--record", action="store_true")
    ap.add_argument("--counts", default=COUNTS, help="the recorded figures (--check)")
    ap.add_argument("--save", help="write the figure measured to SAVE (a counts line)")
    ap.add_argument("--measured", help="take the figure from MEASURED (--save's) instead of a run")
    a = ap.parse_args(argv)
    py = a.python or default_python()
    if not py:
        print("pystartcount: no python3.11 (give an interpreter)", file=sys.stderr)
        return 2
    shim = os.path.join(ROOT, os.environ.get("BUILD", "build"), "libheapsnap.so")
    ver = version(py)
    if a.measured:
        got = read_counts(a.measured)
        m = {f: got[(ver, f)] for f in FIGURES if (ver, f) in got}
    else:
        with tempfile.TemporaryDirectory() as work:
            m = measure(py, shim, work)
        print("%s -S -c '%s' (Python %s), callgrind, setarch -R:" % (py, CODE, ver))
        print("  plain %d instructions; with the shim %d (+%d)" %
              (m["plain"], m["shim"], m["shim"] - m["plain"]))
        print("  stacks (hook_stack): %d instructions" % m["stacks"])
        print("  again (unwind_again): %d instructions" % m["again"])
    if a.save:
        with open(a.save, "w") as f:
            f.writelines("%s %s %d\n" % (ver, k, m[k]) for k in FIGURES if k in m)
    if a.record:
        lines = [l for l in open(a.counts)] if os.path.exists(a.counts) else []
        lines = [l for l in lines if not any(l.startswith("%s %s " % (ver, k)) for k in FIGURES)]
        lines += ["%s %s %d\n" % (ver, k, m[k]) for k in FIGURES]
        with open(a.counts, "w") as f:
            f.writelines(lines)
        print("recorded in %s" % a.counts)
    if a.check:
        rec = read_counts(a.counts) if os.path.exists(a.counts) else {}
        if (ver, "stacks") not in rec:
            print("pystartcount: %s records no figure for Python %s" % (a.counts, ver))
            return 3
        bad = 0
        for k in FIGURES:
            want = rec.get((ver, k))
            if want is None or k not in m:
                continue
            over = m[k] > want * DRIFT
            bad |= over
            print("  %s: %d against %d recorded (%+.1f%%)%s" %
                  (k, m[k], want, 100.0 * (m[k] - want) / want, ": OVER 5%" if over else ""))
        return 1 if bad else 0
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
