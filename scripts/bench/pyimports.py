#!/usr/bin/env python3
"""pyimports.py - what a big Python program pays under heapsnap and under
tracemalloc (issue 70, items 3 and 4), in one interleaved run.

Workloads (Debian's python3 with python3-torch, -pandas and -sklearn:
scripts/install-deps.sh pyml):
  pass    python3 -c pass
  torch   python3 -c 'import torch'                      (CPU)
  pdsk    python3 -c 'import pandas, sklearn'
  frames  scripts/bench/programs/frames.py  (merges, groupbys, a pivot
          on 100k-row frames)
  train   scripts/bench/programs/torchtrain.py (import torch, a 2-layer
          MLP trained 20 steps: item 4's program; only with --leaks)
Modes: plain; -X tracemalloc=1 (tm1); -X tracemalloc=64 (tm64);
`heapsnap run -q -- ...` with the default configuration (heapsnap: the
shim, the exit snapshot and the CLI's wait for it); caller: the same with
HEAPSNAP_PYTHON_NATIVE=caller (no native walk under Python code: one
native frame, the allocator's caller; not in the default modes); shim:
the shim alone (LD_PRELOAD, the exit snapshot, no CLI; not in the default
modes); and, with --leaks, `heapsnap run --leaks -- ...` (leaks).

Each round runs every (workload, mode) once, in order, so that the shared
machine's load hits them alike; a cell is the median over the rounds.
wall: seconds; cpu: user+sys of the process and everything it waited for
(wait4's rusage: the CLI, the program, the leak check's copy); rss: the
largest peak RSS among them (MiB).  Ratios are to plain's median.
own: the profiler's own memory: for heapsnap the snapshot's `shim memory`
(`heapsnap info`: the shim's arena as mapped); for tracemalloc
tracemalloc.get_tracemalloc_memory() at exit, measured in one extra run
per workload (a variant whose -c code prints it from an atexit hook).
stop: for leaks, the pause `heapsnap run --leaks` reports the program saw.

  scripts/bench/pyimports.py [--rounds N] [--only W[,W]] [--modes M[,M]]
                             [--leaks] [--python PATH] [--md FILE]
"""
import argparse
import glob
import os
import re
import shutil
import statistics
import subprocess
import sys
import tempfile
import time

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
BUILD = os.environ.get("BUILD", "build")
HEAPSNAP = os.path.join(ROOT, BUILD, "heapsnap")
PROG = os.path.join(ROOT, "scripts", "bench", "programs")

WORKLOADS = {
    "pass": ["-c", "pass"],
    "torch": ["-c", "import torch"],
    "pdsk": ["-c", "import pandas, sklearn"],
    "frames": [os.path.join(PROG, "frames.py")],
    "train": [os.path.join(PROG, "torchtrain.py")],
}
TM_EXIT = ("import atexit, sys, tracemalloc; atexit.register(lambda: sys.stderr.write("
           "'TMMEM %d\\n' % tracemalloc.get_tracemalloc_memory()))\n")


def command(py, mode, wl, tmp):
    args = list(WORKLOADS[wl])
    if mode in ("tm1", "tm64"):
        return [py, "-X", "tracemalloc=" + mode[2:]] + args
    if mode == "shim":
        return ["env", "LD_PRELOAD=" + os.path.join(ROOT, BUILD, "libheapsnap.so"),
                "HEAPSNAP_OUTPUT=" + os.path.join(tmp, "%e.%p.hsnap"), py] + args
    if mode in ("heapsnap", "leaks", "caller"):
        extra = ["--leaks"] if mode == "leaks" else ["-q"]
        env = ["env", "HEAPSNAP_PYTHON_NATIVE=caller"] if mode == "caller" else []
        return env + [HEAPSNAP, "run"] + extra + ["--output-dir", tmp, "--", py] + args
    return [py] + args


def run(argv):
    """wall s, cpu s (self and waited-for descendants), peak RSS MiB, stderr."""
    t = time.monotonic()
    with tempfile.TemporaryFile() as err:
        p = subprocess.Popen(argv, stdout=subprocess.DEVNULL, stderr=err)
        _, status, ru = os.wait4(p.pid, 0)
        wall = time.monotonic() - t
        err.seek(0)
        text = err.read().decode(errors="replace")
    if status != 0:
        sys.exit("pyimports: %s failed (%d): %s" % (" ".join(argv), status, text[-400:]))
    return wall, ru.ru_utime + ru.ru_stime, ru.ru_maxrss / 1024.0, text


