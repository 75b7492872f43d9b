#!/usr/bin/env python3
"""workers.py - what a forked worker costs under heapsnap beside its parent
(issue 70, item 6: "workers at the same cost").

scripts/bench/programs/poolwork.py N runs a parent that builds 200,000 dicts
and does one share of work, then a fork Pool of N workers that do one share
each.  Each round runs N = 0 and N = 4, plain and under `heapsnap run`, one
after the other; a figure is the median over the rounds of the CPU seconds
(user + system, the process and its waited children: wait4's rusage), so
the machine's load moves it less than wall time.  Printed: the parent alone
(N = 0) plain and under heapsnap with its ratio, and a worker's cost (the
difference N = 4 less N = 0, over 4) plain and under heapsnap with its
ratio.  The goal: a worker's ratio at most the parent's.

usage: scripts/bench/workers.py [--rounds N] [--python PATH] [--heapsnap PATH]
"""
import argparse
import os
import statistics
import subprocess
import tempfile

HERE = os.path.dirname(os.path.abspath(__file__))
PROG = os.path.join(HERE, "programs", "poolwork.py")


def cpu(cmd):
    """CPU seconds of cmd and its waited children."""
    pid = os.fork()
    if pid == 0:
        devnull = os.open(os.devnull, os.O_WRONLY)
        os.dup2(devnull, 1)
        os.dup2(devnull, 2)
        os.execvp(cmd[0], cmd)
    _, status, ru = os.wait4(pid, 0)
    if os.waitstatus_to_exitcode(status) != 0:
        raise SystemExit("workers.py: %s failed" % " ".join(cmd))
    return ru.ru_utime + ru.ru_stime


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--rounds", type=int, default=5)
    ap.add_argument("--python", default="/usr/bin/python3")
    ap.add_argument("--heapsnap", default=os.path.join(HERE, "..", "..", "build", "heapsnap"))
    a = ap.parse_args()
    runs = {}
    with tempfile.TemporaryDirectory() as d:
        for _ in range(a.rounds):
            for n in (0, 4):
                for mode in ("plain", "heapsnap"):
                    cmd = [a.python, PROG, str(n)]
                    if mode == "heapsnap":
                        cmd = [a.heapsnap, "run", "-o", os.path.join(d, "w.%p.hsnap"), "--"] + cmd
                    runs.setdefault((mode, n), []).append(cpu(cmd))
                    for f in os.listdir(d):
                        os.unlink(os.path.join(d, f))
    med = {k: statistics.median(v) for k, v in runs.items()}
    parent = (med[("plain", 0)], med[("heapsnap", 0)])
    worker = ((med[("plain", 4)] - med[("plain", 0)]) / 4,
              (med[("heapsnap", 4)] - med[("heapsnap", 0)]) / 4)
    print("| process | plain CPU s | heapsnap CPU s | ratio |")
    print("|---|--:|--:|--:|")
    for name, (p, h) in (("parent alone", parent), ("one forked worker", worker)):
        print("| %s | %.2f | %.2f | %.1fx |" % (name, p, h, h / p))
    print("(medians of %d rounds; %s)" % (a.rounds, a.python))


if __name__ == "__main__":
    main()
