"""heapsnap._early - `pytest --heapsnap` run again under the shim before
pytest is even imported.

The package installs heapsnap-pytest.pth beside itself: every interpreter
start in that environment tests whether "--heapsnap" is among its original
arguments (sys.orig_argv, 3.10 on: one list search) or PYTEST_ADDOPTS
(never in the process run again), and only then loads this file alone
(not the package, whose __init__ imports ctypes and more), which executes
the same command line again with the shim preloaded and recording
stopped (HEAPSNAP_PAUSED), when it is a pytest run and the shim is not in
the process yet.  The first process then costs an interpreter's start,
not pytest's import.  Without the .pth (`-p heapsnap.pytest_plugin` from a
source tree) the package's __init__ calls maybe() first thing: pytest is
imported twice then, but the package once.  pytest_plugin's own re-exec
remains for everything else (pytest.main(), an older Python).  Only os
and sys here: this runs before the program.
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


def maybe():
    argv = list(getattr(sys, "orig_argv", ()))
    pytest, args = _is_pytest(argv)
    if "--" in args:
        args = args[:args.index("--")]
    args = args + _addopts()
    if not pytest or "--heapsnap" not in args or os.environ.get(REEXEC) or \
            "libheapsnap" in os.environ.get("LD_PRELOAD", ""):
        return
    shim = shim_for_exec()
    if shim:
        exec_with(shim, [sys.executable] + argv[1:])

