#!/usr/bin/env python3
"""pydepth.py - what a Python allocation costs the recorder at depth 5 and
at depth 60 (issue 70, item 3), counted by callgrind: the same count on
every run, where wall time on a shared machine moves by a fifth.

The workload recurses to depth D, then makes and drops one bytearray(16)
a turn (two allocations and two frees: the object, its buffer), N turns.
It runs under `setarch -R valgrind --tool=callgrind` plain and with the
shim preloaded (HEAPSNAP_STATE=0, HEAPSNAP_SITELINE=0, PYTHONHASHSEED=0),
each at two lengths; a figure is the difference of the two runs'
instructions over the difference of their turns, so start-up, imports
and the exit snapshot cancel out.  Printed per interpreter: plain's
instructions a turn, the shim's added instructions a turn at depth 5 and
at depth 60, their ratio, and the added instructions a turn per extra
frame.  Every allocation reads each of the thread's Python frames (no
frame is trusted unread: recent.c's pyfr_walk_m says why); what may grow
with depth is that read, a few instructions a frame.

  scripts/bench/pydepth.py [PYTHON...]        # default: Debian's python3
  scripts/bench/pydepth.py --check RATIO PYTHON   # exit 1 when depth 60
                                                  # costs more than RATIO x depth 5
"""
import argparse
import os
import subprocess
import sys
import tempfile

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
SHIM = os.path.join(ROOT, os.environ.get("BUILD", "build"), "libheapsnap.so")
WORK = """import sys
def down(d, n):
    if d > 1:
        return down(d - 1, n)
    for _ in range(n):
        b = bytearray(16)
down(int(sys.argv[1]), int(sys.argv[2]))
"""
TURNS = (4000, 8000)
DEPTHS = (5, 60)


def count(py, depth, turns, shim, work):
    env = dict(os.environ, PYTHONHASHSEED="0")
    if shim:
        env.update(LD_PRELOAD=SHIM, HEAPSNAP_STATE="0", HEAPSNAP_SITELINE="0",
                   HEAPSNAP_OUTPUT=os.path.join(work, "o.%p.hsnap"))
    script = os.path.join(work, "depth.py")
    with open(script, "w") as f:
        f.write(WORK)
    out = os.path.join(work, "cg")
    p = subprocess.run(["setarch", "-R", "valgrind", "--tool=callgrind",
                        "--callgrind-out-file=" + out, py, "-S", script, str(depth), str(turns)],
                       env=env, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True)
    for line in p.stderr.splitlines():
        if "Collected :" in line:
            return int(line.split()[-1])
    raise SystemExit("pydepth: %s at depth %d exited %d: %s" % (py, depth, p.returncode, p.stderr[-300:]))


def per_turn(py, depth, shim, work):
    a, b = (count(py, depth, t, shim, work) for t in TURNS)
    return (b - a) / (TURNS[1] - TURNS[0])


def measure(py, depths):
    with tempfile.TemporaryDirectory() as work:
        plain = per_turn(py, depths[0], False, work)
        added = {d: per_turn(py, d, True, work) - plain for d in depths}
    return plain, added


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--check", type=float, metavar="RATIO")
    ap.add_argument("--depths", default=",".join(map(str, DEPTHS)), metavar="D1,D2[,...]",
                    help="the depths (default %(default)s); the ratio is the last's over the first's")
    ap.add_argument("python", nargs="*")
    a = ap.parse_args()
    pys = a.python or ["/usr/bin/python3"]
    depths = [int(d) for d in a.depths.split(",")]
    if len(depths) < 2 or min(depths) < 1:
        ap.error("--depths: two depths or more, each at least 1")
    bad = 0
    print("%-44s %8s %s %6s %9s" % ("interpreter", "plain",
                                     " ".join("%10s" % ("+depth%d" % d) for d in depths),
                                     "ratio", "+/frame"))
    for py in pys:
        plain, added = measure(py, depths)
        lo, hi = added[depths[0]], added[depths[-1]]
        ratio = hi / lo
        print("%-44s %8.0f %s %6.2f %9.1f" % (py, plain,
                                               " ".join("%10.0f" % added[d] for d in depths),
                                               ratio, (hi - lo) / (depths[-1] - depths[0])))
        if a.check and ratio > a.check:
            print("pydepth: %s: depth %d costs %.2fx depth %d, over %.2f" %
                  (py, depths[-1], ratio, depths[0], a.check))
            bad = 1
    return bad


if __name__ == "__main__":
    sys.exit(main())
