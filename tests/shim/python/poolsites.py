# poolsites.py: a parent and a Pool of 2 fork workers (pool.py's
# start_pool), each holding memory at its own line (the parent ~4 MiB,
# worker task 1 ~6 MiB, task 2 ~8 MiB), for test_python_workers.sh's
# merged view (top --by-process names each process's line apart).
import multiprocessing as mp

import pool


def work(n):
    pool.gate.wait()
    if n == 1:
        pool.held.append([bytearray(1024) for _ in range(6000)])  # MARK_ONE
    else:
        pool.held.append([bytearray(1024) for _ in range(8000)])  # MARK_TWO
    return n


if __name__ == "__main__":
    mine = [bytearray(1024) for _ in range(4000)]  # MARK_PARENT
    workers = pool.start_pool(mp.get_context("fork"))
    workers.map(work, [1, 2], chunksize=1)
    workers.close()
    workers.join()
