# clean_sqlite.py - a clean program for test_python_clean_programs.sh:
# sqlite3 with an in-memory database, a table, inserts, queries, a
# commit and close.  With "plant" (argv[1]) it also drops a pair of
# Planted objects that point to each other, with the collector off (a
# cycle only the collector frees, at its marked line), and a
# 4000-byte malloc whose address it never keeps (a direct leak).
import sqlite3
import sys

db = sqlite3.connect(":memory:")
db.execute("create table t (k integer primary key, v text, n real)")
db.executemany("insert into t (v, n) values (?, ?)", [("v%d" % i, i / 3) for i in range(300)])
rows = db.execute("select k, v from t where k % 7 = 0 order by k").fetchall()
total = db.execute("select count(*), sum(n) from t").fetchone()
db.execute("update t set v = upper(v) where k < 10")
db.commit()
db.close()
assert len(rows) == 42 and total[0] == 300, (len(rows), total)

if sys.argv[1:] == ["plant"]:
    import ctypes
    import gc

    class Planted:
        pass

    gc.disable()
    a, b = Planted(), Planted()  # MARK_PLANTED
    a.other, b.other = b, a
    del a, b
    libc = ctypes.CDLL(None)
    libc.malloc.restype = None  # no Python object ever holds the address
    libc.malloc(4000)  # MARK_NATIVE
