# holders_nocheck.py - objects held by a module's list and, through an
# instance, by a module's dict, for test_python_holders_nocheck.sh, in a
# snapshot taken with no leak check, at path argv[1]: by
# heapsnap.write_snapshot() (argv[2] "write"), or by HEAPSNAP_SIGNAL's
# signal sent to itself ("signal": argv[1] is the name the shim gives it).
# Prints what gc.get_referrers() says holds REGISTRY[2] and the Item in
# CACHE["k7"].data: the holder's identity, as the path's last step names it.
import gc
import os
import signal
import sys
import time

import heapsnap


class Item:
    def __init__(self, i):
        self.i = i


class Result:
    def __init__(self):
        self.data = []


REGISTRY = []
CACHE = {}


def fill():
    for i in range(4):
        REGISTRY.append(Item(i))  # MARK_ITEM
    r = Result()
    r.data.append(Item(99))  # MARK_DATA
    CACHE["k7"] = r


def holder(o, named):
    refs = [r for r in gc.get_referrers(o) if type(r).__name__ != "frame"]
    return "yes" if len(refs) == 1 and refs[0] is named else "no"


fill()
print("registry", holder(REGISTRY[2], REGISTRY))
print("data", holder(CACHE["k7"].data[0], CACHE["k7"].data))
sys.stdout.flush()
if sys.argv[2] == "write":
    print("written", heapsnap.write_snapshot(sys.argv[1]))
else:
    os.kill(os.getpid(), signal.SIGUSR2)
    for _ in range(300):  # the shim's helper thread writes it
        if os.path.exists(sys.argv[1]):
            break
        time.sleep(0.02)
    time.sleep(0.2)  # renamed into place: written whole
    print("written", os.path.exists(sys.argv[1]))
