# loadwin_user.py DIR: imports loadwin (built into DIR) from a function, so
# that its constructor's blocks are charged under the import's line
# (test_python_load_window); prints how many blocks the constructor kept.
import sys

sys.path.insert(0, sys.argv[1])


def load():
    import loadwin  # MARK_IMPORT
    return loadwin


print("kept", load().count())
