"""heapsnap._early - `pytest --heapsnap` under the shim before the tests
run: the shim loaded into this interpreter, or pytest run again with it
preloaded before pytest is even imported.

The package installs heapsnap-pytest.pth beside itself: every interpreter
start in that environment tests whether "--heapsnap" is among its original
arguments (sys.orig_argv, 3.10 on: one list search) or PYTEST_ADDOPTS
(never in the process run again), and only then loads this file alone
(not the package, whose __init__ imports ctypes and more), which executes
the same command line again with the shim preloaded and recording
stopped (HEAPSNAP_PAUSED), when it is a pytest run and the shim is not in
the process yet.  The first process then costs an interpreter's start,
not pytest's import.  Without the .pth (`-p heapsnap.pytest_plugin` from a
source tree) pytest is imported already when the package's __init__ calls
maybe(here=True): the shim's late copy (libheapsnap-attach.so, beside
libheapsnap.so) is loaded into this process instead (load_here: what
`heapsnap attach` does, by the process itself), and only when that fails
(said once) is pytest run again.  pytest_plugin does the same for
everything else (pytest.main(), --heapsnap in an ini file, an older
Python).  Only os and sys at import: this runs before the program.
"""

import os
import sys

# Not HEAPSNAP_*: the shim warns about such names it does not know.
REEXEC = "PYTEST_HEAPSNAP_REEXEC"


def shim_for_exec(cli=None):
    """The libheapsnap.so to preload: $HEAPSNAP_SHIM, or beside the CLI
    ($HEAPSNAP, or heapsnap on PATH; a build tree's build/, an install's
    lib/heapsnap/), or None."""
    env = os.environ.get("HEAPSNAP_SHIM")
    if env:
        return env
    cli = cli or os.environ.get("HEAPSNAP")
    if not cli:
        for d in os.environ.get("PATH", "").split(os.pathsep):
            c = os.path.join(d or ".", "heapsnap")
            if os.path.isfile(c) and os.access(c, os.X_OK):
                cli = c
                break
    if not cli:
        return None
    d = os.path.dirname(os.path.realpath(cli))
    for c in (os.path.join(d, "libheapsnap.so"),
              os.path.join(d, "..", "lib", "heapsnap", "libheapsnap.so")):
        if os.path.isfile(c):
            return os.path.normpath(c)
    return None


def exec_with(shim, argv):
    """Executes argv again with the shim preloaded, recording stopped
    until the tests' calls (HEAPSNAP_PAUSED); without HEAPSNAP_OUTPUT (no
    exit snapshot asked for), no state file nor site line either."""
    env = dict(os.environ)
    env["LD_PRELOAD"] = (shim + " " + env["LD_PRELOAD"]).strip() if env.get("LD_PRELOAD") \
        else shim
    env[REEXEC] = "1"
    env["HEAPSNAP_PAUSED"] = "1"
    if "HEAPSNAP_OUTPUT" not in env:
        env.setdefault("HEAPSNAP_STATE", "0")
        env.setdefault("HEAPSNAP_SITELINE", "0")
    sys.stdout.flush()
    sys.stderr.flush()
    os.execve(sys.executable, argv, env)


def _is_pytest(argv):
    """argv (sys.orig_argv) runs pytest: `python -m pytest ...` or a
    pytest / py.test script; its arguments after that."""
    for i, a in enumerate(argv[1:], 1):
        if a == "-m" and i + 1 < len(argv):
            return argv[i + 1] == "pytest", argv[i + 2:]
        if a.startswith("-m"):
            return a[2:] == "pytest", argv[i + 1:]
        if not a.startswith("-"):
            return os.path.basename(a).startswith(("pytest", "py.test")), argv[i + 1:]
    return False, []


def _addopts():
    """The words of PYTEST_ADDOPTS, which pytest reads as arguments, when
    --heapsnap is among them."""
    text = os.environ.get("PYTEST_ADDOPTS", "")
    if "--heapsnap" not in text:
        return []
    import shlex
    try:
        return shlex.split(text)
    except ValueError:
        return []


