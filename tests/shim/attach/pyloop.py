# pyloop.py - a Python program for test_attach_python_lines: 100,000 dicts
# and lists made and kept before any attach (a model's weights), then one
# command a line on stdin, one answer line each: "a" makes 20 lists of 200
# small dicts at STEP_LINE (step's body) and keeps them, answering with
# tracemalloc's count and size at that line when tracemalloc traces (the
# truth), else "-"; "w" does the same once the next line comes, before
# reading it (so no read's malloc comes first; the line is then taken
# and not answered); "l" runs a training loop that makes and drops them
# there until the next line comes; "q" leaves.  Imports nothing of
# heapsnap.
import os
import select
import sys
import tracemalloc

model = [{"k": i, "v": [i, i + 1]} for i in range(100000)]
kept = []


def step():
    return [{"a": i} for i in range(200)]  # STEP_LINE


def truth():
    if not tracemalloc.is_tracing():
        return "-"
    snap = tracemalloc.take_snapshot().filter_traces(
        [tracemalloc.Filter(True, __file__, step.__code__.co_firstlineno + 1)])
    stats = snap.statistics("lineno")
    return "%d %d" % (stats[0].count, stats[0].size) if stats else "0 0"


print("ready", os.getpid(), flush=True)
for line in sys.stdin:
    if line.startswith("w"):
        while not select.select([sys.stdin], [], [], 0.05)[0]:
            pass
    if line.startswith(("a", "w")):
        for _ in range(20):
            kept.append(step())
        print("made", truth(), flush=True)
    elif line.startswith("l"):
        while not select.select([sys.stdin], [], [], 0)[0]:
            kept.append(step())
            if len(kept) > 50:
                del kept[:25]
        print("looped", flush=True)
    elif line.startswith("s"):
        print("stopped", flush=True)
    elif line.startswith("q"):
        print("bye", flush=True)
        break
