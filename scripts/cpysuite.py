#!/usr/bin/env python3
"""cpysuite.py - CPython's own regression tests run plain and under the shim,
compared test by test: a guest never changes its host, so every test that
passes plain passes under each configuration of the shim.

Each configuration is one run of the interpreter's regrtest (`PY -m test
--junit-xml`) over the same test modules, with the same --match filters;
the shim's environment is added to the plain one.  The verdict is per test
case, not per total: a case that passes plain (ran, no failure, error or
skip) and does not pass in a configuration is lost there (a failure, an
error, a skip, or missing: its run died before it).  A case that does not
pass plain is left out, with its reason.

Usage:
  scripts/cpysuite.py --python PY --shim SO --out DIR [--config NAME=VAR=VAL[,VAR=VAL]]...
                      [--match PATTERN]... [--ignore PATTERN]... [--timeout S] TEST...
  --config    a configuration of the shim: NAME and its environment
              (default: the three of test_python_cpython_suite.sh, "default",
              "sample" HEAPSNAP_SAMPLE=524288, "leaks" HEAPSNAP_LEAKS=1);
              "plain" always runs first, with no LD_PRELOAD
  --xopt      an -X option for the interpreter in every run (tracemalloc)
  --match     regrtest's -m (a test name or a glob over its id), repeatable
  --ignore    regrtest's -i (a case left out of every run), repeatable
  TEST        regrtest's names: test_gc, test_importlib.test_threaded_import
The heavy form: every module the test chooses, on every CPython here:
  scripts/cpython-suite.sh (it calls this for each interpreter).
Output, one line each (test_python_cpython_suite.sh turns them into
verdicts):
  plain N              N cases pass plain
  leftout ID: WHY      ID does not pass plain
  kept NAME N          all N plain passes pass under NAME
  lost NAME ID: HOW    ID passes plain, not under NAME (HOW: failure, error,
                       skipped or missing, with the first line of its message)
  died NAME: TAIL      the run under NAME wrote no results (regrtest's last lines)
Exit: 0 nothing lost, 1 something lost or died, 2 trouble (plain wrote no results).
"""
import argparse
import os
import subprocess
import sys
import xml.etree.ElementTree as ET

DEFAULT_CONFIGS = ["default=", "sample=HEAPSNAP_SAMPLE=524288", "leaks=HEAPSNAP_LEAKS=1"]


def outcomes(xml_path):
    """{test id: (outcome, first line of its message)} of one junit file."""
    got = {}
    for case in ET.parse(xml_path).getroot().iter("testcase"):
        how, why = "pass", ""
        for kind in ("failure", "error", "skipped"):
            el = case.find(kind)
            if el is not None:
                how = kind
                why = (el.get("message") or el.text or "").strip().splitlines()[:1]
                why = why[0][:160] if why else ""
                break
        if how == "pass" and case.get("status") not in (None, "run"):
            how = case.get("status")
        got[case.get("name")] = (how, why)
    return got


def run(args, name, env_extra, out):
    """One regrtest run; the junit file's path, or None with the output's tail."""
    xml = os.path.join(out, f"{name}.xml")
    if os.path.exists(xml):
        os.unlink(xml)
    env = dict(os.environ)
    for k in [k for k in env if k.startswith("HEAPSNAP_") or k == "LD_PRELOAD"]:
        del env[k]
    if name != "plain":
        snaps = os.path.join(out, f"snap-{name}")
        os.makedirs(snaps, exist_ok=True)
        env["LD_PRELOAD"] = args.shim
        env["HEAPSNAP_OUTPUT"] = os.path.join(snaps, "x.%p.hsnap")
        env.update(env_extra)
    cmd = [args.python] + [a for x in args.xopt for a in ("-X", x)]
    cmd += ["-m", "test", "--junit-xml", xml]
    cmd += [a for m in args.match for a in ("-m", m)]
    cmd += [a for m in args.ignore for a in ("-i", m)]
    cmd += args.tests
    log = os.path.join(out, f"{name}.log")
    with open(log, "w") as f:
        p = subprocess.Popen(cmd, env=env, stdout=f, stderr=subprocess.STDOUT, cwd=out)
        try:
            p.wait(timeout=args.timeout)
        except subprocess.TimeoutExpired:
            stacks = os.path.join(out, f"{name}.stacks")
            dump_stacks(p.pid, stacks)
            for pid in reversed(descendants(p.pid)):
                try:
                    os.kill(pid, 9)
                except OSError:
                    pass
            p.wait()
            f.write(f"\ncpysuite: over {args.timeout} s (its threads: {name}.stacks)\n")
    if os.path.exists(xml) and os.path.getsize(xml) > 0:
        return xml, ""
    with open(log, errors="replace") as f:
        tail = " | ".join(line.strip() for line in f.read().splitlines()[-6:])
    return None, tail


