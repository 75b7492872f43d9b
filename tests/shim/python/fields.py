# fields.py - objects of a type the collector does not know that hold a
# native block by a field, for test_python_fields.sh: 20 decimal.Decimal
# of 5000-odd digits, whose coefficients _decimal allocates apart
# (PyMem_Malloc: a block of its own, over pymalloc's 512 bytes) and holds
# by the object's mpd_t data pointer.  Snapshot to argv[1]; prints what
# sys.getsizeof() counts of them (each object and its coefficient) and
# whether Decimal is a gc type (3.13 makes it one: the graph then reads
# its objects itself), then the same sum of 10 array.array('d') of 20000
# items (a gc type since 3.10, whose buffer is a block of its own).
# Beside them, 40 blocks of no bytes (malloc(0), as torch makes them),
# which no address lies in: the graph's walk keeps the fields' hits with
# any number of them (pyg_fields_begin), where more than 16 made the
# fields be read a second time.
import array
import ctypes
import decimal
import sys

lib = ctypes.CDLL(None)
lib.heapsnap_take_snapshot.argtypes = [ctypes.c_char_p]
lib.malloc.restype = ctypes.c_void_p
empties = [lib.malloc(0) for i in range(40)]

decs = [decimal.Decimal(7 ** 6000 + i) for i in range(20)]  # MARK_DECS
arrs = [array.array("d", range(20000)) for i in range(10)]  # MARK_ARRS
lib.heapsnap_take_snapshot(sys.argv[1].encode())
print(sum(sys.getsizeof(d) for d in decs), int(bool(decimal.Decimal.__flags__ & (1 << 14))),
      sum(sys.getsizeof(a) for a in arrs))
