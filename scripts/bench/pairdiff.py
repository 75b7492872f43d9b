#!/usr/bin/env python3
"""scripts/bench/pairdiff.py - how many seconds one command adds to another.

Usage: scripts/bench/pairdiff.py ROUNDS 'COMMAND A' 'COMMAND B'

Runs A and B in turn (a shell runs each; its output is thrown away), one
round of each first unmeasured, then ROUNDS rounds, and prints both
commands' median wall time and the median of the rounds' differences
A - B, with its quartiles.  A difference taken within a round is what
reads a bound such as issue 47's "within 0.1 s of the plain run" on a
shared machine, where both medians drift by tens of milliseconds between
batches and a ratio of medians (ab.py, farm-bench) mixes the drifts of
two commands.  For example, pyenv's shim:

    scripts/bench/pairdiff.py 40 \\
        'build/heapsnap run -o /tmp/p.hsnap -- python3 -c pass' 'python3 -c pass'
"""

import statistics
import subprocess
import sys
import time


def wall(cmd):
    t = time.monotonic()
    subprocess.run(cmd, shell=True, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    return time.monotonic() - t


def main(argv):
    if len(argv) != 3 or not argv[0].isdigit() or int(argv[0]) < 4:
        sys.exit(__doc__.split("\n\n")[1])
    n, a, b = int(argv[0]), argv[1], argv[2]
    wall(a), wall(b)
    ta, tb = [], []
    for _ in range(n):
        ta.append(wall(a))
        tb.append(wall(b))
    d = [x - y for x, y in zip(ta, tb)]
    q = statistics.quantiles(d, n=4)
    print(f"A {statistics.median(ta):.4f} s  B {statistics.median(tb):.4f} s  "
          f"A - B {statistics.median(d):+.4f} s (quartiles {q[0]:+.4f} {q[2]:+.4f}, {n} rounds)")


if __name__ == "__main__":
    main(sys.argv[1:])
