"""pywork.py - the Python workload of scripts/bench/python_bench.py: object
churn as a typical Python program makes it (dicts, lists, strings, a class,
JSON round trips): 3.2 million allocations, 57 MiB at the traced peak.
argv[1]: the scale (1 = the benchmark's size)."""
import json
import sys


class Item:
    def __init__(self, i):
        self.key = "item-%d" % i
        self.tags = [i % 7, i % 11]
        self.attrs = {"n": i, "sq": i * i}


def build(n):
    return [Item(i) for i in range(n)]


def churn(items):
    text = json.dumps([it.attrs for it in items[:20000]])
    back = json.loads(text)
    index = {it.key: it for it in items}
    words = sorted(k.upper() for k in index)
    return len(back) + len(words)


def main(scale):
    total = 0
    for r in range(3):
        items = build(60000 * scale)
        total += churn(items)
    print(total)


main(int(sys.argv[1]) if len(sys.argv) > 1 else 1)
