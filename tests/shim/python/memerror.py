# tests/shim/python/memerror.py - a MemoryError at a known line (test_python_failed.sh):
# a 1 TiB bytearray past the 64 GiB address-space limit set first, caught.
import resource

resource.setrlimit(resource.RLIMIT_AS, (64 << 30, 64 << 30))


def grab():
    return bytearray(1 << 40)


try:
    grab()
except MemoryError:
    print("MemoryError")
