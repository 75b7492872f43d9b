# target.py - a Python program for tests/shim/attach: "a" makes 1000 small dicts
# (kept), "q" leaves; one answer line each.  Imports nothing of heapsnap.
import os
import sys

kept = []


def grow():
    for i in range(1000):
        kept.append({"i": i, "s": "x" * 40})


print("ready", os.getpid(), flush=True)
for line in sys.stdin:
    if line.startswith("a"):
        grow()
        print("dicts", len(kept), flush=True)
    elif line.startswith("q"):
        print("bye", flush=True)
        break
