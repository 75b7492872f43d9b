# poolroles.py: a ProcessPoolExecutor of 2 fork workers and one spawned
# Process(target=keep_some), for test_python_workers.sh's roles: each
# worker's snapshot names what multiprocessing started it to run.
import multiprocessing as mp
from concurrent.futures import ProcessPoolExecutor


def job(n):
    return len([bytearray(100) for _ in range(n)])


def keep_some():
    global kept
    kept = [bytearray(1000) for _ in range(1000)]


if __name__ == "__main__":
    with ProcessPoolExecutor(2, mp_context=mp.get_context("fork")) as ex:
        print(sum(ex.map(job, [1000] * 4)))
    p = mp.get_context("spawn").Process(target=keep_some)
    p.start()
    p.join()