def shim_memory(tmp, py):
    """The shim's own memory (MiB) from the program's snapshot in tmp."""
    snaps = sorted(glob.glob(os.path.join(tmp, "*.hsnap")), key=os.path.getsize)
    for s in reversed(snaps):  # the interpreter's, the largest
        out = subprocess.run([HEAPSNAP, "info", s], capture_output=True, text=True).stdout
        m = re.search(r"^shim memory: +([0-9.]+) (B|KiB|MiB|GiB)", out, re.M)
        if m:
            scale = {"B": 1 / 1048576, "KiB": 1 / 1024, "MiB": 1, "GiB": 1024}[m.group(2)]
            return float(m.group(1)) * scale
    return None


def stop_seconds(text):
    m = re.search(r"stopped for ([0-9.]+) (ms|s)\b", text)
    if not m:
        return None
    return float(m.group(1)) / (1000 if m.group(2) == "ms" else 1)


def tm_memory(py, mode, wl):
    args = list(WORKLOADS[wl])
    if args[0] == "-c":
        code = TM_EXIT + args[1]
        args = ["-c", code]
    else:
        code = TM_EXIT + "import runpy, sys; sys.argv = %r; runpy.run_path(%r, run_name='__main__')" % (
            args, args[0])
        args = ["-c", code]
    _, _, _, text = run([py, "-X", "tracemalloc=" + mode[2:]] + args)
    m = re.search(r"^TMMEM (\d+)$", text, re.M)
    return int(m.group(1)) / 1048576.0 if m else None


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--rounds", type=int, default=3)
    ap.add_argument("--only", default="pass,torch,pdsk,frames")
    ap.add_argument("--modes", default="plain,tm1,tm64,heapsnap")
    ap.add_argument("--leaks", action="store_true", help="also train under run --leaks")
    ap.add_argument("--no-tmmem", action="store_true", help="skip the tracemalloc memory runs")
    ap.add_argument("--python", default="/usr/bin/python3")
    ap.add_argument("--md", help="also write the table as markdown to FILE")
    a = ap.parse_args()
    wls = [w for w in a.only.split(",") if w]
    for w in wls:
        if w not in WORKLOADS:
            print("pyimports: unknown workload '%s'" % w, file=sys.stderr)
            return 2
    modes = [m for m in a.modes.split(",") if m]
    plan = [(w, m) for w in wls for m in modes]
    if a.leaks:
        if "train" not in wls:
            plan += [("train", "plain")]
        plan += [("train", "leaks")]
    if not os.access(HEAPSNAP, os.X_OK):
        print("pyimports: %s not built (make all)" % HEAPSNAP, file=sys.stderr)
        return 2
    cells = {k: [] for k in plan}
    own = {}
    stops = []
    for r in range(a.rounds):
        for w, m in plan:
            tmp = tempfile.mkdtemp(prefix="pyimports.")
            try:
                wall, cpu, rss, text = run(command(a.python, m, w, tmp))
                cells[(w, m)].append((wall, cpu, rss))
                if m in ("heapsnap", "shim", "leaks", "caller") and r == 0:
                    own[(w, m)] = shim_memory(tmp, a.python)
                if m == "leaks":
                    stops.append(stop_seconds(text))
                    if r == 0:
                        sys.stderr.write(text)
            finally:
                shutil.rmtree(tmp, ignore_errors=True)
            print("round %d %-6s %-8s wall %6.2f s cpu %6.2f s rss %6.0f MiB" %
                  (r + 1, w, m, wall, cpu, rss), file=sys.stderr, flush=True)
    if not a.no_tmmem:
        for w, m in plan:
            if m in ("tm1", "tm64"):
                own[(w, m)] = tm_memory(a.python, m, w)
    lines = ["| workload | mode | wall s | x plain | cpu s | x plain | peak RSS MiB | x plain | own MiB |",
             "|---|---|---|---|---|---|---|---|---|"]
    for w, m in plan:
        med = [statistics.median(c[i] for c in cells[(w, m)]) for i in range(3)]
        base = [statistics.median(c[i] for c in cells[(w, "plain")]) for i in range(3)] \
            if (w, "plain") in cells else med
        o = own.get((w, m))
        lines.append("| %s | %s | %.2f | %.2f | %.2f | %.2f | %.0f | %.2f | %s |" % (
            w, m, med[0], med[0] / base[0], med[1], med[1] / base[1], med[2], med[2] / base[2],
            "%.1f" % o if o is not None else "-"))
    if stops:
        got = [s for s in stops if s is not None]
        lines.append("")
        lines.append("train under run --leaks: the program stopped %s s (median of %d; %s)" % (
            "%.3f" % statistics.median(got) if got else "?", len(got),
            "printed by run" if got else "run printed no stop"))
    lines.append("")
    lines.append("(%d rounds, medians; %s; %s)" % (a.rounds, a.python, time.strftime("%Y-%m-%d")))
    print("\n".join(lines))
    if a.md:
        with open(a.md, "w") as f:
            f.write("\n".join(lines) + "\n")
    return 0


if __name__ == "__main__":
    sys.exit(main())
