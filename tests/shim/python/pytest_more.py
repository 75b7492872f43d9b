# pytest_more.py - more tests for the heapsnap pytest plugin
# (test_python_pytest.sh): sizes as pytest-memray reads them, its keywords
# (limit=, location_limit=, filter_fn=), a marker without its size, and that
# pytest's own start-up and collection are not recorded (this module's
# import allocates 8 MiB before any test runs).
import heapsnap
import pytest
from heapsnap import _inproc

AT_COLLECTION = bytearray(8 << 20)


@pytest.mark.limit_memory("10 MB")  # 10 MiB, as pytest-memray: 10,200,000 B is under it
def test_ten_mb_is_mebibytes():
    data = bytearray(10200000)  # MARK_TEN
    assert len(data) == 10200000


@pytest.mark.limit_memory()
def test_limit_without_size():
    pass


def test_collection_not_recorded():
    dump = _inproc.Dump(heapsnap._lib, _inproc.BLOCKS)
    assert max(dump.sizes or [0]) < (8 << 20), "the module's 8 MiB was recorded"


def test_bigger():
    kept = [bytearray(3 << 20)]  # MARK_BIGGER: the biggest peak of this file
    assert kept


@pytest.mark.limit_memory(limit="24 MB")  # pytest-memray's keyword
def test_limit_keyword():
    data = bytearray(1 << 20)
    assert data is not None


_cache = []


def _fill_cache():
    _cache.append(bytearray(2 << 20))  # kept on purpose: a cache


def _not_the_cache(stack):
    return not any(f.function == "_fill_cache" for f in stack.frames)


@pytest.mark.limit_leaks(location_limit="1 MB", filter_fn=_not_the_cache)
def test_leak_filtered_out():
    _fill_cache()  # 2 MiB left live, which filter_fn refuses, as pytest-memray's
