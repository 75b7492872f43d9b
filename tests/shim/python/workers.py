# workers.py - multiprocessing's fork workers, which leave through
# os._exit, for test_python_exit.sh: each writes its own exit snapshot,
# with the worker's own line.
import multiprocessing as mp


def work(n):
    held = [bytearray(1000) for _ in range(n)]  # MARK_WORK
    return len(held)


if __name__ == "__main__":
    ctx = mp.get_context("fork")
    procs = [ctx.Process(target=work, args=(2000,)) for _ in range(2)]
    for p in procs:
        p.start()
    for p in procs:
        p.join()
