# hostview.py - what a Python program can see of its own process, printed
# one "KEY: VALUE" line each, at its first line ("start") and again after
# work that lets the shim run whatever it runs inside the interpreter (its
# pending calls between two bytecodes, the 3.13+ reference tracer, the
# allocator wrappers, a gc collection, threads that come and go): "work".
# test_python_cpython_suite.sh runs it plain and under the shim and wants
# the same lines: a guest changes nothing its host can see.  Every value
# is one the same program prints the same on every plain run.
import sys

start_modules = sorted(sys.modules)  # before this program imports anything

import gc
import os
import signal
import threading


def show(when):
    print(f"{when} modules: {' '.join(start_modules if when == 'start' else sorted(sys.modules))}")
    print(f"{when} gc: threshold={gc.get_threshold()} enabled={gc.isenabled()} "
          f"callbacks={len(gc.callbacks)} garbage={len(gc.garbage)} frozen={gc.get_freeze_count()}")
    import atexit
    print(f"{when} atexit callbacks: {atexit._ncallbacks()}")
    print(f"{when} threads: {[t.name for t in threading.enumerate()]} count={threading.active_count()}")
    print(f"{when} signal handlers: " + " ".join(
        f"{s}={signal.getsignal(s)!s:.20}" for s in sorted(signal.valid_signals())
        if s not in (signal.SIGKILL, signal.SIGSTOP)))
    print(f"{when} signal mask: {sorted(signal.pthread_sigmask(signal.SIG_BLOCK, []))}")
    fd = os.open(os.devnull, os.O_RDONLY)
    os.close(fd)
    print(f"{when} next fd: {fd}")
    obj = [object()]
    print(f"{when} refcounts: list={sys.getrefcount(obj)} item={sys.getrefcount(obj[0])} "
          f"module={sys.getrefcount(sys.modules[__name__]) > 0}")
    print(f"{when} tracemalloc: {sys.modules.get('tracemalloc') and sys.modules['tracemalloc'].is_tracing()}")
    print(f"{when} recursion limit: {sys.getrecursionlimit()} switch={sys.getswitchinterval()}")
    print(f"{when} profile: {sys.getprofile()} trace: {sys.gettrace()}")


show("start")

# the work: allocations of every size class, objects dying onto the free
# lists and reborn, cycles for the collector, threads that start and end,
# an import inside the program's own import machinery, a blocked mask
kept = [str(i) * (i % 50) for i in range(100000)]
for i in range(2000):
    a = {"i": i}
    b = [a, (i, float(i))]
    a["b"] = b
del a, b
gc.collect()


def worker(n):
    return sum(len(str(k)) for k in range(n))


threads = [threading.Thread(target=worker, args=(20000,), name=f"w{k}") for k in range(4)]
for t in threads:
    t.start()
for t in threads:
    t.join()
import json, decimal, fractions  # noqa: E401,F401 (imports during the run)
old = signal.pthread_sigmask(signal.SIG_BLOCK, signal.valid_signals())
print(f"blocked every signal, mask: {sorted(signal.pthread_sigmask(signal.SIG_BLOCK, []))}")
signal.pthread_sigmask(signal.SIG_SETMASK, old)
gc.collect()
show("work")
