# edges.py - references held by builtin and C-extension objects, for
# test_python_edges.sh: 200 finished asyncio Tasks in a module-level set,
# each with a 50000-byte result (Task.result()); an exception kept in a
# global whose traceback's frame has a local of 3000000 bytes
# (__traceback__, tb_frame, f_locals['big']); a functools.partial whose
# first argument is 2000000 bytes (partial.args[0]); a pending Future
# whose done callback's closure holds 1000000 bytes (Future._callbacks); a
# Holder instance holding a 2500000-byte bytearray while a ctypes.c_void_p elsewhere
# holds an address inside that buffer (a stray word, as a stale pointer
# into a freed region the buffer's mapping reused would be).  Snapshot to
# argv[1]; then prints, one a line, "NAME FREED REFERRERS": the bytes
# tracemalloc sees freed when the holder is dropped (gc.collect() after),
# and whether the types' own tp_traverse (gc.get_referents) visits each
# step of the path (1: the Task its result; the traceback the next, the
# frame its local; the partial its args, the tuple its item).  Not
# gc.get_referrers: it finds only tracked referrers (an args tuple of a
# bytearray is untracked) and on 3.11 misses a finished Task.
import asyncio, ctypes, functools, gc, sys, tracemalloc

tracemalloc.start()
lib = ctypes.CDLL(None)
lib.heapsnap_take_snapshot.argtypes = [ctypes.c_char_p]
# Sets, lists, dicts and tuples come from free lists that keep the line
# of their first life (tracemalloc's way too): drained first.
_drain = [(set(), [], {}, (i, i + 1)) for i in range(300)]

TASKS = set()  # MARK_TASKS


async def work(i):
    return bytes(50000) + str(i).encode()  # MARK_RESULT


async def main():
    for i in range(200):
        TASKS.add(asyncio.ensure_future(work(i)))
    await asyncio.gather(*TASKS)


def fail():
    big = bytearray(3000000)  # MARK_BIG
    raise ValueError("boom %d" % len(big))  # MARK_ERR


def keep_error():
    try:
        fail()
    except ValueError as e:
        return e


def sink(*a):
    return a


def pending():
    fut = asyncio.Future(loop=asyncio.new_event_loop())  # MARK_FUT
    held = bytearray(1000000)  # MARK_HELD
    fut.add_done_callback(lambda f: held)
    return fut


asyncio.run(main())
ERR = keep_error()
PART = functools.partial(sink, bytearray(2000000))  # MARK_PART
FUT = pending()
class Holder:
    def __init__(self, buf):
        self.buf = buf


HELD = Holder(bytearray(2500000))  # MARK_STRAY
_view = (ctypes.c_char * 1).from_buffer(HELD.buf)
STRAY = ctypes.c_void_p(ctypes.addressof(_view) + 1000000)
del _view
del _drain
gc.collect()

t = next(iter(TASKS))
tb = ERR.__traceback__
frame = tb.tb_next.tb_frame
refs = gc.get_referents
truth = {
    "tasks": any(r is t.result() for r in refs(t)),
    "error": any(r is tb.tb_next for r in refs(tb)) and
             any(r is frame.f_locals["big"] for r in refs(frame)),
    "partial": any(r is PART.args for r in refs(PART)) and
               any(r is PART.args[0] for r in refs(PART.args)),
    "future": any(r is FUT._callbacks[0][0] for r in refs(FUT)),
}
del t, tb, frame
gc.collect()
lib.heapsnap_take_snapshot(sys.argv[1].encode())


def freed(drop):
    gc.collect()
    before = tracemalloc.get_traced_memory()[0]
    drop()
    gc.collect()
    return before - tracemalloc.get_traced_memory()[0]


out = {"tasks": freed(TASKS.clear)}
out["error"] = freed(lambda: globals().pop("ERR"))
out["partial"] = freed(lambda: globals().pop("PART"))
out["future"] = freed(lambda: globals().pop("FUT"))
out["stray"] = freed(lambda: globals().pop("HELD"))
truth["stray"] = STRAY.value is not None
for k in ("tasks", "error", "partial", "future", "stray"):
    print(k, out[k], int(truth[k]))
