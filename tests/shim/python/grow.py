# grow.py - a buffer grown by realloc to 64 MiB, then a list to 8 million
# items (for test_python_frees.sh): the peak resident memory each growth
# added, over the buffer's final size, is printed as "grow RATIO" lines.
# The allocator underneath grows such a block in place or moves it by
# mremap; copied at each growth, old and new live at once near the end.
import sys


def hwm():
    with open("/proc/self/status") as f:
        for line in f:
            if line.startswith("VmHWM:"):
                return int(line.split()[1]) * 1024
    return 0


before = hwm()
b = bytearray()
chunk = b"y" * 65536
while len(b) < 64 << 20:
    b += chunk
print("grow bytearray %.3f" % ((hwm() - before) / len(b)))
before = hwm()
items = []
for i in range(8 << 20):
    items.append(None)
print("grow list %.3f" % ((hwm() - before) / (8 * len(items))))
sys.stdout.flush()
