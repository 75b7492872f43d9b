# pool.py METHOD END: a Pool of 2 workers (fork or spawn), each holding
# about 10 MiB at its own line (the barrier makes each take one task) until
# the parent ends the pool (close or terminate), for test_python_workers.sh.
# END "both": a `with` pool (terminated at its end), then a second pool
# closed and joined.
# poolsites.py starts its pool with this file's start_pool.
import multiprocessing as mp
import sys

held = []
gate = None


def init(barrier):
    global gate
    gate = barrier


def start_pool(ctx):
    """A Pool of 2 whose workers meet at a barrier: each takes one task."""
    return ctx.Pool(2, initializer=init, initargs=(ctx.Barrier(2),))


def work(n):
    gate.wait()
    held.append([bytearray(1024) for _ in range(n)])  # MARK_WORK
    return n


if __name__ == "__main__":
    method, end = sys.argv[1], sys.argv[2]
    ctx = mp.get_context(method)
    if end == "both":
        with start_pool(ctx) as pool:
            pool.map(work, [10000, 10000], chunksize=1)
    pool = start_pool(ctx)
    pool.map(work, [10000, 10000], chunksize=1)
    if end in ("close", "both"):
        pool.close()
    else:
        pool.terminate()
    pool.join()
