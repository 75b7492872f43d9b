# ctypefields.py - objects held by fields of the standard library's C types
# that no member or getset names (test_python_ctype_fields.sh): an
# lru_cache's cache dict and an ABC's weak sets.  The program first proves,
# with ctypes, that the fields are where heapsnap reads them on this
# version (the cache dict at the wrapper's word 72; _abc_registry,
# _abc_cache, _abc_negative_cache at 16, 24, 32 of _abc_data), then takes
# the snapshot.  argv[1]: the snapshot's path.
import abc
import ctypes
import functools
import sys

lib = ctypes.CDLL(None)


class Cached:
    pass


@functools.lru_cache(maxsize=None)
def load(name):
    return Cached()


class Base(abc.ABC):
    pass


class Sub(Base):
    pass


class Registered:
    pass


class Other:
    pass


def field(o, off):
    return ctypes.cast(ctypes.c_void_p.from_address(id(o) + off).value, ctypes.py_object).value


def main():
    load("k")
    Base.register(Registered)
    isinstance(Sub(), Base)
    isinstance(Other(), Base)
    assert field(load, 72) == {"k": load("k")}
    names = [sorted(r().__name__ for r in field(Base._abc_impl, off)) for off in (16, 24, 32)]
    assert names == [["Registered"], ["Sub"], ["Other"]], names
    print("fields where read")
    sys.stdout.flush()
    lib.heapsnap_take_snapshot(sys.argv[1].encode())


main()
