# threadpool.py - memory per thread (tests/shim/python/test_python_threads.sh):
# named threading.Thread objects and a ThreadPoolExecutor's workers keep
# bytearrays of known sizes; the main thread keeps its own.  Prints, per
# thread that kept something, "NAME NATIVE_ID BYTES COUNT": BYTES the sum of
# sys.getsizeof of what it keeps (object and buffer), COUNT the bytearrays.
import sys
import threading
from concurrent.futures import ThreadPoolExecutor

KEPT = {}
LOCK = threading.Lock()


def keep(n, size):
    mine = [bytearray(size) for _ in range(n)]  # MARK_KEEP
    me = threading.current_thread()
    with LOCK:
        name, tid, b, c, objs = KEPT.get(me.name, (me.name, threading.get_native_id(), 0, 0, []))
        objs.extend(mine)
        KEPT[me.name] = (name, tid, b + sum(sys.getsizeof(x) for x in mine), c + n, objs)


threads = [threading.Thread(target=keep, args=(8, 1_000_000), name="loader"),
           threading.Thread(target=keep, args=(3, 2_000_000), name="cruncher")]
for t in threads:  # one at a time: each thread's tid is its own
    t.start()
    t.join()
barrier = threading.Barrier(2)


def task(i):
    barrier.wait()  # both workers exist and each takes one task
    keep(2, 700_000 + 100_000 * i)


with ThreadPoolExecutor(max_workers=2, thread_name_prefix="pool") as ex:
    list(ex.map(task, range(2)))
keep(2, 3_000_000)
for name, tid, b, c, _ in KEPT.values():
    print(name, tid, b, c)
sys.stdout.flush()
