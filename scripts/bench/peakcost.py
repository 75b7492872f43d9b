#!/usr/bin/env python3
"""What the peak's capture (HEAPSNAP_PEAK, peak_live) costs on the
benchmark's workloads (workloads.py): each workload runs under the shim
(LD_PRELOAD) with HEAPSNAP_PEAK=off and =on (the default), and with
--base LIB under another build of the shim too (e.g. one from before
the shim's peak code, for the temporary-allocation count, which is always on),
alternating within a round.  Prints per workload the median wall time of
each mode and the median of the paired ratios on/off (and base/off).
--instr counts instructions instead (valgrind's cachegrind, "I refs", one
run per mode at the smoke size: deterministic where the clock is not).

  scripts/bench/peakcost.py [--size quick] [--rounds 7] [--only churn1]
                            [--base /tmp/old/libheapsnap.so] [--instr]
"""

import argparse
import os
import re
import shutil
import statistics
import subprocess
import sys
import tempfile
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import workloads as W  # noqa: E402

ROOT = os.path.abspath(os.path.join(os.path.dirname(__file__), "..", ".."))


def build(bin_dir):
    os.makedirs(bin_dir, exist_ok=True)
    for name in sorted(os.listdir(os.path.join(ROOT, "scripts/bench/programs"))):
        src = os.path.join(ROOT, "scripts/bench/programs", name)
        stem, ext = os.path.splitext(name)
        if ext not in (".c", ".cc"):
            continue
        cc = "g++" if ext == ".cc" else "gcc"
        out = os.path.join(bin_dir, stem)
        if os.path.exists(out) and os.stat(out).st_mtime > os.stat(src).st_mtime:
            continue
        subprocess.run([cc, "-O2", "-g", "-pthread", "-I" + ROOT + "/shim", src, "-o", out],
                       check=True)


def argv_of(w, size, bin_dir, work):
    words = []
    places = {"bin": bin_dir, "fp": "", "python": "/usr/bin/python3",
              "sqlite": shutil.which("sqlite3") or "sqlite3", "work": work, "root": ROOT}
    if w.script:
        with open(os.path.join(ROOT, w.script)) as f:
            text = f.read().replace("@ROWS@", w.sizes[size])
        with open(os.path.join(work, os.path.basename(w.script)), "w") as f:
            f.write(text)
    for word in w.command:
        if word == "{size}":
            words += w.sizes[size].split()
        else:
            words.append(word.format(**places))
    return words


def run(argv, env, work, wrap=()):
    e = dict(os.environ, **env)
    e["HEAPSNAP_OUTPUT"] = os.path.join(work, "peakcost.%p.hsnap")
    t = time.perf_counter()
    p = subprocess.run(list(wrap) + argv, env=e, stdout=subprocess.DEVNULL,
                       stderr=subprocess.PIPE if wrap else subprocess.DEVNULL, cwd=work)
    dt = time.perf_counter() - t
    for f in os.listdir(work):
        if f.startswith("peakcost."):
            os.unlink(os.path.join(work, f))
    if p.returncode != 0:
        raise SystemExit("%s exited %d" % (" ".join(argv), p.returncode))
    return dt, (p.stderr.decode(errors="replace") if wrap else "")


def modes(args):
    shim = os.path.join(ROOT, args.build, "libheapsnap.so")
    m = [("off", {"LD_PRELOAD": shim, "HEAPSNAP_PEAK": "off"}),
         ("on", {"LD_PRELOAD": shim, "HEAPSNAP_PEAK": "on"})]
    if args.base:
        m.append(("base", {"LD_PRELOAD": args.base}))
    return m


def instr(argv, env, work):
    _, err = run(argv, env, work, ("valgrind", "--tool=cachegrind", "--cache-sim=no",
                                   "--cachegrind-out-file=/dev/null"))
    m = re.search(r"I\s+refs:\s+([\d,]+)", err)
    return int(m.group(1).replace(",", "")) if m else 0


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--size", default="quick", choices=W.SIZES)
    ap.add_argument("--rounds", type=int, default=5)
    ap.add_argument("--only", default="")
    ap.add_argument("--base", default="")
    ap.add_argument("--build", default="build")
    ap.add_argument("--instr", action="store_true")
    args = ap.parse_args()
    bin_dir = os.path.join(ROOT, "build", "bench", "peakcost")
    build(bin_dir)
    work = tempfile.mkdtemp(prefix="peakcost.")
    todo = [w for w in W.WORKLOADS if w.kind in (W.COMPARE, W.HS_ONLY) and args.only in w.name]
    ms = modes(args)
    for w in todo:
        if args.instr:
            argv = argv_of(w, "smoke", bin_dir, work)
            n = {name: instr(argv, dict(w.env, **env), work) for name, env in ms}
            print("%-12s instructions (smoke size): %s   on/off %.4f%s" % (
                w.name, "  ".join("%s %d" % (k, v) for k, v in n.items()),
                n["on"] / n["off"] if n["off"] else 0,
                ("   base/off %.4f" % (n["base"] / n["off"])) if "base" in n and n["off"] else ""))
            sys.stdout.flush()
            continue
        argv = argv_of(w, args.size, bin_dir, work)
        times = {name: [] for name, _ in ms}
        run(argv, dict(w.env, **ms[0][1]), work)  # warm-up
        for r in range(args.rounds):
            order = ms if r % 2 == 0 else ms[::-1]
            for name, env in order:
                times[name].append(run(argv, dict(w.env, **env), work)[0])
        ratio = statistics.median(a / b for a, b in zip(times["on"], times["off"]))
        line = "%-12s median s: %s   on/off %.3f" % (
            w.name, "  ".join("%s %.3f" % (k, statistics.median(v)) for k, v in times.items()),
            ratio)
        if "base" in times:
            line += "   base/off %.3f" % statistics.median(
                a / b for a, b in zip(times["base"], times["off"]))
        print(line)
        sys.stdout.flush()
    shutil.rmtree(work, ignore_errors=True)


if __name__ == "__main__":
    main()
