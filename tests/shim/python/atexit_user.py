# atexit_user.py - a program whose own atexit handler keeps 5 MiB, for
# test_python_exit.sh: the exit snapshot, taken when finalization begins,
# comes after the program's handlers and before its modules are torn down.
import atexit

kept = []


def at_end():
    kept.append(bytearray(5 << 20))  # MARK_ATEXIT


atexit.register(at_end)
data = {i: str(i) * 20 for i in range(50000)}  # MARK_DATA
