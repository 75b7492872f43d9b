#!/usr/bin/env python3
"""python_bench.py - heapsnap against tracemalloc on a Python program.

Runs scripts/bench/pywork.py under: plain python3; `python3 -X
tracemalloc=25` (tracemalloc's own cost, 25 frames); heapsnap's default
mode (Python and native frames, 64 of them, every allocation); heapsnap
sampled (HEAPSNAP_SAMPLE=524288); and `-X tracemalloc=1` for reference.
Rounds interleave the modes (the machine is shared: medians, and ratios
to the plain run of the same round).  Prints a Markdown table.

usage: scripts/bench/python_bench.py [--rounds N] [--python PATH] [--scale N]
"""
import argparse
import os
import resource
import statistics
import subprocess
import sys
import tempfile
import time

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
WORK = os.path.join(ROOT, "scripts", "bench", "pywork.py")
SHIM = os.path.join(ROOT, os.environ.get("BUILD", "build"), "libheapsnap.so")


def modes(tmp):
    hs = {"LD_PRELOAD": SHIM, "HEAPSNAP_OUTPUT": os.path.join(tmp, "b.%p.hsnap")}
    return [
        ("plain", [], {}),
        ("tracemalloc=1", ["-X", "tracemalloc=1"], {}),
        ("tracemalloc=25", ["-X", "tracemalloc=25"], {}),
        ("heapsnap", [], hs),
        ("heapsnap sampled 512K", [], dict(hs, HEAPSNAP_SAMPLE="524288")),
    ]


def run(py, args, env, scale):
    e = dict(os.environ, PYTHONHASHSEED="0", **env)
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    t = time.monotonic()
    subprocess.run([py] + args + [WORK, str(scale)], env=e, check=True,
                   stdout=subprocess.DEVNULL)
    wall = time.monotonic() - t
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    return wall, after.ru_maxrss  # maxrss: the largest child so far (KiB)


def main(argv):
    ap = argparse.ArgumentParser()
    ap.add_argument("--rounds", type=int, default=5)
    ap.add_argument("--python", default="/usr/bin/python3")
    ap.add_argument("--scale", type=int, default=1)
    o = ap.parse_args(argv)
    if not os.path.exists(SHIM):
        sys.exit("python_bench: build the shim first (make)")
    with tempfile.TemporaryDirectory() as tmp:
        ms = modes(tmp)
        walls = {m[0]: [] for m in ms}
        ratios = {m[0]: [] for m in ms}
        rss = {}
        for r in range(o.rounds):
            base = None
            for name, args, env in ms:
                # maxrss of RUSAGE_CHILDREN is a high-water mark over every
                # child: measure each mode's once, in a fresh process.
                wall, _ = run(o.python, args, env, o.scale)
                walls[name].append(wall)
                base = wall if name == "plain" else base
                ratios[name].append(wall / base)
                for f in os.listdir(tmp):
                    os.unlink(os.path.join(tmp, f))
        for name, args, env in ms:
            out = subprocess.run(
                ["/usr/bin/time", "-f", "%M", o.python] + args + [WORK, str(o.scale)],
                env=dict(os.environ, PYTHONHASHSEED="0", **env), check=True,
                stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True)
            rss[name] = int(out.stderr.strip().splitlines()[-1])
    print("| mode | median wall (s) | median ratio to plain | max RSS (MiB) |")
    print("|---|---|---|---|")
    for name, _, _ in ms:
        print("| %s | %.2f | %.2fx | %.0f |" % (name, statistics.median(walls[name]),
                                                 statistics.median(ratios[name]),
                                                 rss[name] / 1024))
    print("\n%d rounds, %s, scale %d" % (o.rounds, o.python, o.scale))


if __name__ == "__main__":
    main(sys.argv[1:])
