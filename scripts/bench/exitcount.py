#!/usr/bin/env python3
"""The instructions of a Python program's exit snapshot (issue 47 item 6),
counted by callgrind: `PYTHON -c pass` (pyenv's 3.11 build by default,
PYTHONHASHSEED=0) under `setarch -R valgrind --tool=callgrind
--toggle-collect='snap_write*'` with the shim preloaded as `heapsnap run`
preloads it (LD_PRELOAD and HEAPSNAP_OUTPUT; every other option at its
default), so that only the exit's `snap_write` is counted.  Printed per
shim given: the instructions of snap_write, split into zstd (the
compressor), planes (hsnap_planes.h's byte planes, and the SSE2
intrinsics: the writer's only ones), python (shim/python/,
the objects' types, graph and retained sizes), libc (copies, the system
calls' wrappers) and the rest of the writer by source file; then the
snapshot's size on disk and uncompressed, and its sections'.

  scripts/bench/exitcount.py                       # build/libheapsnap.so
  scripts/bench/exitcount.py OLD.so build/libheapsnap.so   # side by side
  scripts/bench/exitcount.py --python ~/.pyenv/versions/3.12.1/bin/python3.12
  scripts/bench/exitcount.py --cpu 20 OLD.so build/libheapsnap.so
  scripts/bench/exitcount.py --kernel 8

--cpu N: instead, the CPU time of the same run, without valgrind: N runs
of each shim, taken in turns (so a change in the machine's load falls on
every shim alike), each under `perf stat -x, -e task-clock`, and the plain
interpreter's; printed: the median task-clock and wall milliseconds, and
the median over plain.  --kernel N: where snap_write's CPU goes outside callgrind's sight: N runs
of each shim under `perf record -g -F 20000`, each sample whose stack
holds snap_write counted, as user space, or the kernel by the system call
it is in (process_vm_readv: the Python passes' copies; page faults; munmap;
...), in percent of snap_write's samples.  By hand, one shim (mean, not
median):

  perf stat -r 20 -e task-clock env LD_PRELOAD=build/libheapsnap.so \\
      HEAPSNAP_OUTPUT=/tmp/x.%p.hsnap PYTHONHASHSEED=0 PYTHON -c pass
"""

import argparse
import collections
import glob
import os
import re
import shutil
import statistics
import struct
import subprocess
import sys
import tempfile
import time

ROOT = os.path.abspath(os.path.join(os.path.dirname(__file__), "..", ".."))
SECTIONS = {1: "META", 2: "MODULES", 3: "TRACES", 4: "STATS", 5: "BLOCKS", 6: "TIMELINE",
            7: "LEAKS", 8: "RETAINERS", 9: "PEAK", 10: "SITELINE", 11: "TEMPS", 12: "PYCODE",
            15: "SUPPRESSIONS", 16: "FAILED", 17: "UNLOADED", 18: "STATE", 19: "MAPLINE",
            20: "PYTYPES", 21: "PYOWNED", 22: "PYRETAIN", 23: "PYGCFREED", 24: "PYCAPPED"}


def default_python():
    for p in sorted(glob.glob(os.path.expanduser("~/.pyenv/versions/3.11.*/bin/python3.11"))):
        return p
    return shutil.which("python3.11")


def bucket(fl, fn):
    """Where an instruction's source line belongs."""
    if fl == "???":
        return "zstd" if re.match(r"(ZSTD|HUF|FSE|HIST|ZSTDMT)", fn) else "other: " + fn
    if fl.endswith("hsnap_planes.h") or fl.endswith("emmintrin.h"):
        return "planes"
    fl = "/" + fl  # callgrind_annotate drops the working directory's prefix
    if "/shim/python/" in fl:
        return "python"
    if "/shim/" in fl:
        return re.sub(r".*/shim/", "shim/", fl)
    return "libc" if "sysdeps" in fl or "/string/" in fl else "other: " + fl.split("/")[-1]


