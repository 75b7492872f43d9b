# compare.py - tracemalloc's compare_to snippet, as users write it.
import tracemalloc

tracemalloc.start()
names = ["name-%d" % i for i in range(20000)]
snapshot1 = tracemalloc.take_snapshot()

squares = [i * i for i in range(200000)]
words = [str(i) * 4 for i in range(50000)]
del names

snapshot2 = tracemalloc.take_snapshot()
top_stats = snapshot2.compare_to(snapshot1, "lineno")

print("[ Top 3 differences ]")
for stat in top_stats[:3]:
    print(stat)