def descendants(pid):
    """pid and every process under it, parents first (/proc's children lists)."""
    out, todo = [], [pid]
    while todo and len(out) < 64:
        p = todo.pop(0)
        out.append(p)
        try:
            for t in os.listdir(f"/proc/{p}/task"):
                with open(f"/proc/{p}/task/{t}/children") as c:
                    todo += [int(x) for x in c.read().split()]
        except OSError:
            pass
    return out


def dump_stacks(pid, path):
    """Where each thread of a run that went over its time waits, into path,
    before it is killed: the thread's name, wchan and system call from
    /proc, and gdb's backtraces where gdb is installed (a hang under the
    shim, named by its frames, rather than "over N s" alone)."""
    with open(path, "w") as f:
        for p in descendants(pid)[:8]:
            try:
                with open(f"/proc/{p}/cmdline", "rb") as c:
                    argv = c.read().replace(b"\0", b" ").decode(errors="replace")[:120]
                f.write(f"== pid {p}: {argv}\n")
                for t in sorted(os.listdir(f"/proc/{p}/task"), key=int):
                    d = f"/proc/{p}/task/{t}"
                    parts = []
                    for k in ("comm", "wchan", "syscall"):
                        try:
                            with open(f"{d}/{k}") as c:
                                parts.append(c.read().split("\n")[0].split(" ")[0])
                        except OSError:
                            parts.append("?")
                    f.write(f"   tid {t} {parts[0]}: wchan {parts[1]}, syscall {parts[2]}\n")
            except OSError:
                continue
            f.flush()
            try:
                subprocess.run(["gdb", "-p", str(p), "-batch", "-ex", "thread apply all bt 30"],
                               stdout=f, stderr=subprocess.DEVNULL, timeout=60)
            except (OSError, subprocess.TimeoutExpired):
                pass


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--python", required=True)
    ap.add_argument("--shim", required=True)
    ap.add_argument("--out", required=True)
    ap.add_argument("--config", action="append")
    ap.add_argument("--xopt", action="append", default=[])
    ap.add_argument("--match", action="append", default=[])
    ap.add_argument("--ignore", action="append", default=[])
    ap.add_argument("--timeout", type=int, default=600)
    ap.add_argument("tests", nargs="+")
    args = ap.parse_args()
    os.makedirs(args.out, exist_ok=True)

    xml, tail = run(args, "plain", {}, args.out)
    if not xml:
        print(f"cpysuite: the plain run wrote no results: {tail}", file=sys.stderr)
        return 2
    plain = outcomes(xml)
    passing = sorted(t for t, (how, _) in plain.items() if how == "pass")
    print(f"plain {len(passing)}")
    for t, (how, why) in sorted(plain.items()):
        if how != "pass":
            print(f"leftout {t}: plain {how}: {why}")
    bad = 0
    for spec in args.config or DEFAULT_CONFIGS:
        name, _, envs = spec.partition("=")
        extra = dict(e.split("=", 1) for e in envs.split(",") if e)
        xml, tail = run(args, name, extra, args.out)
        if not xml:
            print(f"died {name}: {tail}")
            bad = 1
            continue
        got = outcomes(xml)
        lost = [(t, got.get(t, ("missing", ""))) for t in passing if got.get(t, ("missing",))[0] != "pass"]
        for t, (how, why) in lost:
            print(f"lost {name} {t}: {how}: {why}")
        if lost:
            bad = 1
        else:
            print(f"kept {name} {len(passing)}")
    return bad


if __name__ == "__main__":
    sys.exit(main())
