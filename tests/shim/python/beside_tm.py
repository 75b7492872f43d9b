# beside_tm.py - a program that runs tracemalloc itself, under the shim:
# its line holds its dicts, as tracemalloc counts them, and tracemalloc's
# own tables are their own site (test_python_beside_tracemalloc.sh).
# Prints tracemalloc's own line for the program's line.
import tracemalloc

tracemalloc.start()
points = [{"x": i, "y": i * 2} for i in range(10000)]  # MARK_POINTS
snap = tracemalloc.take_snapshot()
for st in snap.statistics("lineno"):
    if st.traceback[0].filename == __file__:
        print("tracemalloc: count=%d" % st.count)
        break
