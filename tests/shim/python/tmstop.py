# tmstop.py - a clean program that starts and stops tracemalloc: CPython
# 3.10-3.12 leave tracemalloc's tracebacks behind at stop(), which
# heapsnap's built-in CPython suppressions cover (test_python_beside_tracemalloc.sh).
import tracemalloc

tracemalloc.start()
points = [{"x": i} for i in range(2000)]
print(tracemalloc.take_snapshot().statistics("lineno")[0])
tracemalloc.stop()
del points
