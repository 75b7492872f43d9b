#!/usr/bin/env python3
"""pycost.py - what Python frames cost (issue 32, item 9), side by side.

Three Python workloads, each run in one interleaved series of rounds under:
plain python3; heapsnap with HEAPSNAP_PYTHON=off (native frames only);
heapsnap's default (Python frames spliced in); `-X tracemalloc=25`.  The
workloads: scripts/bench/programs/jsonwork.py (json-heavy) and
scripts/bench/programs/dicts.py (the main bench's python workload), both PYTHONMALLOC=malloc as the main
bench runs them, and scripts/bench/pywork.py with pymalloc on.  Each round
runs every workload's modes one after the other, so the machine's load hits
them alike; a cell is the median over the rounds of the ratio within a
round.  Peak RSS is each process's own (wait4's ru_maxrss).

The targets (issue 32): heapsnap over HEAPSNAP_PYTHON=off at most 1.3x on
json and dicts; heapsnap's peak RSS over plain at most 1.25x on dicts and pywork;
heapsnap's overhead (ratio - 1) at most a third of tracemalloc=25's.

usage: scripts/bench/pycost.py [--rounds N] [--python PATH] [--quick] [--md FILE]
                               [--only NAME[,NAME]]
"""
import argparse
import os
import statistics
import subprocess
import sys
import tempfile
import time

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
SHIM = os.path.join(ROOT, os.environ.get("BUILD", "build"), "libheapsnap.so")
MALLOC = {"PYTHONMALLOC": "malloc"}

# name, script, (full size, quick size), environment
WORKLOADS = [
    ("json", "scripts/bench/programs/jsonwork.py", ("10", "2"), MALLOC),
    ("dicts", "scripts/bench/programs/dicts.py", ("150", "20"), MALLOC),
    ("pywork", "scripts/bench/pywork.py", ("1", "1"), {}),
]
MODES = ["plain", "off", "heapsnap", "tracemalloc=25"]


def command(py, mode, script, size, tmp):
    env = dict(os.environ, PYTHONHASHSEED="0")
    args = [py]
    if mode in ("off", "heapsnap"):
        env.update(LD_PRELOAD=SHIM, HEAPSNAP_OUTPUT=os.path.join(tmp, "c.%p.hsnap"))
        if mode == "off":
            env["HEAPSNAP_PYTHON"] = "off"
    if mode == "tracemalloc=25":
        args += ["-X", "tracemalloc=25"]
    return args + [os.path.join(ROOT, script), size], env


def run(argv, env):
    """Wall seconds and the process's own peak RSS (KiB)."""
    t = time.monotonic()
    p = subprocess.Popen(argv, env=env, stdout=subprocess.PIPE)
    out = p.stdout.read()
    _, status, ru = os.wait4(p.pid, 0)
    wall = time.monotonic() - t
    p.returncode = os.waitstatus_to_exitcode(status)
    if p.returncode != 0:
        sys.exit("pycost: %s exited %d" % (" ".join(argv), p.returncode))
    return wall, ru.ru_maxrss, out


def workloads(o):
    """The workloads --only names (all by default)."""
    return [w for w in WORKLOADS if not o.only or w[0] in o.only.split(",")]


def measure(o, tmp):
    """{(workload, mode): [(wall, rss), ...]} over o.rounds interleaved rounds."""
    got = {}
    for r in range(o.rounds + 1):  # round 0 warms the caches up, not counted
        for name, script, sizes, wenv in workloads(o):
            size = sizes[1 if o.quick else 0]
            want = None
            for mode in MODES:
                argv, env = command(o.python, mode, script, size, tmp)
                env.update(wenv)
                wall, rss, out = run(argv, env)
                if want is None:
                    want = out
                elif out != want:
                    sys.exit("pycost: %s %s printed %r, plain %r" % (name, mode, out, want))
                if r:
                    got.setdefault((name, mode), []).append((wall, rss))
                for f in os.listdir(tmp):
                    os.unlink(os.path.join(tmp, f))
    return got


def ratio(got, name, a, b, i):
    """Median over the rounds of a's figure i over b's, round by round."""
    return statistics.median(x[i] / y[i] for x, y in zip(got[(name, a)], got[(name, b)]))


def table(got, o):
    rows = ["| workload | plain (s) | off | heapsnap | tracemalloc=25 | heapsnap / off "
            "(target 1.30x) | overhead / tracemalloc's (target 0.33) | peak RSS: plain MiB, "
            "off, heapsnap, tracemalloc=25 |",
            "|---|--:|--:|--:|--:|--:|--:|--:|"]
    verdicts = []
    for name, script, sizes, wenv in workloads(o):
        med = lambda m, i: statistics.median(x[i] for x in got[(name, m)])
        r = {m: ratio(got, name, m, "plain", 0) for m in MODES}
        m = {m: ratio(got, name, m, "plain", 1) for m in MODES}
        hs_off = ratio(got, name, "heapsnap", "off", 0)
        share = (r["heapsnap"] - 1) / (r["tracemalloc=25"] - 1)
        rows.append("| %s | %.2f | %.2fx | %.2fx | %.2fx | %.2fx | %.2f | %.0f, %.2fx, %.2fx, %.2fx |" % (
            name, med("plain", 0), r["off"], r["heapsnap"], r["tracemalloc=25"], hs_off, share,
            med("plain", 1) / 1024, m["off"], m["heapsnap"], m["tracemalloc=25"]))
        if name != "pywork":
            verdicts.append("%s: heapsnap / off %.2fx (%s)" % (
                name, hs_off, "ok" if hs_off <= 1.3 else "OVER 1.30x"))
        verdicts.append("%s: overhead %.2f of tracemalloc=25's (%s)" % (
            name, share, "ok" if share <= 1 / 3 else "OVER a third"))
        if name in ("dicts", "pywork"):
            verdicts.append("%s: peak RSS %.2fx plain (%s)" % (
                name, m["heapsnap"], "ok" if m["heapsnap"] <= 1.25 else "OVER 1.25x"))
    head = "%d rounds%s, %s, HEAPSNAP_STATE=%s, load average %s" % (
        o.rounds, " (quick sizes)" if o.quick else "", o.python,
        os.environ.get("HEAPSNAP_STATE", "(the default)"),
        " ".join("%.1f" % x for x in os.getloadavg()))
    return "\n".join(rows) + "\n\n" + head + "\n\n" + "\n".join("* " + v for v in verdicts) + "\n"


def main(argv):
    ap = argparse.ArgumentParser()
    ap.add_argument("--rounds", type=int, default=7)
    ap.add_argument("--python", default="/usr/bin/python3")
    ap.add_argument("--quick", action="store_true", help="small sizes, for a check of the script")
    ap.add_argument("--md", help="also write the table to this file")
    ap.add_argument("--only", help="run only these workloads (json, dicts, pywork; comma-separated)")
    o = ap.parse_args(argv)
    if not os.path.exists(SHIM):
        sys.exit("pycost: build the shim first (make)")
    with tempfile.TemporaryDirectory() as tmp:
        out = table(measure(o, tmp), o)
    print(out, end="")
    if o.md:
        with open(o.md, "w") as f:
            f.write(out)


if __name__ == "__main__":
    main(sys.argv[1:])
