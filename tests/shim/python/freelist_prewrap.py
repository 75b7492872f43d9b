# freelist_prewrap.py - containers the interpreter hands out again from
# its free lists, where dicts, lists and keys tables alive when the shim
# wrapped the allocator domains went when they died: the program's first
# lines make nested dicts and lists before anything else runs (no import,
# no drain of the free lists first), for test_python_freelist_prewrap.sh.
# Prints gc.get_referrers' path to an item of each (refpath.py; indices
# and keys written [...]) and takes a snapshot (argv[1]).
BIG = {"a": {"c": [bytes(1000) for _ in range(5000)]}}
CACHE = {"users": {"u%d" % i: {"rows": [bytearray(64) for _ in range(4)]} for i in range(50)}}
import ctypes  # noqa: E402 (after: an import churns the free lists)
import re  # noqa: E402
import sys  # noqa: E402

import refpath  # noqa: E402

lib = ctypes.CDLL(None)
lib.heapsnap_take_snapshot.argtypes = [ctypes.c_char_p]


def show(key):  # frames are skipped by path_of: the object is only an argument
    print(re.sub(r"\[('[^']*'|\d+)\]", "[...]", refpath.path_of(key(), [], [])))


show(lambda: BIG["a"]["c"][3])
show(lambda: CACHE["users"]["u7"]["rows"][2])
lib.heapsnap_take_snapshot(sys.argv[1].encode())
