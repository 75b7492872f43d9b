# heldout_hooks.py - a module with a registry of callbacks, for
# heldout.py: register() appends to the module's list.
CALLBACKS = []


def register(fn):
    CALLBACKS.append(fn)
    return fn
