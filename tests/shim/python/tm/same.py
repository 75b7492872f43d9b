# same.py - test_python_tracemalloc.sh's judge: heapsnap's output (argv 1,
# run from directory argv 2) against tracemalloc's (argv 3, from argv 4).
# The same lines in the same order, the script's directory aside; the
# numbers of Statistic and StatisticDiff lines (sizes, counts, differences)
# within 10% (counts: or 2 blocks; sizes: or 512 bytes, a block that one
# side counts and the other does not in a line's residue), and on other
# lines the text identical with numbers of 100 or more within 10% (smaller
# ones, line numbers among them, exact).  The average is size / count: a
# block less in a group of three moves it, so it is not compared.  Prints
# each difference; exit 1.
import os
import re
import sys

NUM = re.compile(r"([+-]?\d+(?:\.\d+)?)( (?:B|KiB|MiB|GiB|TiB))?")
UNIT = {None: 1, " B": 1, " KiB": 1024, " MiB": 1024 ** 2, " GiB": 1024 ** 3, " TiB": 1024 ** 4}


def lines(path, directory):
    with open(path) as f:
        # pretty.py prints the file's last two components: "hs/" or "tm/"
        last = os.path.basename(directory.rstrip("/")) + "/"
        return [l.rstrip("\n").replace(directory, "DIR").replace(last, "DIR/") for l in f]


def numbers(text):
    return [float(m.group(1)) * UNIT[m.group(2)] for m in NUM.finditer(text)]


def close(a, b, slack=2):
    return abs(a - b) <= 0.10 * max(abs(a), abs(b)) or abs(a - b) <= slack


def same_text(h, t):
    if NUM.sub("#", h) != NUM.sub("#", t):
        return False
    return all(a == b or (min(abs(a), abs(b)) >= 100 and close(a, b))
               for a, b in zip(numbers(h), numbers(t)))


hs, tm = lines(sys.argv[1], sys.argv[2]), lines(sys.argv[3], sys.argv[4])
bad = 0
if len(hs) != len(tm):
    print("heapsnap printed %d lines, tracemalloc %d" % (len(hs), len(tm)))
    bad = 1
for h, t in zip(hs, tm):
    hk, tk = h.split(": size=")[0], t.split(": size=")[0]
    if ": size=" in t and hk == tk and ": size=" in h:
        hn = numbers(h[len(hk):].split(", average=")[0])
        tn = numbers(t[len(tk):].split(", average=")[0])
        if len(hn) == len(tn) and all(close(a, b, 512) for a, b in zip(hn, tn)):
            continue
    elif same_text(h, t):
        continue
    print("heapsnap:    %s\ntracemalloc: %s" % (h, t))
    bad = 1
sys.exit(bad)
