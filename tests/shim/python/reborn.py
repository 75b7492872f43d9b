# reborn.py - objects a free list hands out again where C code calls back
# into Python (test_python_callback_lines.sh): the caller's temporaries
# die onto the interpreter's free lists (a loop's float, tuple, dict,
# list; 3.14 on its counter, an int) and the callback's new objects are
# taken from there, never from the allocator.  tracemalloc charges them to
# the callback's line (CHARGED); the caller's lines keep nothing.
import json

N = 10000


def half(k):
    return [k * 0.25]  # CHARGED


def pairs(k):
    return [(k, k + 1), {"k": k}]  # CHARGED


def run(n):
    kept = []
    for i in range(1000, 1000 + n):
        x = i * 0.5
        t = (x, i)
        d = {"x": x}
        kept.append(list(map(half, [i])))
        kept.append(json.loads('[%d, "x%d", [%d]]' % (i, i, i)))
        kept.append(list(map(pairs, [t[1]])))
    return kept
