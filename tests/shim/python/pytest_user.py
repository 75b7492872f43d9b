# pytest_user.py - tests that the heapsnap pytest plugin judges, for
# test_python_pytest.sh: one passing and one failing test of each marker.
import ctypes

import pytest

_kept = []
libc = ctypes.CDLL(None)
libc.malloc.restype = ctypes.c_void_p
libc.malloc.argtypes = [ctypes.c_size_t]


@pytest.mark.limit_memory("24 MB")
def test_memory_small():
    data = [bytes(1000) for _ in range(4000)]  # about 4 MB
    assert len(data) == 4000


@pytest.mark.limit_memory("24 MB")
def test_memory_big():
    data = [bytearray(100000) for _ in range(400)]  # MARK_BIG: about 40 MB at the peak
    del data


@pytest.mark.limit_leaks("1 MB", warmups=1)
def test_leaks_none():
    cache = {i: str(i) * 100 for i in range(5000)}  # about 2 MB, freed
    assert len(cache) == 5000


@pytest.mark.limit_leaks("1 MB", warmups=1)
def test_leaks_some():
    _kept.append([libc.malloc(1 << 20) for _ in range(3)])  # MARK_LEAK: 3 MiB kept
