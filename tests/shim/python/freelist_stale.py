# freelist_stale.py - a C block lost at the address a dead list on CPython's
# list free list still points at: `[None] * 5000` dies onto the free list
# with ob_item naming its freed item array (40,000 bytes), and a ctypes
# calloc of that size gets the same chunk back from glibc and is dropped.
# Nothing of the program holds it: the leak check must find it definitely
# lost.  Tried until the chunk comes back (another allocation may take it
# first); each try's list reuses the same dead list, so only the last
# calloc is aimed at.  Prints "planted N" (the try that hit, 0: none).
import ctypes

libc = ctypes.CDLL(None)
libc.calloc.restype = ctypes.c_void_p
libc.calloc.argtypes = (ctypes.c_size_t, ctypes.c_size_t)


def dead_list():
    items = [None] * 5000
    return ctypes.c_void_p.from_address(id(items) + 24).value  # ob_item


planted = 0
for attempt in range(1, 51):
    freed = dead_list()
    if libc.calloc(5000, 8) == freed:
        planted = attempt
        break
print("planted", planted)
