# freelist_stale.py - a C block lost at the address a dead list on CPython's
# list free list still points at: `[None] * 5000` dies onto the free list
# with ob_item naming its freed item array (40,000 bytes), and a ctypes
# calloc of that size gets the same chunk back from glibc and is dropped.
# Nothing of the program holds it: the leak check must find it definitely
# lost.  Prints "freed 0x..." (the array's address, for the test to find
# the calloc's block there).  The address is never a Python int or bytes
# object (calloc's result is dropped, ob_item read a byte at a time): an
# object holding it, live or dead in pymalloc's arenas, would be a
# reference of its own where the heap lies below 2**32 (Debian's python3).
import ctypes

libc = ctypes.CDLL(None)
libc.calloc.restype = None  # not c_int's default: no int of the address
libc.calloc.argtypes = (ctypes.c_size_t, ctypes.c_size_t)


def dead_list():
    items = [None] * 5000
    at = id(items) + 24  # ob_item
    return "".join("%02x" % ctypes.c_ubyte.from_address(at + i).value for i in range(7, -1, -1))


# Half-full pools of every small size class (bytes of 33-505 bytes, every
# other one dropped): the objects made between the array's free and the
# calloc (the string returned, ctypes' arguments) come from those, never
# from a new pymalloc arena, whose address map node (3.10: a 2,048-byte
# calloc) took the freed chunk first where a longer environment had filled
# the last arena (tests/run.sh's exported functions).
ballast = [bytes(n) for n in range(0, 480, 8) for _ in range(64)]
del ballast[::2]
freed = dead_list()
libc.calloc(5000, 8)
print("freed 0x" + freed.lstrip("0"))
