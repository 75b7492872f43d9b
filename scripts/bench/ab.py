#!/usr/bin/env python3
"""scripts/bench/ab.py - interleaved A/B runs of one command under sets of variables.

Usage: scripts/bench/ab.py ROUNDS -- CMD [ARG...] ;; [VAR=VALUE...] ;; [VAR=VALUE...] ...

Runs CMD once under each set of variables (the first set is the base; an
empty set is the plain environment), in turn, ROUNDS times, and prints for
each set the median over the rounds of its wall and CPU time (user + sys of
the child) and its peak RSS (the child's own, wait4's ru_maxrss) divided by
the base's in the same round, and its median wall time and peak RSS.
Pairing within a round is what makes ratios readable on a shared machine,
where absolute times drift by tens of percent.  `make bench` judges the
targets; this is for the quick comparisons docs/performance.md quotes, such
as two builds of the shim:

    scripts/bench/ab.py 21 -- build/bench/churn 2000000 25000 1 ';;' ';;' \\
        LD_PRELOAD=$PWD/build/libheapsnap.so ';;' LD_PRELOAD=/tmp/other.so
"""

import os
import statistics
import subprocess
import sys
import time


def parse(argv):
    if len(argv) < 4 or not argv[0].isdigit() or argv[1] != "--" or ";;" not in argv:
        sys.exit(__doc__.split("\n\n")[1])
    cut = argv.index(";;")
    cmd, sets, cur = argv[2:cut], [], None
    for word in argv[cut:]:
        if word == ";;":
            cur = []
            sets.append(cur)
        elif "=" in word:
            cur.append(word.split("=", 1))
        else:
            sys.exit("ab.py: not VAR=VALUE: " + word)
    return int(argv[0]), cmd, sets


def run(cmd, env_set):
    env = dict(os.environ)
    env.update(dict(env_set))
    t0 = time.monotonic()
    p = subprocess.Popen(cmd, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    _, status, ru = os.wait4(p.pid, 0)
    t1 = time.monotonic()
    cpu = ru.ru_utime + ru.ru_stime
    return t1 - t0, cpu, os.waitstatus_to_exitcode(status), ru.ru_maxrss


def main(argv):
    rounds, cmd, sets = parse(argv)
    res = [[] for _ in sets]
    for _ in range(rounds):
        for i, s in enumerate(sets):
            res[i].append(run(cmd, s))
    for i, s in enumerate(sets):
        wall = statistics.median(a[0] / b[0] for a, b in zip(res[i], res[0]))
        cpu = statistics.median(a[1] / max(b[1], 1e-9) for a, b in zip(res[i], res[0]))
        name = " ".join("=".join(kv) for kv in s) or "(plain)"
        rss = statistics.median(a[3] / max(b[3], 1) for a, b in zip(res[i], res[0]))
        codes = sorted(set(a[2] for a in res[i]))
        print("%-60s wall %.3fx  cpu %.3fx  rss %.3fx  median %.1f ms %.1f MiB  exit %s" %
              (name[:60], wall, cpu, rss, 1000 * statistics.median(a[0] for a in res[i]),
               statistics.median(a[3] for a in res[i]) / 1024, codes))
    return 0 if all(a[2] == 0 for r in res for a in r) else 1


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
