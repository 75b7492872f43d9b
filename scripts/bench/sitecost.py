#!/usr/bin/env python3
"""sitecost.py - what the per-site timeline (HEAPSNAP_SITELINE, the helper
thread's points) costs a program: runs of a bench workload under the shim
in three modes, in a rotating order each round, and the median of the
ratios to the "off" run of the same round, of wall time and of CPU time
(user + system of the whole process, the helper thread included):
  off     HEAPSNAP_SITELINE=0: no helper thread (the program's own threads only)
  thread  HEAPSNAP_SITELINE=0 with a helper thread that sleeps (an interval
          snapshot every 100000 s): what a second thread costs by itself
          (glibc's malloc leaves its single-thread fast paths for good once a
          process has created a thread)
  on      the default: the helper thread and its points

Usage: scripts/bench/sitecost.py [--rounds N] [--only PAT] [--step SECONDS]
Needs build/libheapsnap.so and build/heapsnap (make).  Prints one line per
workload; docs/performance.md quotes them.
"""

import argparse
import json
import os
import resource
import shutil
import statistics
import subprocess
import sys
import tempfile
import time

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
BUILD = os.path.join(ROOT, os.environ.get("BUILD", "build"))

# name, program, arguments (bench.py's full sizes)
WORKLOADS = [
    ("churn1", "churn", "10000000 100000 1"),
    ("churn4", "churn", "12000000 100000 4"),
    ("realloc", "realloc", "200000 20000"),
    ("bigheap", "churn", "3000000 1000000 1"),  # a million live blocks: walks of ~20 ms
]


def build(prog, out_dir):
    src = os.path.join(ROOT, "scripts", "bench", "programs", prog + ".c")
    out = os.path.join(out_dir, prog)
    if not os.path.exists(out) or os.stat(out).st_mtime < os.stat(src).st_mtime:
        subprocess.run(["gcc", "-O2", "-g", "-pthread", "-I" + ROOT + "/shim", src, "-o", out],
                       check=True)
    return out


def run(cmd, env, work):
    """Wall and CPU seconds of one run, and the snapshot it wrote."""
    snap = os.path.join(work, "s.hsnap")
    if os.path.exists(snap):
        os.unlink(snap)
    e = dict(os.environ, LD_PRELOAD=os.path.join(work, "libheapsnap.so"),
             HEAPSNAP_OUTPUT=snap, **env)
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    t0 = time.monotonic()
    subprocess.run(cmd, env=e, check=True, stdout=subprocess.DEVNULL)
    wall = time.monotonic() - t0
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    cpu = (after.ru_utime - before.ru_utime) + (after.ru_stime - before.ru_stime)
    return wall, cpu, snap


def points(snap):
    out = subprocess.run([os.path.join(os.path.dirname(snap), "heapsnap"), "timeline", "--format",
                          "json", snap],
                         capture_output=True, text=True, check=True).stdout
    p = json.loads(out)["processes"][0]
    return len(p["points"]), p.get("step_ns", 0)


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--rounds", type=int, default=7)
    ap.add_argument("--only", default="")
    ap.add_argument("--step", default="", help="HEAPSNAP_SITELINE for the 'on' runs "
                    "(default: the shim's default)")
    o = ap.parse_args()
    on_env = {"HEAPSNAP_SITELINE": o.step} if o.step else {}
    with tempfile.TemporaryDirectory() as work:
        for f in ("libheapsnap.so", "heapsnap"):  # a copy: a rebuild meanwhile changes nothing
            shutil.copy2(os.path.join(BUILD, f), work)
        for name, prog, args in WORKLOADS:
            if o.only not in name:
                continue
            cmd = [build(prog, work)] + args.split()
            modes = {"off": {"HEAPSNAP_SITELINE": "0"},
                     "thread": {"HEAPSNAP_SITELINE": "0", "HEAPSNAP_INTERVAL": "100000"},
                     "on": on_env}
            order = list(modes)
            ratio = {m: ([], []) for m in order if m != "off"}
            n, step = 0, 0
            for r in range(o.rounds):
                res = {}
                for mode in order[r % 3:] + order[:r % 3]:
                    res[mode] = run(cmd, modes[mode], work)
                    if mode == "on":
                        n, step = points(res[mode][2])
                for m in ratio:
                    ratio[m][0].append(res[m][0] / res["off"][0])
                    ratio[m][1].append(res[m][1] / res["off"][1])
            print("%-8s %s  (on: %d points, last step %.0f ms; %d rounds)" % (
                name, "  ".join("%s/off wall %.3f cpu %.3f" % (
                    m, statistics.median(ratio[m][0]), statistics.median(ratio[m][1]))
                    for m in ratio), n, step / 1e6, o.rounds), flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
