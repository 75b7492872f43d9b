# sites.py - allocations made by C under a Python line, for
# test_python_sites.sh: json.loads (the _json extension), sqlite3's
# fetchall (the _sqlite3 extension) and libc's malloc through ctypes, each
# kept alive, then a snapshot.  argv: the snapshot's path, then "json",
# "sqlite", "ctypes" or "peak" (any of them; all by default).
import ctypes
import json
import sys

libc = ctypes.CDLL(None)
libc.malloc.restype = ctypes.c_void_p
libc.malloc.argtypes = [ctypes.c_size_t]
held = []


def load_json():
    text = json.dumps([{"name": "item%d" % i, "tags": ["a%d" % i, "b%d" % i]}
                       for i in range(4000)])
    held.append(json.loads(text))


def fetch_rows():
    import sqlite3
    db = sqlite3.connect(":memory:")
    db.execute("create table t (a integer, b text)")
    db.executemany("insert into t values (?, ?)",
                   (((i, "row number %d" % i) for i in range(4000))))
    cur = db.execute("select a, b from t")
    held.append(cur.fetchall())  # MARK_FETCHALL
    db.close()


def through_ctypes():
    for i in range(4):
        held.append(libc.malloc(300001))  # MARK_CTYPES


def peak_then_free():
    big = [bytearray(1000) for i in range(3000)]  # MARK_PEAK
    del big


what = sys.argv[2:] or ["json", "sqlite", "ctypes", "peak"]
if "json" in what:
    load_json()
if "sqlite" in what:
    fetch_rows()
if "ctypes" in what:
    through_ctypes()
if "peak" in what:
    peak_then_free()
libc.heapsnap_take_snapshot(sys.argv[1].encode())
