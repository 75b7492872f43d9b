# regheld_user.py - for test_python_regheld.sh: a thread holds the only
# reference to a RegHeld in a register while it blocks in a read
# (regheld.hold_in_register, argv[1]: the directory of the extension
# built), and the main thread ends once /proc says the thread is in that
# read: the exit snapshot's leak check stops it there.
import os
import sys
import threading
import time

sys.path.insert(0, sys.argv[1])
import regheld  # noqa: E402


class RegHeld:
    pass


r, w = os.pipe()
t = threading.Thread(target=regheld.hold_in_register, args=(RegHeld, r), daemon=True)
t.start()
for _ in range(500):  # at most 5 s: in read(2), SYS_read 0
    try:
        with open("/proc/self/task/%d/syscall" % t.native_id) as f:
            if f.read().split()[0] == "0":
                break
    except OSError:
        pass
    time.sleep(0.01)
else:
    sys.exit("the thread never blocked in its read")
print("blocked")
