# poolwork.py N [DICTS [MODULE...]]: a parent that imports MODULE... (a big
# import: pandas, torch), builds DICTS small dicts (default 200,000) and does
# one share of work, then a fork Pool of N workers doing one share each
# (scripts/bench/workers.py: what a forked worker costs beside its parent,
# issue 70 item 6).
import importlib, multiprocessing as mp, sys
def work(n):
    d = {}
    for i in range(n):
        d[i] = [str(i)] * 4
    return len(d)
if __name__ == "__main__":
    nw = int(sys.argv[1])
    ndicts = int(sys.argv[2]) if len(sys.argv) > 2 else 200000
    for m in sys.argv[3:]:
        importlib.import_module(m)
    big = [{"k": i, "v": str(i)} for i in range(ndicts)]
    work(200000)  # the parent's own share of work
    if nw:
        with mp.get_context("fork").Pool(nw) as p:
            p.map(work, [200000] * nw, chunksize=1)
