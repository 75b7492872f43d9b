#!/usr/bin/env python3
"""pytestcost.py - what `pytest --heapsnap` costs over plain pytest (issue 47:
20 trivial tests within 1.5x of plain, at most 20 ms a test).

A file of N trivial tests (`assert i == i`) is run by Debian's pytest in a
virtual environment with the package pip-installed (offline, as
tests/shim/python/test_python_pytest.sh installs it: the pytest11 entry
point and heapsnap-pytest.pth), with and without --heapsnap; the two
commands alternate (A B A B ...) and each ratio is taken pair by pair, so
that the shared machine's drift hits both.  CPU is wait4's user+sys of the
run (the run again under the shim is the same process); wall is a
monotonic clock around it.  The rows:

  installed   the installed package (the .pth runs pytest again under the
              shim at the interpreter's start, before pytest's import)
  -p, no pth  the source tree on PYTHONPATH and `-p heapsnap.pytest_plugin`:
              pytest is imported before the package, which then loads the
              shim's late copy (libheapsnap-attach.so) into the process
              (one process, pytest imported once)

then the cost a test: the difference of the medians at N and at 10 x N
tests, over the 9 x N tests between.  Prints medians, min-max, ratios.

usage: scripts/bench/pytestcost.py [--runs R] [--tests N] [--python PATH]
"""
import argparse
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import time

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
BUILD = os.path.join(ROOT, os.environ.get("BUILD", "build"))


def run_once(argv, env, cwd):
    """(cpu seconds, wall seconds) of one run, which must pass."""
    t0 = time.monotonic()
    p = subprocess.Popen(argv, env=env, cwd=cwd, stdout=subprocess.DEVNULL,
                         stderr=subprocess.PIPE)
    err = p.stderr.read()
    _, status, ru = os.wait4(p.pid, 0)
    wall = time.monotonic() - t0
    p.returncode = os.waitstatus_to_exitcode(status)
    p.stderr.close()
    if p.returncode != 0:
        sys.exit("pytestcost: %s exited %d: %s" % (" ".join(argv), p.returncode,
                                                    err.decode(errors="replace")[-400:]))
    return ru.ru_utime + ru.ru_stime, wall


def paired(a, b, runs, cwd):
    """Runs a and b (argv, env) in turn, one warm-up each; per-run figures."""
    run_once(*a, cwd)
    run_once(*b, cwd)
    out = {"a": [], "b": []}
    for _ in range(runs):
        out["a"].append(run_once(*a, cwd))
        out["b"].append(run_once(*b, cwd))
    return out


def med(xs):
    return statistics.median(xs)


def row(name, got, base=None):
    cpu = [c for c, _ in got]
    wall = [w for _, w in got]
    text = "  %-22s cpu %.3f s (%.3f-%.3f)  wall %.3f s (%.3f-%.3f)" % (
        name, med(cpu), min(cpu), max(cpu), med(wall), min(wall), max(wall))
    if base:
        text += "   ratio cpu %.2f  wall %.2f" % (
            med([a[0] / b[0] for a, b in zip(got, base)]),
            med([a[1] / b[1] for a, b in zip(got, base)]))
    print(text, flush=True)


def write_tests(path, n):
    with open(path, "w") as f:
        for i in range(n):
            f.write("def test_%d():\n    assert %d == %d\n\n\n" % (i, i, i))


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--runs", type=int, default=7)
    ap.add_argument("--tests", type=int, default=20)
    ap.add_argument("--python", default="/usr/bin/python3")
    args = ap.parse_args()
    cli = os.path.join(BUILD, "heapsnap")
    if not os.path.isfile(os.path.join(BUILD, "libheapsnap.so")) or not os.path.isfile(cli):
        sys.exit("pytestcost: build first (make all): no %s/libheapsnap.so" % BUILD)
    if subprocess.run([args.python, "-c", "import pytest"], capture_output=True).returncode:
        sys.exit("pytestcost: %s has no pytest (Debian's python3-pytest)" % args.python)
    tmp = tempfile.mkdtemp(prefix="pytestcost.")
    venv = os.path.join(tmp, "venv")
    # pip builds in the tree it is given: a copy, so the source tree gets no build/
    src = os.path.join(tmp, "pkgsrc")
    shutil.copytree(os.path.join(ROOT, "python"), src,
                    ignore=shutil.ignore_patterns("build", "*.egg-info"))
    for cmd in ([args.python, "-m", "venv", "--system-site-packages", venv],
                [os.path.join(venv, "bin", "pip"), "install", "-q", "--no-index", src]):
        r = subprocess.run(cmd, capture_output=True, text=True)
        if r.returncode:
            sys.exit("pytestcost: %s: %s" % (" ".join(cmd), r.stderr[-400:]))
    n, big = args.tests, 10 * args.tests
    write_tests(os.path.join(tmp, "test_few.py"), n)
    write_tests(os.path.join(tmp, "test_many.py"), big)
    env = {k: v for k, v in os.environ.items()
           if k not in ("LD_PRELOAD", "PYTHONPATH", "PYTEST_ADDOPTS")
           and not k.startswith("HEAPSNAP")}
    env["HEAPSNAP"] = cli
    vpy = os.path.join(venv, "bin", "python")
    pyt = ["-m", "pytest", "-q", "-p", "no:cacheprovider"]
    print("pytest --heapsnap against plain pytest, %s; %d runs each, alternating "
          "(median (min-max); ratios pair by pair)" % (args.python, args.runs))
    print("%d trivial tests:" % n)
    got = paired(([vpy] + pyt + ["--heapsnap", "test_few.py"], env),
                 ([vpy] + pyt + ["test_few.py"], env), args.runs, tmp)
    row("plain", got["b"])
    row("installed --heapsnap", got["a"], got["b"])
    few = got
    penv = dict(env, PYTHONPATH=os.path.join(ROOT, "python"))
    ppy = [args.python] + pyt + ["-p", "heapsnap.pytest_plugin"]
    got = paired((ppy + ["--heapsnap", "test_few.py"], penv), (ppy + ["test_few.py"], penv),
                 args.runs, tmp)
    row("-p, no pth: plain", got["b"])
    row("-p, no pth: --heapsnap", got["a"], got["b"])
    print("%d trivial tests (installed):" % big)
    many = paired(([vpy] + pyt + ["--heapsnap", "test_many.py"], env),
                  ([vpy] + pyt + ["test_many.py"], env), args.runs, tmp)
    row("plain", many["b"])
    row("installed --heapsnap", many["a"], many["b"])
    per = []
    for k in "ab":
        per.append((med([c for c, _ in many[k]]) - med([c for c, _ in few[k]])) / (big - n))
    print("a test: plain %.2f ms CPU, --heapsnap %.2f ms: --heapsnap adds %.2f ms a test"
          % (per[1] * 1e3, per[0] * 1e3, (per[0] - per[1]) * 1e3))
    subprocess.run(["rm", "-rf", tmp])


if __name__ == "__main__":
    main()