def measure(py, shim, work):
    """({bucket: instructions}, snapshot path)."""
    out = os.path.join(work, "cg")
    snap = os.path.join(work, "exit.hsnap")
    env = dict(os.environ, PYTHONHASHSEED="0", LD_PRELOAD=os.path.abspath(shim),
               HEAPSNAP_OUTPUT=snap)
    subprocess.run(["setarch", "-R", "valgrind", "--tool=callgrind", "--toggle-collect=snap_write*",
                    "--callgrind-out-file=" + out, py, "-c", "pass"], env=env, cwd=work,
                   check=True, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    ann = subprocess.run(["callgrind_annotate", "--auto=no", "--threshold=100", out], capture_output=True,
                         text=True, check=True).stdout
    got = collections.Counter()
    for line in ann.splitlines():
        m = re.match(r"\s*([\d,]+) \([ \d.]+%\)\s+(\S+):(\S+)", line)
        if m:
            got[bucket(m.group(2), m.group(3))] += int(m.group(1).replace(",", ""))
    return got, snap


def sections(path):
    """[(name, stored, raw)] of a .hsnap file, and its size."""
    d = open(path, "rb").read()
    off, rows = 24, []
    while off + 16 <= len(d):
        t, _, n = struct.unpack_from("<IIQ", d, off)
        off += 16
        if t & 0xffff == 0xffff:
            break
        raw = struct.unpack_from("<Q", d, off)[0] if t & 0x10000 else n
        rows.append((SECTIONS.get(t & 0xffff, str(t & 0xffff)), n, raw))
        off += n
    return rows, len(d)


def cpu_ms(py, shim, work):
    """(task-clock ms, wall ms) of one run of PYTHON -c pass, with shim
    preloaded (None: plain)."""
    env = dict(os.environ, PYTHONHASHSEED="0", HEAPSNAP_OUTPUT=os.path.join(work, "x.%p.hsnap"))
    if shim:
        env["LD_PRELOAD"] = os.path.abspath(shim)
    t0 = time.monotonic()
    p = subprocess.run(["perf", "stat", "-x,", "-e", "task-clock", py, "-c", "pass"], env=env,
                       cwd=work, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True,
                       check=True)
    wall = (time.monotonic() - t0) * 1000
    for f in os.listdir(work):
        os.unlink(os.path.join(work, f))
    for line in p.stderr.splitlines():
        f = line.split(",")
        if len(f) > 2 and f[2].startswith("task-clock"):
            return float(f[0]), wall
    raise SystemExit("exitcount: no task-clock from perf stat: " + p.stderr[-300:])


def cpu(py, shims, n):
    runs = collections.defaultdict(list)
    with tempfile.TemporaryDirectory() as work:
        for _ in range(n):
            for s in [None] + shims:
                runs[s].append(cpu_ms(py, s, work))
    med = {s: (statistics.median(r[0] for r in v), statistics.median(r[1] for r in v))
           for s, v in runs.items()}
    print("%s -c pass, %d runs each in turns: median task-clock and wall ms" % (py, n))
    for s in [None] + shims:
        print("  %-40s %8.1f CPU ms %8.1f wall ms %+8.1f CPU ms over plain" %
              (s or "plain", med[s][0], med[s][1], med[s][0] - med[None][0]))
    return 0


def kernel_share(py, shims, n):
    for shim in shims:
        got, total = collections.Counter(), 0
        with tempfile.TemporaryDirectory() as work:
            env = dict(os.environ, PYTHONHASHSEED="0", LD_PRELOAD=os.path.abspath(shim),
                       HEAPSNAP_OUTPUT=os.path.join(work, "x.%p.hsnap"))
            for i in range(n):
                data = os.path.join(work, "perf.data")
                subprocess.run(["perf", "record", "-q", "-g", "-F", "20000", "-o", data, py, "-c",
                                "pass"], env=env, cwd=work, check=True,
                               stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
                out = subprocess.run(["perf", "script", "-i", data], capture_output=True,
                                     text=True, check=True).stdout
                for sample in out.split("\n\n"):
                    frames = [l.strip() for l in sample.strip().split("\n")[1:] if l.strip()]
                    if not any("snap_write" in f for f in frames):
                        continue
                    total += 1
                    if "kernel" not in frames[0] and "vmlinux" not in frames[0]:
                        got["user space"] += 1
                        continue
                    what = "kernel, other"
                    for f in frames:
                        if "asm_exc_page_fault" in f:
                            what = "kernel, page faults"
                            break
                        if "__x64_sys_" in f:
                            what = "kernel, " + f.split("__x64_sys_")[1].split("+")[0].split()[0]
                            break
                    got[what] += 1
        print("%s: %d samples in snap_write (%d runs)" % (shim, total, n))
        for k, v in got.most_common():
            if v * 200 >= total:
                print("  %-32s %5.1f%%" % (k, 100.0 * v / max(total, 1)))
    return 0


def main(argv):
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("shims", nargs="*", default=[os.path.join(ROOT, "build/libheapsnap.so")])
    ap.add_argument("--python", default=default_python())
    ap.add_argument("--cpu", type=int, metavar="N", help="N timed runs each instead of callgrind")
    ap.add_argument("--kernel", type=int, metavar="N",
                    help="N runs each under perf record: snap_write's kernel share")
    a = ap.parse_args(argv)
    if not a.python:
        print("exitcount: no python3.11 (give --python)", file=sys.stderr)
        return 2
    if a.cpu:
        return cpu(a.python, a.shims, a.cpu)
    if a.kernel:
        return kernel_share(a.python, a.shims, a.kernel)
    cols, secs = [], []
    for shim in a.shims:
        with tempfile.TemporaryDirectory() as work:
            got, snap = measure(a.python, shim, work)
            cols.append(got)
            secs.append(sections(snap))
    print("%s -c pass, callgrind, setarch -R: snap_write's instructions" % a.python)
    keys = sorted(set().union(*cols), key=lambda k: -max(c[k] for c in cols))
    print("%-32s" % "" + "".join("%16s" % "/".join(os.path.abspath(s).split("/")[-2:])[-15:]
                                 for s in a.shims))
    print("%-32s" % "snap_write" + "".join("%16d" % sum(c.values()) for c in cols))
    for k in keys:
        if max(c[k] for c in cols) >= 100000:
            print("%-32s" % ("  " + k) + "".join("%16d" % c[k] for c in cols))
    print("%-32s" % "file, bytes on disk" + "".join("%16d" % s[1] for s in secs))
    print("%-32s" % "  uncompressed" + "".join("%16d" % sum(r[2] for r in s[0]) for s in secs))
    names = [r[0] for r in secs[0][0]]
    for name in names:
        row = [dict((r[0], r) for r in s[0]).get(name, (name, 0, 0)) for s in secs]
        print("%-32s" % ("  " + name + " stored/raw") +
              "".join("%16s" % ("%d/%d" % (r[1], r[2])) for r in row))
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
