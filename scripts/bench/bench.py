#!/usr/bin/env python3
"""scripts/bench/bench.py - the benchmark of issue 4 (and the core issue's speed floor).

Builds the workloads in scripts/bench/programs/ as the project's own programs (-O2 -g,
once without and once with frame pointers), then runs each one plain, under
heaptrack, and under heapsnap in each of its modes, alternating the tools
within a round so that drift on the machine hits them all alike, for N
rounds (workloads.py: the workloads and their modes; runner.py: the runs).
It prints, per workload, each tool's time as a ratio to the plain runs of
the same round (the median of those paired ratios over the rounds), its
median peak RSS, heapsnap's overhead as a fraction of heaptrack's, and
issue 4's targets judged on those figures (judge.py, report.py).  Every
workload prints a "checksum ..." line; a run under a tool whose checksum
differs from the plain run's, or that exits non-zero, is a loud error in
the table.  After the workloads, each round also writes one snapshot of a
million live blocks while another thread runs, and runs `heapsnap top` on
it: the snapshot and memory targets.

Exit: 0 all ran and matched, 1 a tool failed or changed a workload's
output, 2 trouble (a workload does not build or fails on its own).
docs/performance.md says what each verdict means.
"""

import argparse
import os
import shutil
import signal
import sys
import tempfile
import time

sys.dont_write_bytecode = True          # no __pycache__ in the source tree

import instrcount                       # noqa: E402
import report                           # noqa: E402
import runner                           # noqa: E402

OPTIONS = [
    ("--quick", "1 round, small sizes (about 2 minutes)"),
    ("--smoke", "1 round, tiny sizes, short time-outs: proves the bench works (under 30 s); "
                "asserts nothing about timings"),
    ("--rounds", "N rounds (default 7, or 1 with --quick/--smoke)"),
    ("--md", "also write the results as Markdown to FILE"),
    ("--doc", "also put the results, as Markdown, into docs/performance.md's \"Current "
              "results\" (between its bench:begin and bench:end lines)"),
    ("--raw", "also keep every run's figures in FILE: a line per run, \"workload mode round "
              "wall_us rss_kb status cpu_us\" (sampled mode's second runs are rounds N+1..2N), "
              "then a line per snapshot round, \"snapshot \" and its fields (judge.SnapRound)"),
    ("--only", "run only the workloads whose name contains PAT"),
    ("--lsan", "run issue 68's LeakSanitizer set alone (churn1, deep, churn2, cxx as clang builds; "
               "python, sqlite, jq, gcc with Debian's liblsan.so.0): plain, LeakSanitizer, "
               "heapsnap run, heapsnap run --leaks; its own table (not with --doc)"),
    ("--preload", "run heapsnap as LD_PRELOAD=build/libheapsnap.so, not `heapsnap run`"),
    ("--no-install", "do not call scripts/install-deps.sh bench"),
    ("--no-instr", "do not count instructions per malloc+free pair with callgrind "
                   "(instrcount.py; with --smoke only churn1 is counted)"),
]
METAVAR = {"--rounds": "N", "--md": "FILE", "--raw": "FILE", "--only": "PAT"}


def rounds_arg(text):
    if not text.isdigit() or int(text) == 0:
        raise argparse.ArgumentTypeError("--rounds wants a positive integer")
    return int(text)


def parse(argv):
    p = argparse.ArgumentParser(prog="bench.py", description=__doc__.split("\n\n", 1)[1],
                                formatter_class=argparse.RawDescriptionHelpFormatter)
    for opt, text in OPTIONS:
        if opt in METAVAR:
            p.add_argument(opt, metavar=METAVAR[opt], help=text,
                           type=rounds_arg if opt == "--rounds" else str,
                           default="" if opt == "--only" else None)
        else:
            p.add_argument(opt, action="store_true", help=text)
    o = p.parse_args(argv)
    o.size = "smoke" if o.smoke else "quick" if o.quick else "full"
    o.rounds = o.rounds or (7 if o.size == "full" else 1)
    return o


def failures(r):
    """The exit status the runs call for, with its message."""
    if any(x.status != "ok" and x.mode == "plain" for x in r.runs):
        runner.say("a workload failed on its own")
        return 2
    if any(x.status != "ok" for x in r.runs):
        runner.say("some runs failed or changed the output (!! in the table)")
        return 1
    if any(s.status != "ok" for s in r.snaps):
        runner.say("the snapshot runs failed")
        return 1
    return 0


def write_raw(path, r):
    with open(path, "w") as f:
        for x in r.runs:
            f.write(" ".join(str(v) for v in x) + "\n")
        for s in r.snaps:
            f.write("snapshot " + " ".join(str(v) for v in s) + "\n")


def put_in_doc(path, lines):
    """Replaces what lies between PATH's "<!-- bench:begin -->" and
    "<!-- bench:end -->" lines with LINES; False if they are not there."""
    with open(path) as f:
        text = f.read().split("\n")
    try:
        a, b = text.index("<!-- bench:begin -->"), text.index("<!-- bench:end -->")
    except ValueError:
        return False
    with open(path, "w") as f:
        f.write("\n".join(text[:a + 1] + [""] + lines + [""] + text[b:]))
    return True


def bench(o, root, work, argv):
    t_start, load0 = time.monotonic(), report.load_average()
    if o.lsan and o.doc:
        runner.say("--doc keeps the main bench's table: not with --lsan (use --md)")
        return 2
    r = runner.Runner(root, os.environ.get("BUILD", "build"), o.size, o.rounds, o.only,
                      o.preload, work, o.lsan)
    if not r.setup(not o.no_install) or not r.build_workloads():
        return 2
    r.run_rounds()
    r.run_walked()
    r.run_snapshot()
    instr = None
    if not o.no_instr and not o.lsan and shutil.which("valgrind"):
        runner.say("instructions per pair (callgrind)")
        instr = instrcount.count("smoke" if o.size == "smoke" else "quick",
                                 "churn1" if o.size == "smoke" else o.only, work + "/instr",
                                 os.path.realpath(os.path.join(root, os.environ.get("BUILD", "build"),
                                                               "libheapsnap.so")))
    rep = report.Report(r)
    rep.instr = instr
    machine = report.machine(root, load0)
    seconds = int(time.monotonic() - t_start)
    print()
    print("\n".join(rep.lines()))
    print("\n".join("# " + m[2:] for m in machine))
    print("# %d round(s), %s sizes, %d s" % (o.rounds, o.size, seconds), flush=True)
    command = " ".join(["scripts/bench/bench.py"] + argv)
    if o.md:
        with open(o.md, "w") as f:
            f.write("\n".join(rep.markdown(command, seconds, machine)) + "\n")
    if o.doc and not put_in_doc(os.path.join(root, "docs/performance.md"),
                                rep.doc_markdown(command, seconds, machine)):
        runner.say("docs/performance.md has no bench:begin/bench:end lines: not written")
        return 2
    if o.doc and instr and not instrcount.put_in_doc(
            instrcount.doc_lines(instr, command, instrcount.commit_of(), rep.wall)):
        runner.say("docs/performance.md has no instr:begin/instr:end lines: not written")
        return 2
    if o.raw:
        write_raw(o.raw, r)
    return failures(r)


def main(argv):
    o = parse(argv)
    root = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
    os.chdir(root)
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(128 + signal.SIGTERM))
    work = tempfile.mkdtemp(prefix="heapsnap-bench.", dir="/tmp")
    try:
        return bench(o, root, work, argv)
    finally:
        shutil.rmtree(work, ignore_errors=True)


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
