#!/usr/bin/env python3
"""statecost.py - what the state file that survives a kill (HEAPSNAP_STATE,
shim/state/state.c) costs a program: runs of bench workloads under the shim with
the state file (HEAPSNAP_STATE=64, the bound of `run`) and without it
(HEAPSNAP_STATE=0), in turn, in
one interleaved run (the order alternates each round), and the median of the
ratios on/off of the same round: wall time, CPU time (user + system of the
whole process, the helper thread included) and peak RSS; and the state
file's size in use (the exit snapshot's META) against the run's peak RSS.

Usage: scripts/bench/statecost.py [--rounds N] [--only PAT]
Needs build/libheapsnap.so and build/heapsnap (make).  Prints one line per
workload; docs/performance.md quotes them.
"""

import argparse
import json
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import time

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
BUILD = os.path.join(ROOT, os.environ.get("BUILD", "build"))
PY = "/usr/bin/python3" if os.path.exists("/usr/bin/python3") else shutil.which("python3")  # not a pyenv shim (a shell script)

# name, program (scripts/bench/programs/NAME.c, or a python script), arguments
WORKLOADS = [
    ("churn1", "churn", "3000000 100000 1"),
    ("deep", "deep", "250000 100000"),
    ("python", "py:scripts/bench/pywork.py", "1"),
    ("demo", "fixture:demo", ""),
    ("bigsnap5M", "bigsnap", "5000000 {work}/big.hsnap"),
]


def build(prog, out_dir):
    if prog.startswith("py:"):
        return [PY, os.path.join(ROOT, prog[3:])]
    if prog.startswith("fixture:"):
        subprocess.run([os.path.join(ROOT, "tests/fixtures/build.sh"), prog[8:]], cwd=ROOT,
                       check=True, stdout=subprocess.DEVNULL)
        return [os.path.join(BUILD, "fixtures", prog[8:])]
    src = os.path.join(ROOT, "scripts", "bench", "programs", prog + ".c")
    out = os.path.join(out_dir, prog)
    if not os.path.exists(out) or os.stat(out).st_mtime < os.stat(src).st_mtime:
        subprocess.run(["gcc", "-O2", "-g", "-pthread", "-I" + ROOT + "/shim", src, "-o", out],
                       check=True)
    return [out]


def run(cmd, env, work):
    """Wall and CPU seconds, peak RSS (KiB) of one run, and the state's KiB."""
    snap = os.path.join(work, "s.hsnap")
    if os.path.exists(snap):
        os.unlink(snap)
    e = dict(os.environ, LD_PRELOAD=os.path.join(work, "libheapsnap.so"),
             HEAPSNAP_OUTPUT=snap, **env)
    t0 = time.monotonic()
    p = subprocess.Popen(cmd, env=e, stdout=subprocess.DEVNULL)
    _, status, ru = os.wait4(p.pid, 0)
    wall = time.monotonic() - t0
    if status:
        sys.exit("statecost: %s failed (%d)" % (" ".join(cmd), status))
    kib = 0
    if os.path.exists(snap):
        out = subprocess.run([os.path.join(work, "heapsnap"), "info", "--format", "json", snap],
                             capture_output=True, text=True).stdout
        try:
            kib = json.loads(out)["snapshots"][0].get("state_kib", 0)
        except (ValueError, KeyError, IndexError):
            kib = 0
    return wall, ru.ru_utime + ru.ru_stime, ru.ru_maxrss, kib


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--rounds", type=int, default=7)
    ap.add_argument("--only", default="")
    o = ap.parse_args()
    with tempfile.TemporaryDirectory() as work:
        for f in ("libheapsnap.so", "heapsnap"):  # a copy: a rebuild meanwhile changes nothing
            shutil.copy2(os.path.join(BUILD, f), work)
        for name, prog, args in WORKLOADS:
            if o.only not in name:
                continue
            cmd = build(prog, work) + args.format(work=work).split()
            modes = {"off": {"HEAPSNAP_STATE": "0"}, "on": {"HEAPSNAP_STATE": "64"}}
            ratio, kib, rss = ([], [], []), [], []
            for r in range(o.rounds):
                res = {}
                for mode in (["off", "on"] if r % 2 == 0 else ["on", "off"]):
                    res[mode] = run(cmd, modes[mode], work)
                for k in range(3):
                    ratio[k].append(res["on"][k] / max(res["off"][k], 1e-9))
                kib.append(res["on"][3])
                rss.append(res["on"][2])
            k, m = statistics.median(kib), statistics.median(rss)
            print("%-9s on/off wall %.3f cpu %.3f rss %.3f  state %d KiB = %.2f%% of peak RSS "
                  "%d KiB  (%d rounds)" % (
                      name, statistics.median(ratio[0]), statistics.median(ratio[1]),
                      statistics.median(ratio[2]), k, 100.0 * k / max(m, 1), m, o.rounds),
                  flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
