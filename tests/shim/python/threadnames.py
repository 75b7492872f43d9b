# threadnames.py - threads named by threading (for test_python_threads.sh):
# three workers named worker-1..3 by threading.Thread(name=...), one left
# with its default name, one with a name longer than the kernel's 15 bytes;
# each keeps a bytearray from its own thread, then all wait while the main
# thread renames worker-2 (from another thread: the OS name, where 3.14 on
# set one, stays) and prints threading.enumerate() as "NAME NATIVE_ID", one
# a line, then takes a snapshot (argv[1]).  The workers then end; the exit
# snapshot comes after they did: after each one's OS thread is gone too
# (join returns when its Python state is, a little before: under load the
# exit snapshot met worker-3 still running).
import ctypes
import os
import sys
import threading
import time

KEEP = []
ready = threading.Barrier(6)  # the five workers and the main thread
go = threading.Event()


def work(size):
    KEEP.append(bytearray(size))  # MARK_NAMED_KEEP
    ready.wait()
    go.wait()


names = ["worker-1", "worker-2", "worker-3", None, "a-name-longer-than-fifteen"]
threads = [threading.Thread(target=work, args=(100_000 * (i + 1),), name=n)
           for i, n in enumerate(names)]
for t in threads:
    t.start()
ready.wait()
threads[1].name = "renamed-2"
for t in threading.enumerate():
    print(t.name, t.native_id)
sys.stdout.flush()
ctypes.CDLL(None).heapsnap_take_snapshot(sys.argv[1].encode())
go.set()
for t in threads:
    t.join()
deadline = time.monotonic() + 10
while (any(os.path.exists("/proc/self/task/%d" % t.native_id) for t in threads) and
       time.monotonic() < deadline):
    time.sleep(0.005)
