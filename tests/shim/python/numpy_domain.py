# numpy_domain.py - numpy's arrays' data in tracemalloc's domain 389047
# (numpy tracks it with PyTraceMalloc_Track): DomainFilter picks it at its
# line (test_python_domains.sh, with tracemalloc and heapsnap).  argv 1: the
# module.
import importlib
import os
import sys

tm = importlib.import_module(sys.argv[1])
import numpy  # noqa: E402

ME = os.path.abspath(__file__)
tm.start()
a = numpy.zeros(1000000)  # MARK_ARRAY
b = numpy.zeros((300, 300), dtype=numpy.int32)  # MARK_ARRAY2
snap = tm.take_snapshot()
for dom in (389047, 0):
    stats = snap.filter_traces([tm.DomainFilter(dom != 0, 389047)]).statistics("lineno")
    for st in stats:
        if st.traceback[0].filename == ME and st.size >= 100000:
            print("domain %s line %d: %d B in %d" % (
                "389047" if dom else "not 389047", st.traceback[0].lineno, st.size, st.count))
del a
snap = tm.take_snapshot()
print("after del:", sum(t.size for t in snap.traces if t.domain == 389047))
