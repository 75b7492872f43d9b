# dicts.py - benchmark workload: python3 building dicts of lists (issue 4, row 7).
#
# Run with PYTHONMALLOC=malloc so every object allocation reaches malloc and the
# shim.  Builds and rebuilds dictionaries of lists of small ints and strings with
# a fixed-seed generator, keeping a bounded number alive, and prints a checksum
# that does not depend on hash randomisation.
#
# Usage: python3 dicts.py ROUNDS      prints "checksum dicts <hex>", exits 0.
import sys


def build(seed, n):
    d = {}
    x = seed
    for i in range(n):
        x = (x * 6364136223846793005 + 1442695040888963407) & 0xFFFFFFFFFFFFFFFF
        key = "k%d" % (x % 997)
        d.setdefault(key, []).append([x % 1000, str(x % 10007), (i, x & 0xFF)])
    return d


def main():
    rounds = int(sys.argv[1])
    keep = []
    total = 0
    for r in range(rounds):
        d = build(r + 1, 2000)
        total = (total * 31 + sum(len(v) for v in d.values()) +
                 sum(item[0] for v in d.values() for item in v)) & 0xFFFFFFFFFFFFFFFF
        keep.append(d)
        if len(keep) > 8:
            keep.pop(0)
    print("checksum dicts %016x" % total)


main()
