"""heapsnap._retention - who keeps a Python object alive, asked in the
process with the interpreter's own gc.get_referrers(): the shortest chain
of holders from a module's global, written as the heapsnap CLI writes a
retention path (`leaks --why`, `top --retainers`, docs/python.md):

    module test_cache, global CACHE (dict) -> ['k'] (list)

The pytest plugin's limit_leaks failure names so what the test left.  It
walks referrers breadth first (gc.get_referrers scans every tracked object:
a bounded number of steps, at a failure only, never on a test's path).
"""

import gc
import sys

_MAX_NODES = 200  # objects whose referrers are asked, a path


def _type_name(o):
    t = type(o)
    return t.__qualname__ if t.__module__ == "builtins" else "%s.%s" % (t.__module__,
                                                                        t.__qualname__)


def _key_of(items, o):
    for k, v in items:
        if v is o:
            return k
    return None


def _step(holder, held, after):
    """How holder holds held ("[3]", "['k']", "Cls.attr"), and whether the
    step after is part of it (an instance's or a class's __dict__)."""
    if isinstance(holder, (list, tuple)):
        return "[%s]" % _key_of(enumerate(holder), held), False
    if isinstance(holder, type) and isinstance(held, dict) and after is not None:
        k = _key_of(held.items(), after)
        if k is not None and holder.__dict__.get(k) is after:
            return "%s.%s" % (holder.__qualname__, k), True
    if isinstance(held, dict) and getattr(holder, "__dict__", None) is held and after is not None:
        return "%s.%s" % (type(holder).__name__, _key_of(held.items(), after)), True
    if isinstance(holder, dict):
        return "[%r]" % (_key_of(holder.items(), held),), False
    if type(holder).__name__ == "cell":
        return "cell.cell_contents", False
    d = getattr(holder, "__dict__", None)
    k = _key_of(d.items(), held) if isinstance(d, dict) else None
    if k is not None:
        return "%s.%s" % (type(holder).__name__, k), False
    return "", False


def path_to(obj, ignore=(), module_ok=None):
    """The path from a module's global to obj ("module M, global K (T) ->
    ...") through gc.get_referrers(), or None (no module's global reaches
    it within the bound).  ignore: containers of the caller's that hold it;
    module_ok(name, module): whether a module's globals count as a root."""
    frame_type = type(sys._getframe())
    mods = {}
    for name, m in list(sys.modules.items()):
        d = getattr(m, "__dict__", None)
        if isinstance(d, dict) and (module_ok is None or module_ok(name, m)):
            mods[id(d)] = name
    child = {id(obj): None}  # holder -> what it holds, toward obj
    queue = [obj]
    skip = {id(x) for x in ignore} | {id(child), id(queue), id(mods)}
    for i in range(_MAX_NODES):
        if i >= len(queue):
            return None
        o = queue[i]
        refs = gc.get_referrers(o)
        skip.add(id(refs))
        for r in refs:
            if id(r) in skip or isinstance(r, frame_type):
                continue
            if id(r) in mods:
                chain, at = [], o
                while at is not None:
                    chain.append(at)
                    at = child[id(at)]
                text = "module %s, global %s (%s)" % (mods[id(r)], _key_of(r.items(), o),
                                                      _type_name(o))
                k = 0
                while k + 1 < len(chain):
                    after = chain[k + 2] if k + 2 < len(chain) else None
                    how, merged = _step(chain[k], chain[k + 1], after)
                    k += 2 if merged else 1
                    text += " -> %s%s(%s)" % (how, " " if how else "", _type_name(chain[k]))
                return text
            if id(r) not in child:
                child[id(r)] = o
                queue.append(r)
        del refs
    return None
