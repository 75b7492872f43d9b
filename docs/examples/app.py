# docs/examples/app.py - the program docs/python.md profiles: a cache of
# bytearrays, a C extension (pyext, docs/examples/pyext.c) that leaks 4 KiB
# a call and leaks a reference, objects of its own classes held by globals,
# reference cycles the collector frees and cycles left for it (gc is off,
# so the last ones wait for it at exit).
import gc
import os
import sys

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "..", "build", "examples"))
import pyext  # noqa: E402  (make builds it into build/examples)


def build(n):
    return [bytearray(256) for _ in range(n)]


def load():
    rows = build(16000)
    for _ in range(4):
        pyext.leak(4096)
    return rows


class Node:
    def __init__(self):
        self.next = None


class Fin:
    def __del__(self):
        pass


class Item:
    pass


class Result:
    def __init__(self, data):
        self.data = data


def fill(cache):
    for u in range(8):
        cache["user%d" % u] = [Item() for _ in range(5)]
    cache["user42"] = Result([Item()])


def pair():
    a, b = Node(), Node()
    a.next, b.next = b, a


def garbage():
    for _ in range(50):
        pair()
    f = Fin()
    f.me = f


def run():
    for _ in range(2):
        pyext.leaked(100)


gc.disable()
ROWS = load()
NODES = [Node() for _ in range(1000)]
TABLES = [[0] * 100 for _ in range(300)]
CACHE = {}
fill(CACHE)
ONE = Item()
BIG = {i: bytearray(512 * 1024) for i in range(16)}
for _ in range(200):
    pair()
gc.collect()
garbage()
run()
