# objects_thread.py - a heap of known objects for test_python_objects_thread.sh,
# big enough (over 32768 live blocks) for a snapshot's second thread: 30,000
# Items in a list linked from one global, a dict of 20,000 one-int lists, and
# 300 lists in cycles of their own dropped with the collector off (garbage).
import gc

gc.collect()  # what the site's start-up left (a .pth's imports): the garbage is ours alone
gc.disable()


class Item:
    __slots__ = ("k", "nxt", "s")

    def __init__(self, k, nxt):
        self.k = k
        self.nxt = nxt
        self.s = "item-%d" % k


head = None
for i in range(30000):
    head = Item(i, head)
table = {str(i): [i] for i in range(20000)}
for i in range(300):
    a = []
    a.append(a)
del a

if __import__("sys").argv[1:] == ["hold"]:  # interval snapshots meanwhile
    import time

    until = time.time() + 1.2
    while time.time() < until:
        table["x"] = [0]
