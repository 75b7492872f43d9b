# numbers_retained.py - numbers that look like addresses: five lists of
# 100000 items (an item array of 800000 bytes each, which only its list
# holds) kept by one module-level list, and numbers equal to an address
# inside each item array: one in a small set (its hash in the set object),
# one in a larger set (its hash in the set's table), one as a dict's key
# (its hash in the keys table), one a plain int, and one in the bytes of
# an instance of a bytes subclass.  A hash or a bytes' content is a
# number, not a reference: HELD's line must retain the five arrays.  A
# snapshot is taken (argv[1]); printed: the item arrays' bytes.
import ctypes, struct, sys

lib = ctypes.CDLL(None)
lib.heapsnap_take_snapshot.argtypes = [ctypes.c_char_p]

_drain = [([], {}, set()) for _ in range(200)]  # new blocks below, not recycled ones
HELD = []  # MARK_HELD: the only holder of the item arrays
for _ in range(5):
    HELD.append([None] * 100000)


def inside(lst):
    """An address 4096 bytes into lst's item array (ob_item, 3.10-3.13)."""
    return ctypes.c_void_p.from_address(id(lst) + 24).value + 4096


SMALL = {inside(HELD[0])}
TABLE = set(range(1000, 1100)) | {inside(HELD[1])}
KEYED = {inside(HELD[2]): "x"}
PLAIN = inside(HELD[3])


class Blob(bytes):
    pass


BLOB = Blob(struct.pack("<Q", inside(HELD[4])) * 2)
# The C code that made those numbers leaves them in stack words its frames
# no longer use, and a live frame of the snapshot's call may not overwrite
# them: a stack is a root, scanned word by word, so such a stale word
# would hold the array (as it would for valgrind and LeakSanitizer).  The
# same paths run again on a decoy, whose numbers are left there instead.
DECOY = [None] * 1000
for _ in range(3):
    _decoy = ({inside(DECOY)}, {inside(DECOY): 0}, Blob(struct.pack("<Q", inside(DECOY))))
lib.heapsnap_take_snapshot(sys.argv[1].encode())
print(sum(ctypes.c_ssize_t.from_address(id(x) + 32).value * 8 for x in HELD))
