# killgrow.py - a Python program killed mid-growth (test_python_killstate.sh):
# it keeps 2000 bytearrays of 16 KiB made at load_chunk's line, tells the
# test through the FIFO named by its argument, and waits for the SIGKILL.
import signal
import sys

keep = []


def load_chunk():
    return bytearray(16384)


for _ in range(2000):
    keep.append(load_chunk())
with open(sys.argv[1], "w") as f:
    f.write("1")
while True:
    signal.pause()
