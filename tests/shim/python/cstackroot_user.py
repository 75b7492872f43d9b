# cstackroot_user.py DIR SNAP - for test_python_cstack_roots.sh, with
# cstackroot.c's module built into DIR and the collector off: a thread
# blocks in hold_and_block holding a CstackBlocked in a C local alone,
# another a list of 5000 CstackMany;
# another blocks after smearing a CstackDead (a cycle the program then
# drops: garbage) over a dead C frame, a third after smearing a
# CstackLeaked whose one reference is leaked (cstackroot.leak), dropped
# too; once all four are blocked in read, the main thread holds a
# CstackCalled in a C local of hold_and_call, which calls back
# borrow_and_call: a CstackBorrowed cycle, dropped, its address in that
# live C frame's local, which calls back the snapshot into SNAP and
# prints what gc.collect() then frees.  The
# threads stay blocked to the end (the exit snapshot's leak check).
import ctypes
import gc
import os
import sys
import threading
import time

lib = ctypes.CDLL(None)  # made before: its own cycles are not this garbage
lib.heapsnap_take_snapshot.argtypes = [ctypes.c_char_p]
sys.path.insert(0, sys.argv[1])
import cstackroot  # noqa: E402

gc.collect()
gc.disable()


class CstackBlocked:
    pass


class CstackDead:
    pass


class CstackLeaked:
    pass


class CstackCalled:
    pass


class CstackMany:
    pass


class CstackBorrowed:
    pass


def many():
    """A list of 5000 CstackMany: a type big enough for html's top ten."""
    return [CstackMany() for _ in range(5000)]


def blocked(tid):
    """Whether thread tid waits in read(2) (x86-64: system call 0)."""
    try:
        with open("/proc/self/task/%d/syscall" % tid) as f:
            return f.read().split(" ", 1)[0] == "0"
    except OSError:
        return False


R, W = os.pipe()  # W stays open: every read blocks
dead = CstackDead()
dead.me = dead


def make_leaked():
    o = CstackLeaked()
    cstackroot.leak(o)
    return o


leaked = make_leaked()
threads = [threading.Thread(target=cstackroot.hold_and_block, args=(CstackBlocked, R), daemon=True),
           threading.Thread(target=cstackroot.hold_and_block, args=(many, R), daemon=True),
           threading.Thread(target=cstackroot.smear_and_block, args=([dead], R), daemon=True),
           threading.Thread(target=cstackroot.smear_and_block, args=([leaked], R), daemon=True)]
del dead, leaked
for t in threads:
    t.start()
# Under load (a loaded 2-core machine, sid's interpreters through their
# root) the thread building 5000 CstackMany was still in _PyObject_GC_New
# after 5 s, and html's retainers had no list yet: the wait ends as soon
# as all four block, so a longer bound costs a quiet run nothing (30 s
# an interpreter keeps a file of seven within its 600 s if one never does).
deadline = time.monotonic() + 30
while not all(blocked(t.native_id) for t in threads) and time.monotonic() < deadline:
    time.sleep(0.01)


def snap():
    lib.heapsnap_take_snapshot(sys.argv[2].encode())
    print(gc.collect())


borrowed = CstackBorrowed()
borrowed.me = borrowed
box = [borrowed]
del borrowed
cstackroot.hold_and_call(CstackCalled, lambda: cstackroot.borrow_and_call(box, snap))
