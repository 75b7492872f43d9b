# poolsites.py: a parent and a Pool of 2 fork workers, each holding memory
# at its own line (the parent ~4 MiB, worker task 1 ~6 MiB, task 2 ~8 MiB;
# the barrier makes each worker take one task), for test_python_workers.sh's
# merged view (top --by-process names each process's line apart).
import multiprocessing as mp

held = []
gate = None


def init(barrier):
    global gate
    gate = barrier


def work(n):
    gate.wait()
    if n == 1:
        held.append([bytearray(1024) for _ in range(6000)])  # MARK_ONE
    else:
        held.append([bytearray(1024) for _ in range(8000)])  # MARK_TWO
    return n


if __name__ == "__main__":
    mine = [bytearray(1024) for _ in range(4000)]  # MARK_PARENT
    ctx = mp.get_context("fork")
    pool = ctx.Pool(2, initializer=init, initargs=(ctx.Barrier(2),))
    pool.map(work, [1, 2], chunksize=1)
    pool.close()
    pool.join()
