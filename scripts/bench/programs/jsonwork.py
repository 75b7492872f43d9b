# jsonwork.py - benchmark workload: a json-heavy Python program (issue 32's
# cost target): records built, dumped to JSON text and loaded back, over and
# over, so most allocations come from the json module's C accelerator
# (_json) called from Python lines.
#
# Usage: python3 jsonwork.py ROUNDS   prints "checksum json <hex>", exits 0.
import json
import sys


def records(seed, n):
    x = seed
    out = []
    for i in range(n):
        x = (x * 6364136223846793005 + 1442695040888963407) & 0xFFFFFFFFFFFFFFFF
        out.append({"id": i, "name": "user-%d" % (x % 100003), "score": (x % 1000) / 7.0,
                    "tags": ["t%d" % (x % 13), "t%d" % (x % 17)], "ok": bool(x & 1)})
    return out


def main():
    rounds = int(sys.argv[1])
    total = 0
    for r in range(rounds):
        text = json.dumps(records(r + 1, 5000))
        back = json.loads(text)
        total = (total * 31 + len(text) + sum(d["id"] + len(d["tags"]) for d in back)) \
            & 0xFFFFFFFFFFFFFFFF
    print("checksum json %x" % total)


main()
