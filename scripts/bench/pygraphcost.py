#!/usr/bin/env python3
"""pygraphcost.py - the stop that builds the Python objects' graph.

A child makes N live Python objects (N/2 instances of a class, each
holding a list of one int: N objects, 1.5 N blocks with the lists' item
arrays), then takes one snapshot and reports its wall and CPU time, the
process's peak RSS before it and the growth of the peak the snapshot
caused (ru_maxrss: the graph's arrays, the dominators, the section):

  heapsnap, graph  heapsnap_take_snapshot with HEAPSNAP_PYTHON_OBJECTS above
                   the live blocks (types, graph, retained sizes)
  heapsnap, none   the same with HEAPSNAP_PYTHON_OBJECTS=0 (no objects' pass)
  tracemalloc      tracemalloc.start() first, then take_snapshot()

Each cell is the median over the rounds (modes interleaved within a
round, the machine being shared).  Prints a Markdown table (docs/python.md,
"Cost", quotes it).

usage: scripts/bench/pygraphcost.py [--objects N] [--rounds R] [--python PATH]
"""
import argparse
import json
import os
import statistics
import subprocess
import sys
import tempfile

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
BUILD = os.path.join(ROOT, os.environ.get("BUILD", "build"))

CHILD = r'''
import ctypes, gc, json, resource, sys, time
mode, n, path = sys.argv[1], int(sys.argv[2]), sys.argv[3]
if mode == "tracemalloc":
    import tracemalloc
    tracemalloc.start()
class Node:
    def __init__(self, i):
        self.items = [i]
keep = [Node(i) for i in range(n // 2)]
gc.collect()
before = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
t0, c0 = time.perf_counter(), time.process_time()
if mode == "tracemalloc":
    snap = tracemalloc.take_snapshot()
else:
    lib = ctypes.CDLL(None)
    lib.heapsnap_take_snapshot.argtypes = [ctypes.c_char_p]
    lib.heapsnap_take_snapshot(path.encode())
t1, c1 = time.perf_counter(), time.process_time()
after = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
print(json.dumps({"wall": t1 - t0, "cpu": c1 - c0, "peak": before / 1024, "extra": (after - before) / 1024}))
'''


def run(py, mode, n, tmp):
    env = dict(os.environ)
    path = os.path.join(tmp, "g.hsnap")
    if mode != "tracemalloc":
        env.update(LD_PRELOAD=os.path.join(BUILD, "libheapsnap.so"), HEAPSNAP_OUTPUT=os.path.join(tmp, "x.%p.hsnap"),
                   HEAPSNAP_PYTHON_OBJECTS=str(4 * n) if mode == "graph" else "0")
    out = subprocess.run([py, "-c", CHILD, mode, str(n), path], env=env, capture_output=True,
                         text=True, check=True).stdout
    for f in os.listdir(tmp):
        os.unlink(os.path.join(tmp, f))
    return json.loads(out.splitlines()[-1])


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--objects", type=int, default=1000000)
    ap.add_argument("--rounds", type=int, default=3)
    ap.add_argument("--python", default=sys.executable)
    a = ap.parse_args()
    modes = [("graph", "heapsnap, graph"), ("none", "heapsnap, none"), ("tracemalloc", "tracemalloc")]
    res = {m: [] for m, _ in modes}
    with tempfile.TemporaryDirectory() as tmp:
        for _ in range(a.rounds):
            for m, _ in modes:
                res[m].append(run(a.python, m, a.objects, tmp))
    print(f"{a.objects} objects, {a.python}, median of {a.rounds}:\n")
    print("| snapshot | wall (s) | CPU (s) | peak RSS before (MiB) | peak growth (MiB) | growth / peak before |")
    print("|---|--:|--:|--:|--:|--:|")
    for m, name in modes:
        med = {k: statistics.median(r[k] for r in res[m]) for k in res[m][0]}
        share = statistics.median(r["extra"] / r["peak"] for r in res[m])
        print(f"| {name} | {med['wall']:.2f} | {med['cpu']:.2f} | {med['peak']:.1f} | {med['extra']:.1f} | {share:.3f} |")


if __name__ == "__main__":
    main()
