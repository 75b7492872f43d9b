# refpath.py - the path from a root to an object, built one
# gc.get_referrers() step at a time and written as heapsnap writes it
# ("module app, global TABLE (dict) -> ['k1'] (app.Case7)"): the reference
# that retention.py's and heldout.py's programs check heapsnap's holders
# against (test_python_retention.sh).  path_of(o, frames, skip): frames,
# running frames whose locals are roots; skip, containers of the caller's
# own that refer to o.
import gc
import signal
import sys


def type_name(o):
    t = type(o)
    return t.__qualname__ if t.__module__ == "builtins" else t.__module__ + "." + t.__qualname__


def referrers(o, skip):
    out = []
    for r in gc.get_referrers(o):
        if type(r).__name__ != "frame" and not any(r is s for s in skip):
            out.append(r)
    return out


def find(items, o):
    """The key or index of o in items (pairs); explicit loops: a
    comprehension naming o would make o a closure's cell (3.10, 3.11),
    one more referrer."""
    for k, v in items:
        if v is o:
            return k
    raise AssertionError("not there")


def path_of(o, frames, skip):
    """The path to o from a root, one gc.get_referrers() step at a time."""
    tn = type_name(o)
    skip = skip + [sys._getframe()]
    for f in frames:  # a running frame's local
        for k, v in f.f_locals.items():
            if v is o:
                return "frame %s:%d in %s, local %s (%s)" % (
                    f.f_code.co_filename, f.f_lineno, f.f_code.co_name, k, tn)
    refs = referrers(o, skip)
    if not refs and signal.getsignal(signal.SIGUSR1) is o:  # no object names it: C's
        return "the interpreter's own state (%s)" % tn
    if isinstance(o, type):  # a class: its module's global (not its mro, descriptors)
        refs = [r for r in refs if isinstance(r, dict)]
    assert len(refs) == 1, (tn, [type(r) for r in refs])
    r = refs[0]
    for name, m in list(sys.modules.items()):
        if getattr(m, "__dict__", None) is r:
            return "module %s, global %s (%s)" % (name, find(r.items(), o), tn)
    skip = skip + [refs]
    if isinstance(r, (list, tuple)):
        return "%s -> [%d] (%s)" % (path_of(r, frames, skip), find(enumerate(r), o), tn)
    if isinstance(r, dict):
        k = find(r.items(), o)
        owners = referrers(r, skip)
        if len(owners) == 1 and isinstance(owners[0], type):  # a class's __dict__
            c = owners[0]
            return "%s -> %s.%s (%s)" % (path_of(c, frames, skip + [owners]), c.__qualname__,
                                         k, tn)
        if len(owners) == 1 and getattr(owners[0], "__dict__", None) is r:  # 3.10's
            inst = owners[0]
            return "%s -> %s.%s (%s)" % (path_of(inst, frames, skip + [owners]),
                                         type(inst).__name__, k, tn)
        return "%s -> ['%s'] (%s)" % (path_of(r, frames, skip + [owners]), k, tn)
    if type(r).__name__ == "cell":
        return "%s -> cell.cell_contents (%s)" % (path_of(r, frames, skip), tn)
    if type(r).__name__ == "function" and r.__closure__ is o:
        return "%s -> function.__closure__ (%s)" % (path_of(r, frames, skip), tn)
    if type(r).__name__ == "function" and r.__defaults__ is o:
        return "%s -> function.__defaults__ (%s)" % (path_of(r, frames, skip), tn)
    if type(r).__name__ == "method" and r.__self__ is o:
        return "%s -> method.__self__ (%s)" % (path_of(r, frames, skip), tn)
    # an instance whose values (3.11 on) hold o: the names its __init__ sets
    for k in type(r).__init__.__code__.co_names:
        if getattr(r, k, None) is o:
            return "%s -> %s.%s (%s)" % (path_of(r, frames, skip), type(r).__name__, k, tn)
    raise AssertionError("no step for %s held by %s" % (tn, type(r)))
