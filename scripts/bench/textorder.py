#!/usr/bin/env python3
"""Writes shim/text.order: the shim's functions that the bench workloads run,
in the order the link places them (the Makefile turns the list into a
linker script, build/gen/text.ld, which puts them at the head of the shim's
text).  A page of text the program touches is resident with its 64 KiB
fault-around window; the functions a run executes, packed together, fault
in a few windows instead of the whole text (docs/performance.md, "Peak
RSS").  Each workload runs once under `valgrind --tool=callgrind` at its
smoke size with SHIM, and every function of the shim with a cost is listed:

  1. those run by every C workload (start, hooks, the exit snapshot),
  2. those run by some C workload (threads, realloc, the leak check),
  3. those run by the Python workload only.

Names are written without GCC's clone suffixes (.lto_priv.N, .constprop.N,
.isra.N, .part.N), which move between builds; the linker script matches
every clone of a name.  A function missing from the list (a new one) is
linked after the listed ones: the order is a hint, never a condition.
Run it again when a change adds functions to what the workloads run (the
footprint test's shim_text_resident_small says when), and commit the file.

usage: scripts/bench/textorder.py [SHIM] [--python PYTHON]
"""

import argparse
import os
import re
import subprocess
import sys
import tempfile

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
PROG = os.path.join(ROOT, "scripts", "bench", "programs")
SUFFIX = re.compile(r"\.(lto_priv|constprop|isra|part|cold|localalias)(\.\d+)?")
VARIANT = re.compile(r"(.*)_(sse\d*|avx\d*|zmm|evex)$")


def c_workloads(work):
    """(name, argv, env) of the C workloads, at smoke sizes."""
    return [
        ("churn1", [f"{work}/churn", "200000", "20000", "1"], {}),
        ("churn4", [f"{work}/churn", "200000", "20000", "4"], {}),
        ("deep", [f"{work}/deep", "20000", "10000"], {}),
        ("realloc", [f"{work}/realloc", "5000", "2000"], {}),
        ("cxx", [f"{work}/cxx", "20000", "5000"], {}),
        ("sqlite", ["sqlite3", "-init", f"{work}/sqlite.sql", ":memory:"], {}),
        ("leakcheck", [f"{work}/leakcheck", "20000", "1000"], {"HEAPSNAP_LEAKS": "1"}),
    ]


def build(work):
    for c in ("churn", "deep", "realloc", "leakcheck"):
        subprocess.run(["cc", "-O2", "-o", f"{work}/{c}", f"{PROG}/{c}.c", "-lpthread"],
                       check=True)
    subprocess.run(["g++", "-O2", "-o", f"{work}/cxx", f"{PROG}/cxx.cc"], check=True)
    with open(f"{PROG}/sqlite.sql") as f, open(f"{work}/sqlite.sql", "w") as g:
        g.write(f.read().replace("@ROWS@", "3000"))


def run(shim, work, name, argv, env):
    """The shim's functions with a cost in one run (names without clone suffixes)."""
    out = f"{work}/cg.{name}"
    e = dict(os.environ, LD_PRELOAD=shim, HEAPSNAP_OUTPUT=f"{work}/{name}.hsnap", **env)
    subprocess.run(["valgrind", "--tool=callgrind", "--callgrind-out-file=" + out] + argv,
                   env=e, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
                   stdin=subprocess.DEVNULL, timeout=900)
    ann = subprocess.run(["callgrind_annotate", "--threshold=100", out],
                         capture_output=True, text=True, check=True).stdout
    fns = {}
    tag = "[" + shim + "]"
    for line in ann.splitlines():
        if not line.rstrip().endswith(tag):
            continue
        m = re.match(r"\s*([\d,]+)\s.*?:(\S+)\s+\[", line)
        if m:
            fn = SUFFIX.sub("", m.group(2).split("'")[0])  # name'2: a recursion depth
            fns[fn] = fns.get(fn, 0) + int(m.group(1).replace(",", ""))
    return fns


# Input sections put first, as the linker script names them: code every
# run reaches that has no section per function, or that a run under
# valgrind does not show.  crtbeginS.o's (its destructors at exit) and
# GCC's .text.startup/.text.exit (LTO's static constructors), the
# snapshot's CRC-32 (zlib), the CPU probe at start (libgcc), atexit and
# pthread_atfork (libc_nonshared).
HEAD = ["*crtbeginS.o(.text .text.*)", "*(.text.startup .text.startup.* .text.exit .text.exit.*)",
        "*libz.a:crc32.o(.text .text.*)", "*libgcc.a:cpuinfo.o(.text .text.*)",
        "*libc_nonshared.a:atexit.oS(.text .text.*)",
        "*libc_nonshared.a:pthread_atfork.oS(.text .text.*)"]
# Functions that run natively but not under valgrind (found with gdb's
# breakpoints on the unlisted functions): the module of a mapping found by
# its name in /proc/self/maps (the main program's, named by the loader
# with an empty string), a lock's stall handler (timing), and the Python
# exit's registers of a thread's C stack.
NATIVE = ["mod_find_line", "orph_stalled", "pyg_cstack_regs", "cfi_memo_list"]
# A fork's path (no bench workload forks): its child maps none of the
# text its parent had, so each 64 KiB window it runs is a page fault in
# every fork (test_footprint's fork_page_faults_small).  Listed together
# after the groups' functions, those a workload runs staying in theirs.
FORK = ["life_prepare", "life_parent", "life_release", "life_child", "pend_lock_all",
        "pend_unlock_all", "trace_lock", "trace_unlock", "arena_maps_hold",
        "arena_maps_release", "trace_after_fork_child", "pend_after_fork_child",
        "peak_after_fork_child", "state_after_fork_child", "state_move_all", "state_move",
        "state_restart", "stop_after_fork_child", "rcache_after_fork_child", "py_forked",
        "pytrack_prepare", "pytrack_parent", "pytrack_child", "att_live_child", "_exit",
        "life_quick_exit"]
