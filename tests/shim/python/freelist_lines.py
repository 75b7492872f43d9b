# freelist_lines.py - objects CPython's free lists hand out again, for
# test_python_freelist_lines.sh: run under the shim with -X tracemalloc,
# so both tools see one run.  1,000 dicts, lists, tuples of 1-3 items and
# floats made at one line and freed, then 2,000 made at the next and kept
# (the first ones the free lists' dead objects, FREED's); and a service
# (serve) that keeps the last 500 sessions, whose objects come back from
# the free lists where json's temporaries and expired sessions died.
# tracemalloc charges a reborn object to the line that reused it: FREED
# lines keep nothing, KEPT and SESSION lines all.  A heapsnap snapshot to
# argv[1], then statistics('lineno') of this file as "LINE COUNT SIZE".
import ctypes
import json
import sys
import tracemalloc


def dicts():
    made = [{"a": i} for i in range(1000)]  # FREED
    del made
    return [{"b": i} for i in range(2000)]  # KEPT


def lists():
    made = [[i] for i in range(1000)]  # FREED
    del made
    return [[i, i] for i in range(2000)]  # KEPT


def tuples():
    made = [((i,), (i, i), (i, i, i)) for i in range(1000)]  # FREED
    del made
    return [((i,), (i, i), (i, i, i)) for i in range(2000)]  # KEPT


def floats():
    made = [i * 0.5 for i in range(1000)]  # FREED
    del made
    return [i * 0.25 for i in range(2000)]  # KEPT


SESSIONS = {}


def handle(k):
    req = json.loads('{"path": "/s", "user": %d}' % k)  # a temporary
    return {"user": req["user"], "seen": [k], "load": (k, k * 0.5)}  # SESSION


def serve(n):
    for k in range(n):
        SESSIONS[k] = handle(k)
        SESSIONS.pop(k - 500, None)  # NEXT: expired, freed


keep = [dicts(), lists(), tuples(), floats()]
serve(5000)
ctypes.CDLL(None).heapsnap_take_snapshot(sys.argv[1].encode())
if tracemalloc.is_tracing():
    snap = tracemalloc.take_snapshot().filter_traces([tracemalloc.Filter(True, __file__)])
    for st in snap.statistics("lineno"):
        print(st.traceback[0].lineno, st.count, st.size)
