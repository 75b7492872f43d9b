# pytest_cache.py - tests of test_python_pytest_kept_by.sh (copied as
# test_cache.py): each leaves what it made in a module-level container that
# was empty before (an empty dict is untracked by the collector) or in a
# tuple; limit_leaks' failure must name the path down to what was left.
import pytest

CACHE = {}
NESTED = {"users": {}}
_kept = []


@pytest.mark.limit_leaks("100 KB")
def test_dict_cache():
    CACHE["k"] = [str(i) * 10 for i in range(20000)]  # MARK_DICT


@pytest.mark.limit_leaks("100 KB")
def test_nested_dict():
    NESTED["users"]["u42"] = [str(i) * 10 for i in range(20000)]  # MARK_NESTED


@pytest.mark.limit_leaks("100 KB")
def test_tuple_in_list():
    _kept.append(([str(i) * 10 for i in range(20000)], 7))  # MARK_TUPLE
