# sigleaks_threads.py - threads that allocate, resize and free Python objects
# without a pause (test_python_signal_leaks_stress.sh): a signal snapshot with
# the leak check lands while blocks are freed and made anew at the same
# addresses.  Prints "ready" once the threads run; ends at SIGTERM or after
# argv[1] seconds, by os._exit: no exit snapshot, the signals' alone.
import os, signal, sys, threading

stop = threading.Event()
signal.signal(signal.SIGTERM, lambda *a: stop.set())
keep = {}


def work(k):
    mine = []
    i = 0
    while not stop.is_set():
        mine.append(bytearray(i % 200 + 1))  # MARK_CHURN
        keep[(k, i % 300)] = ["x" * (i % 300), {j: str(j) for j in range(i % 20)}]
        if len(mine) > 300:
            del mine[:150]
        i += 1


threads = [threading.Thread(target=work, args=(k,), name="churn-%d" % k) for k in range(3)]
for t in threads:
    t.start()
print("ready", flush=True)
stop.wait(float(sys.argv[1]))
stop.set()
for t in threads:
    t.join()
os._exit(0)
