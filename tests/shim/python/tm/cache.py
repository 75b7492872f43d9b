# cache.py - a cache that grows between two snapshots, found with
# compare_to, as users hunt a leak with tracemalloc.
import tracemalloc

_cache = {}


def lookup(key):
    if key not in _cache:
        _cache[key] = ("value %d " % key) * 40
    return _cache[key]


tracemalloc.start()
for i in range(3000):
    lookup(i)
snap1 = tracemalloc.take_snapshot()
for i in range(3000, 9000):
    lookup(i)
snap2 = tracemalloc.take_snapshot()

filters = [
    tracemalloc.Filter(False, "<frozen importlib._bootstrap>"),
    tracemalloc.Filter(False, "<unknown>"),
    tracemalloc.DomainFilter(True, 0),
]
snap1 = snap1.filter_traces(filters)
snap2 = snap2.filter_traces(filters)
for stat in snap2.compare_to(snap1, "lineno")[:2]:
    print(stat)
print(len(snap2.compare_to(snap1, "traceback")) > 0)
