# top.py - tracemalloc's "display the top 5" snippet, as users write it,
# with one traceback; test_python_tracemalloc.sh runs it under tracemalloc
# and, with the import changed, under heapsnap.
import tracemalloc


def build_rows(n):
    return [{"id": i, "name": "row %d" % i} for i in range(n)]


tracemalloc.start(25)
rows = build_rows(12000)
text = ["line %06d of the file" % i for i in range(30000)]
blobs = [bytes(4000) for _ in range(600)]
pairs = [(i, i + 1) for i in range(40000)]
buffer = bytearray(3_500_000)

snapshot = tracemalloc.take_snapshot()
top_stats = snapshot.statistics("lineno")

print("[ Top 5 ]")
for stat in top_stats[:5]:
    print(stat)

stat = snapshot.statistics("traceback")[0]
print("%s memory blocks: %.1f KiB" % (stat.count, stat.size / 1024))
for line in stat.traceback.format():
    print(line)
