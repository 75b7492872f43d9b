# pathnames.py - the steps of holders' paths that name more than a str
# (test_python_path_names.sh): objects held by fields of the standard
# library's C types that no member or getset names (an lru_cache's cache
# dict, an ABC's weak sets), and by dicts' int keys.  The program first proves,
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


class Zero:
    pass


class Negative:
    pass


class Big:
    pass


class Huge:
    pass


BY_ID = {0: Zero(), -5: Negative(), 2**59 + 3: Big(), 2**100: Huge()}


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
