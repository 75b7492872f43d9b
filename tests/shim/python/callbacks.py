# callbacks.py - Python code that C code calls (test_python_callback_lines.sh):
# json's C scanner calling hooks, sorted(key=), map and filter, a C
# library's callback (ctypes, qsort), __init__ from type_call, a property
# and a descriptor, generators resumed by list() and sum(), operator
# overloads called by the interpreter and by dict.  Each line marked
# CHARGED allocates in the callback; callback_drive.py runs run(n).
import ctypes
import json

N = 10000


class Point:
    def __init__(self, i):
        self.tags = [i]  # CHARGED
        self.name = "p%d" % i  # CHARGED


class Box:
    def __init__(self, v):
        self.v = v

    @property
    def pair(self):
        return [self.v, self.v]  # CHARGED

    def __add__(self, other):
        return Box([self.v, other])  # CHARGED

    def __hash__(self):
        return self.v & 7

    def __eq__(self, other):
        self.seen = [other.v]  # CHARGED
        return False


class Doubled:
    def __get__(self, obj, owner):
        return [obj.v] * 2  # CHARGED


Box.doubled = Doubled()


def hook(d):
    d["hooked"] = [len(d)]  # CHARGED
    return d


def as_list(s):
    return [s]  # CHARGED


def sort_key(x):
    KEPT.append((x, [x]))  # CHARGED
    return x % 7


def double(x):
    return [x, x]  # CHARGED


def odd(x):
    KEPT.append([x])  # CHARGED
    return x & 1


def gen(n):
    for i in range(n):
        yield [i]  # CHARGED


def compare(a, b):
    KEPT.append([a])  # CHARGED
    return 0


KEPT = []
COMPARE = ctypes.CFUNCTYPE(ctypes.c_int, ctypes.c_void_p, ctypes.c_void_p)(compare)
LIBC = ctypes.CDLL(None)
DECODER = json.JSONDecoder(object_hook=hook, parse_float=as_list)
DOC = '{"a": [1, 2.5, "s"], "b": {"c": 3.25}}'


def run(n):
    del KEPT[:]
    kept = [KEPT]
    kept.append([DECODER.decode(DOC) for i in range(n)])
    kept.append(sorted(range(n), key=sort_key))
    kept.append(list(map(double, range(n))))
    kept.append(list(filter(odd, range(n))))
    kept.append([Point(i) for i in range(n)])
    boxes = [Box(i) for i in range(n)]
    kept.append(boxes)
    kept.append([b.pair for b in boxes])
    kept.append([b.doubled for b in boxes])
    kept.append([b + 1 for b in boxes])
    table = {}
    for b in boxes[:400]:
        table[b] = 1
    kept.append(list(gen(n)))
    kept.append(sum(gen(n // 10), []))
    arr = (ctypes.c_int * 1000)()
    for r in range(n // 1000):
        LIBC.qsort(arr, 1000, ctypes.sizeof(ctypes.c_int), COMPARE)
    return kept
