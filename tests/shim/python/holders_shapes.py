# holders_shapes.py - twelve objects each held by a global of its own (as
# many shapes of one object each) and then forty held by one list (one
# shape, the biggest), for test_python_holders_grouped.sh; takes a
# snapshot (argv[1]).  An object of 80 slots is over pymalloc's 512 bytes:
# glibc's malloc cuts each from the top of the heap, so the twelve lie
# below the forty and are met first.  ODD's keys hold control characters.
import ctypes
import sys

lib = ctypes.CDLL(None)
lib.heapsnap_take_snapshot.argtypes = [ctypes.c_char_p]


class Shape:
    __slots__ = tuple("s%d" % i for i in range(80))


for _k in range(12):
    globals()["G%d" % _k] = Shape()
MANY = [Shape() for _ in range(40)]
# keys no terminal should get raw: shown as Python's repr shows them (a
# type of their own, so that no other shape of it can come first)


class Odd:
    pass


ODD = {"a\nb\x1b[2J\\'": Odd(), "\x00z": Odd()}
lib.heapsnap_take_snapshot(sys.argv[1].encode())
