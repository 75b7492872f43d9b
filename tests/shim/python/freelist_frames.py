# freelist_frames.py - objects CPython's free lists hand out again, for
# test_python_freelist_frames.sh, run under the shim with -X tracemalloc
# so that both tools see one run.  The shape: 1,000 dicts, lists,
# tuples of 1-3 items and floats made at a FREED line and freed, 2,000
# made at the KEPT line and kept.  Then shapes where the line that reuses
# an object is not the line that allocates next (a CALLER line): a list
# reborn in __init__ (INIT) of instances made in a comprehension; a dict
# and a tuple reborn in a method (METHOD) called from a loop; a dict
# reborn at one line of a loop (LOOP) that allocates at its next line; a
# service that keeps its last 500 sessions (SESSION), built from what
# json's temporaries and expired sessions left on the free lists.
# tracemalloc charges a reborn object to the line that reused it.  A
# heapsnap snapshot to argv[1], then statistics('lineno') of this file as
# "LINE COUNT SIZE", at the same moment.
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


class Result:
    def __init__(self):
        self.data = []  # INIT


def results():
    made = [[] for _ in range(300)]  # FREED
    del made
    return [Result() for _ in range(100)]  # CALLER


class Service:
    def make(self, k):
        return {"k": k, "t": (k, k + 0.5)}  # METHOD


def method():
    made = [{"x": (i, i + 0.5)} for i in range(300)]  # FREED
    del made
    svc, out = Service(), []
    for k in range(100):
        out.append(svc.make(k))  # CALLER
    return out


def loop():
    made = [{"x": i} for i in range(300)]  # FREED
    del made
    out = []
    for k in range(100):
        d = {"k": k}  # LOOP
        out.append((d, k + 100000))  # CALLER
    return out


SESSIONS = {}


def handle(k):
    req = json.loads('{"path": "/s", "user": %d}' % k)  # a temporary
    return {"user": req["user"], "seen": [k], "load": (k, k * 0.5)}  # SESSION


def serve(n):
    for k in range(n):
        SESSIONS[k] = handle(k)  # CALLER
        SESSIONS.pop(k - 500, None)  # CALLER


keep = [dicts(), lists(), tuples(), floats(), results(), method(), loop()]
serve(5000)
ctypes.CDLL(None).heapsnap_take_snapshot(sys.argv[1].encode())
if tracemalloc.is_tracing():
    snap = tracemalloc.take_snapshot().filter_traces([tracemalloc.Filter(True, __file__)])
    for st in snap.statistics("lineno"):
        print(st.traceback[0].lineno, st.count, st.size)