# heapsnap__load's refusals (shim/attach/latestart.h's ATT_E_*)
_LOAD_ERRORS = {
    -1: "the shim is in this process from the start",
    -2: "the shim is loaded and recording already",
    -3: "this process runs in secure-execution mode: the shim records nothing here",
    -4: "the shim could not find its own functions",
    -5: "no module of this process calls the malloc family through a GOT",
    -7: "the shim's thread could not start",
}

# The late copy's handle, once load_here loaded it (heapsnap's _shim reads it).
loaded = None
_said = []


def _conf(env):
    """heapsnap__load's options: the environment's HEAPSNAP_* variables, as
    exec_with passes them on, with its defaults."""
    conf = {k: v for k, v in env.items() if k.startswith("HEAPSNAP_") and "\n" not in v
            and "\n" not in k and k != "HEAPSNAP_SHIM"}
    conf["HEAPSNAP_PAUSED"] = "1"
    if "HEAPSNAP_OUTPUT" not in conf:
        conf.setdefault("HEAPSNAP_STATE", "0")
        conf.setdefault("HEAPSNAP_SITELINE", "0")
    return "".join("%s=%s\n" % kv for kv in conf.items())


def load_here(shim):
    """Loads the shim's late copy (libheapsnap-attach.so beside shim) into
    this running interpreter and starts it, recording stopped: its GOT
    entries of the malloc family rewritten, CPython's domains wrapped at
    the first recorded allocation, as after `heapsnap attach`.  Blocks
    allocated before are not the shim's (their frees pass to the real
    allocator).  None, or why not."""
    global loaded
    if loaded is not None:
        return None
    late = os.path.join(os.path.dirname(shim), "libheapsnap-attach.so")
    if not os.path.isfile(late):
        return "there is no libheapsnap-attach.so beside %s" % shim
    try:
        import ctypes
        lib = ctypes.CDLL(late)
        entry = lib.heapsnap__load
    except (ImportError, OSError) as e:
        return "%s: %s" % (late, e)
    except AttributeError:
        return "%s is older than this package (no heapsnap__load)" % late
    entry.argtypes = [ctypes.c_char_p]
    entry.restype = ctypes.c_int
    r = entry(_conf(os.environ).encode("utf-8", "surrogateescape"))
    if r != 0:
        return _LOAD_ERRORS.get(r, "the shim refused (%d)" % r)
    loaded = lib
    _wrap_now(lib)
    return None


def _wrap_now(lib):
    """The shim wraps CPython's domains, and books the objects alive then
    (preseed), at its first recorded allocation under the GIL: made to
    happen at the load, so that what was alive before is taken neither
    for start()'s nor for a pytest test's allocations.  Recording is
    stopped again after (load_here's state)."""
    try:
        start, stop = lib.heapsnap_start, lib.heapsnap_stop
    except AttributeError:
        return
    start.argtypes = stop.argtypes = []
    start.restype = stop.restype = None
    start()
    bytearray(1 << 17)  # PyMem_RawMalloc's malloc, through CPython's GOT
    stop()


def say_once(why):
    """The reason the shim could not be loaded here, once a process."""
    if not _said:
        _said.append(why)
        sys.stderr.write("heapsnap: the shim could not be loaded into this process (%s): "
                         "pytest runs again under it\n" % why)
        sys.stderr.flush()


def maybe(here=False):
    """At the interpreter's start (the .pth), or from the package's
    __init__ (here: pytest may be imported already): a pytest run asked
    for --heapsnap gets the shim, loaded here when `here`, else (or when
    that fails) by running again under it."""
    argv = list(getattr(sys, "orig_argv", ()))
    pytest, args = _is_pytest(argv)
    if "--" in args:
        args = args[:args.index("--")]
    args = args + _addopts()
    if not pytest or "--heapsnap" not in args or os.environ.get(REEXEC) or \
            "libheapsnap" in os.environ.get("LD_PRELOAD", ""):
        return
    shim = shim_for_exec()
    if not shim:
        return
    if here:
        why = load_here(shim)
        if why is None:
            return
        say_once(why)
    exec_with(shim, [sys.executable] + argv[1:])
