# domain_user.py - tracemalloc's domains: a C extension's blocks tracked
# with PyTraceMalloc_Track (pyext.c: numpy's domain 389047 at its import
# and by tracked(), another domain) are in those domains, Python's objects
# in domain 0, DomainFilter picks them, and PyTraceMalloc_Untrack takes
# them out (test_python_domains.sh runs it with tracemalloc and heapsnap:
# the same lines).  argv 1: the module, argv 2: pyext's directory.
import importlib
import os
import sys

tm = importlib.import_module(sys.argv[1])
sys.path.insert(0, sys.argv[2])
ME = os.path.abspath(__file__)
tm.start()
import pyext  # noqa: E402  MARK_IMPORT

pyext.tracked(389047, 100000)  # MARK_NUMPY
pyext.tracked(7, 50000)  # MARK_OTHER
keep = [bytes(1000) for _ in range(100)]  # MARK_PYTHON


def show(title, domains):
    snap = tm.take_snapshot()
    for dom in domains:
        stats = snap.filter_traces([tm.DomainFilter(True, dom)]).statistics("lineno")
        for st in stats:
            frame = st.traceback[0]
            if frame.filename == ME and (dom or frame.lineno == PYTHON_LINE) or \
                    dom == 389047 and st.size == 4096:  # pyext's init, under import
                print("%s: domain %d %s:%d: %d B in %d" % (
                    title, dom, os.path.basename(frame.filename), frame.lineno, st.size,
                    st.count))


PYTHON_LINE = [n for n, text in enumerate(open(ME), 1) if "MARK_" + "PYTHON" in text][0]
show("tracked", (389047, 7, 0))
pyext.untrack()
show("untracked", (389047, 7))