# What a big heap's exit runs that the workloads' smoke sizes do not
# (found with gdb's breakpoints on the unlisted functions at the exit of
# `kept 1000000 64`): a bucket of a run past BSORT_SMALL blocks, arrays
# populated whole, the trace count's out-of-line copy.  Listed at the end
# of the C group, beside zstd's members.
BIGEXIT = ["bsort_blocks", "bsort_blocks_level", "arena_populate", "trace_count"]
# zstd's members a snapshot's compression runs (level 1: the fast
# strategy), together: one section a member, so its functions' names
# above match nothing; left where the archive puts them, the strategies
# never run (lazy, opt, double_fast) split them and a Python exit faulted
# in 6 windows of zstd's text, 3 once together.  They follow the C
# group, not the Python one: the exit of a C program that compresses
# (2,048 live blocks or more) ran the C group's last window, then faulted
# in the Python group's last (which zstd began in) and two more; beside
# the C group it faults in two.
ZSTD = ["*libzstd.a:" + m + ".o(.text .text.*)" for m in (
    "zstd_compress", "zstd_ldm", "zstd_compress_literals", "zstd_compress_sequences",
    "entropy_common", "error_private", "zstd_common", "fse_compress", "hist",
    "huf_compress", "xxhash", "zstd_fast")]


def siblings(shim):
    """name -> its CPU variants in the shim (scrub_frames_sse/_avx/_evex): a
    run under valgrind takes the one valgrind's CPU has; listed together."""
    names = set()
    for line in subprocess.run(["nm", shim], capture_output=True, text=True,
                               check=True).stdout.splitlines():
        p = line.split()
        if len(p) == 3 and p[1] in "tTwW":
            names.add(SUFFIX.sub("", p[2]))
    fam = {}
    for n in names:
        m = VARIANT.match(n)
        if m:
            fam.setdefault(m.group(1), []).append(n)
    return {n: sorted(fam[VARIANT.match(n).group(1)]) for n in names if VARIANT.match(n)}


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("shim", nargs="?", default=os.path.join(ROOT, "build", "libheapsnap.so"))
    ap.add_argument("--python", default="/usr/bin/python3")
    ap.add_argument("--out", default=os.path.join(ROOT, "shim", "text.order"))
    a = ap.parse_args()
    shim = os.path.realpath(a.shim)
    with tempfile.TemporaryDirectory() as work:
        build(work)
        runs = {}
        for name, argv, env in c_workloads(work):
            runs[name] = run(shim, work, name, argv, env)
            print(f"{name}: {len(runs[name])} functions", file=sys.stderr)
        # at the bench's size (50): a smaller heap's exit never runs the
        # Python graph's flushes and frees (pyg_edge_flush, pyg_owned_free...)
        py = run(shim, work, "python", [a.python, f"{PROG}/dicts.py", "50"],
                 {"PYTHONMALLOC": "malloc", "PYTHONHASHSEED": "0"})
        print(f"python: {len(py)} functions", file=sys.stderr)
    cost = {}
    for fns in list(runs.values()) + [py]:
        for fn, n in fns.items():
            cost[fn] = cost.get(fn, 0) + n
    for fn in NATIVE:
        cost.setdefault(fn, 0)
        for f in runs.values():
            f.setdefault(fn, 0)
    every = set.intersection(*(set(f) for f in runs.values()))
    some = set.union(*(set(f) for f in runs.values())) - every
    pyonly = set(py) - every - some
    runs_of = {fn: sum(fn in f for f in runs.values()) for fn in cost}
    # the most shared first, then the costliest: a workload's functions
    # gather at the head of the group
    order = lambda s: sorted(s, key=lambda fn: (-runs_of[fn], -cost[fn], fn))
    sibs = siblings(shim)
    with open(a.out, "w") as f:
        f.write("# The shim's functions in link order (scripts/bench/textorder.py writes\n"
                "# this file; the Makefile makes build/gen/text.ld of it).  A line that\n"
                "# starts with * is an input section pattern, copied as it is.\n")
        f.write("# sections every C workload runs\n")
        for m in HEAD:
            f.write(m + "\n")
        for title, s in (("run by every C workload", every), ("run by some C workload", some),
                         ("run by the Python workload only", pyonly)):
            f.write(f"# {title}\n")
            for fn in order(s):
                for g in [fn] + [x for x in sibs.get(fn, []) if x not in cost]:
                    f.write(g + "\n")
            if s is some:
                for fn in FORK + BIGEXIT:
                    if fn not in cost:
                        f.write(fn + "\n")
                f.write("# zstd's members the compressor runs\n")
                for m in ZSTD:
                    f.write(m + "\n")
    print(f"{a.out}: {len(every)} + {len(some)} + {len(pyonly)} functions", file=sys.stderr)


if __name__ == "__main__":
    main()
