#!/usr/bin/env python3
"""pysnap.py - a Python snapshot of a real heap: heapsnap against tracemalloc.

The program imports numpy and pandas (Debian's python3-numpy and
python3-pandas), then takes a snapshot and its statistics('lineno'):
under `tracemalloc.start()` (started before the imports), and under the
shim with `heapsnap.start()` (heapsnap.take_snapshot, built in the process
from the shim's tables; a third row with start(native=False), whose
stacks keep no native frame under a Python one, tracemalloc's footprint).
Then heapsnap's snapshot is written as a .hsnap
(heapsnap.write_snapshot) and read back with Snapshot.load (through the
CLI; its own peak: VmHWM over VmRSS, the peak reset first through
/proc/self/clear_refs).  Each cell is the median over the rounds (modes
interleaved within a round, the machine being shared); peak RSS is the
child's own (ru_maxrss: before the snapshot, what the snapshot added to
it, and at the statistics).  The package is a copy compiled first
(compileall), as pip installs it, so that its import is not compiled in
every child under the shim (PYTHONDONTWRITEBYTECODE and a read-only
tree would otherwise make every run compile it, recorded).  Prints a
Markdown table (docs/python.md, "Cost", quotes it).

usage: scripts/bench/pysnap.py [--rounds N] [--python PATH] [--md FILE]
"""
import argparse
import json
import os
import shutil
import statistics
import subprocess
import sys
import tempfile

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
BUILD = os.path.join(ROOT, os.environ.get("BUILD", "build"))

# The child: argv 1 the module ("tracemalloc" or "heapsnap"), argv 2 a
# .hsnap path for heapsnap's load (or "-"), argv 3 "bare" for heapsnap's
# start(native=False).  Prints one JSON line.
CHILD = r'''
import importlib, json, resource, sys, time
tm = importlib.import_module(sys.argv[1])
tm.start(native=False) if sys.argv[3:] == ["bare"] else tm.start()
import numpy, pandas
rss0 = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
t0, c0 = time.perf_counter(), time.process_time()
snap = tm.take_snapshot()
t1, c1 = time.perf_counter(), time.process_time()
rss1 = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
stats = snap.statistics("lineno")
t2 = time.perf_counter()
out = {"snapshot": t1 - t0, "snapshot_cpu": c1 - c0, "statistics": t2 - t1, "traces": len(snap.traces),
       "top": str(stats[0]) if stats else "",
       "maxrss_mib": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024,
       "before_mib": rss0 / 1024, "added_mib": (rss1 - rss0) / 1024}
if sys.argv[2] != "-":
    del snap, stats
    tm.write_snapshot(sys.argv[2])
    tm.stop()
    def vm(k):
        return next(int(l.split()[1]) for l in open("/proc/self/status") if l.startswith(k))
    with open("/proc/self/clear_refs", "w") as f:
        f.write("5")  # VmHWM from here
    rss3 = vm("VmRSS:")
    t3, c3 = time.perf_counter(), time.process_time()
    kids = resource.getrusage(resource.RUSAGE_CHILDREN)
    loaded = tm.Snapshot.load(sys.argv[2])
    out["load"] = time.perf_counter() - t3
    out["load_mib"] = (vm("VmHWM:") - rss3) / 1024
    kids2 = resource.getrusage(resource.RUSAGE_CHILDREN)  # the CLI's CPU
    out["load_cpu"] = time.process_time() - c3 + (kids2.ru_utime + kids2.ru_stime) - (
        kids.ru_utime + kids.ru_stime)
    out["load_traces"] = len(loaded.traces)
print(json.dumps(out))
'''


def run(py, pkg, module, hsnap, env, *more):
    e = dict(os.environ, PYTHONPATH=pkg, HEAPSNAP=os.path.join(BUILD, "heapsnap"), **env)
    p = subprocess.run([py, "-c", CHILD, module, hsnap, *more], env=e, stdout=subprocess.PIPE,
                       stderr=subprocess.PIPE, check=False)
    if p.returncode != 0:
        sys.exit("pysnap: %s failed: %s" % (module, p.stderr.decode()[-400:]))
    return json.loads(p.stdout.decode().strip().splitlines()[-1])


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--rounds", type=int, default=3)
    ap.add_argument("--python", default="/usr/bin/python3")
    ap.add_argument("--md")
    a = ap.parse_args()
    if subprocess.run([a.python, "-c", "import numpy, pandas"],
                      stderr=subprocess.DEVNULL).returncode != 0:
        sys.exit("pysnap: %s cannot import numpy and pandas (Debian's python3-numpy, "
                 "python3-pandas)" % a.python)
    rows = {"tracemalloc": [], "heapsnap": [], "heapsnap, start(native=False)": []}
    with tempfile.TemporaryDirectory() as tmp:
        pkg = os.path.join(tmp, "pkg")
        shutil.copytree(os.path.join(ROOT, "python", "heapsnap"), os.path.join(pkg, "heapsnap"))
        subprocess.run([a.python, "-m", "compileall", "-q", pkg], check=True)
        shim = {"LD_PRELOAD": os.path.join(BUILD, "libheapsnap.so"),
                "HEAPSNAP_OUTPUT": os.path.join(tmp, "exit.%p.hsnap")}
        for _ in range(a.rounds):
            rows["tracemalloc"].append(run(a.python, pkg, "tracemalloc", "-", {}))
            rows["heapsnap"].append(run(a.python, pkg, "heapsnap", os.path.join(tmp, "s.hsnap"),
                                        shim))
            rows["heapsnap, start(native=False)"].append(run(a.python, pkg, "heapsnap", "-",
                                                             shim, "bare"))
    med = lambda mode, k: statistics.median(r[k] for r in rows[mode])  # noqa: E731
    lines = ["| `import numpy, pandas`, then | take_snapshot (s; CPU s) | statistics('lineno') (s) "
             "| traces | peak RSS (MiB): before the snapshot, the snapshot's own, in all "
             "| Snapshot.load of the .hsnap (s; CPU s, the CLI's included; its peak) |",
             "|---|--:|--:|--:|--:|--:|"]  # peak RSS: at the statistics, before the load
    for mode in rows:
        load = "%.2f; %.2f; +%.0f MiB (%d traces)" % (
            med(mode, "load"), med(mode, "load_cpu"), med(mode, "load_mib"),
            med(mode, "load_traces")) \
            if "load" in rows[mode][0] else "-"
        lines.append("| %s | %.2f; %.2f | %.2f | %d | %.0f, +%.0f, %.0f | %s |" % (
            mode, med(mode, "snapshot"), med(mode, "snapshot_cpu"), med(mode, "statistics"),
            med(mode, "traces"), med(mode, "before_mib"), med(mode, "added_mib"),
            med(mode, "maxrss_mib"), load))
    text = "\n".join(lines) + "\n\n%s, %d rounds, medians; top line: %s\n" % (
        a.python, a.rounds, rows["heapsnap"][0]["top"])
    print(text)
    if a.md:
        with open(a.md, "w") as f:
            f.write(text)


if __name__ == "__main__":
    main()
