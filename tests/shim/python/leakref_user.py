# leakref_user.py - calls tests/shim/python/leakref.c for
# test_python_leakref.sh: 3 bytearrays with a leaked reference (one of
# them leaked twice), 5 clean ones, 2 a C global keeps and 2 it keeps by
# a pointer tagged in its low bit, all dropped by Python, and a C block
# that reads as a tuple (no object); then a clean
# program's modules, and last freed blocks whose stale words name the
# leaked ones.  argv: the extension's
# directory.  The leak check's snapshot is the one at exit.
import sys

sys.path.insert(0, sys.argv[1])
import leakref  # noqa: E402
import json, re, dataclasses, asyncio, threading  # noqa: E402,F401


def run():
    for _ in range(5):
        leakref.clean(1000)
    for _ in range(2):
        leakref.kept(2000)
    for _ in range(2):
        leakref.tagged(2500)  # MARK_TAGGED
    for _ in range(2):
        leakref.leaked(3000)  # MARK_LEAKED
    leakref.leaked(4000, 2)  # MARK_LEAKED_TWICE
    leakref.lookalike()


# A frame of many locals, which the interpreter clears as it pushes it,
# over the slots run's frame left: a stale pointer there would count as a
# reference (the scan is conservative) and hide a leak.
exec("def scrub():\n    " + "; ".join("v%d = 0" % i for i in range(300)) + "\n")


run()
scrub()  # noqa: F821
json.dumps({"a": [1]})
re.compile(r"a+b")
t = threading.Thread(target=lambda: None)
t.start()
t.join()
leakref.stale()
