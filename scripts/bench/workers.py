#!/usr/bin/env python3
"""workers.py - what a forked worker costs under heapsnap beside its parent
(issue 70, item 6: "workers at the same cost").

scripts/bench/programs/poolwork.py N DICTS MODULE... runs a parent that
imports MODULE... (--import: a big import, pandas or torch), builds DICTS
dicts (--dicts, default 200,000) and does one share of work, then a fork
Pool of N workers that do one share each.  Each round runs N = 0 and N = 4,
plain and under `heapsnap run` (and under --base's heapsnap, another build
to compare with, when given), one after the other; a figure is the median
over the rounds of the CPU seconds (user + system, the process and its
waited children: wait4's rusage), so the machine's load moves it less than
wall time, and of the wall seconds beside it.  Printed: the parent alone
(N = 0) plain and under heapsnap with its ratio, and a worker's cost (the
difference N = 4 less N = 0, over 4) plain and under heapsnap with its
ratio.  The goal: a worker's ratio at most the parent's.

usage: scripts/bench/workers.py [--rounds N] [--python PATH] [--heapsnap PATH]
                                [--base PATH] [--dicts N] [--import MODULE]...
"""
import argparse
import os
import statistics
import tempfile
import time

HERE = os.path.dirname(os.path.abspath(__file__))
PROG = os.path.join(HERE, "programs", "poolwork.py")


def cpu(cmd):
    """CPU and wall seconds of cmd and its waited children."""
    t0 = time.monotonic()
    pid = os.fork()
    if pid == 0:
        devnull = os.open(os.devnull, os.O_WRONLY)
        os.dup2(devnull, 1)
        os.dup2(devnull, 2)
        os.execvp(cmd[0], cmd)
    _, status, ru = os.wait4(pid, 0)
    if os.waitstatus_to_exitcode(status) != 0:
        raise SystemExit("workers.py: %s failed" % " ".join(cmd))
    return ru.ru_utime + ru.ru_stime, time.monotonic() - t0


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--rounds", type=int, default=5)
    ap.add_argument("--python", default="/usr/bin/python3")
    ap.add_argument("--heapsnap", default=os.path.join(HERE, "..", "..", "build", "heapsnap"))
    ap.add_argument("--base", help="another heapsnap build, measured in the same rounds")
    ap.add_argument("--dicts", type=int, default=200000)
    ap.add_argument("--import", dest="imports", action="append", default=[])
    a = ap.parse_args()
    tools = [("heapsnap", a.heapsnap)] + ([("base", a.base)] if a.base else [])
    runs = {}
    with tempfile.TemporaryDirectory() as d:
        for _ in range(a.rounds):
            for n in (0, 4):
                for mode, tool in [("plain", None)] + tools:
                    cmd = [a.python, PROG, str(n), str(a.dicts)] + a.imports
                    if tool:
                        cmd = [tool, "run", "-o", os.path.join(d, "w.%p.hsnap"), "--"] + cmd
                    runs.setdefault((mode, n), []).append(cpu(cmd))
                    for f in os.listdir(d):
                        os.unlink(os.path.join(d, f))
    med = {k: (statistics.median(c for c, _ in v), statistics.median(w for _, w in v))
           for k, v in runs.items()}
    print("| process | plain CPU s (wall) | %s |" %
          " | ".join("%s CPU s (wall) | ratio CPU (wall)" % m for m, _ in tools))
    print("|---|--:|" + "--:|--:|" * len(tools))
    for name in ("parent alone", "one forked worker"):
        cells = []
        for mode in ["plain"] + [m for m, _ in tools]:
            if name == "parent alone":
                c, w = med[(mode, 0)]
            else:
                c = (med[(mode, 4)][0] - med[(mode, 0)][0]) / 4
                w = (med[(mode, 4)][1] - med[(mode, 0)][1]) / 4
            cells.append((c, w))
        row = ["%.2f (%.2f)" % cells[0]]
        for c, w in cells[1:]:
            row += ["%.2f (%.2f)" % (c, w), "%.1fx (%.1fx)" % (c / cells[0][0], w / cells[0][1])]
        print("| %s | %s |" % (name, " | ".join(row)))
    print("(medians of %d rounds; %s %s, %d dicts; load %s)" %
          (a.rounds, a.python, " ".join(a.imports), a.dicts, open("/proc/loadavg").read().split()[0]))


if __name__ == "__main__":
    main()
