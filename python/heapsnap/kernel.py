"""heapsnap.kernel - the Jupyter kernel "Python 3 (heapsnap)": ipykernel
with heapsnap's shim preloaded and recording stopped (HEAPSNAP_PAUSED)
until a %%heapsnap cell asks, so the kernel runs at its usual speed and a
measured cell costs what a test costs under `pytest --heapsnap`.

    python3 -m heapsnap.kernel install [--user | --sys-prefix | --prefix DIR] [--name NAME]

writes the kernel's spec (jupyter_client's KernelSpecManager, the way
`python -m ipykernel install` does); Jupyter then starts

    python3 -m heapsnap.kernel -f CONNECTION_FILE

which executes itself again with the shim preloaded (found as the pytest
plugin finds it: $HEAPSNAP_SHIM, or beside the heapsnap CLI: $HEAPSNAP or
PATH) and starts ipykernel.  The shim's own variables leave the kernel's
environment once it runs, so that the programs a notebook starts (`!cmd`,
subprocess, multiprocessing's spawn) are not preloaded.  Without a shim
the kernel starts anyway, says why on its log, and %%heapsnap says how.
"""

import json
import os
import sys
import tempfile

NAME = "heapsnap"
DISPLAY_NAME = "Python 3 (heapsnap)"

# Not HEAPSNAP_*: the shim warns about such names it does not know.
_REEXEC = "JUPYTER_HEAPSNAP_REEXEC"
_SAVED = "JUPYTER_HEAPSNAP_SAVED_ENV"
_SHIM_VARS = ("LD_PRELOAD", "HEAPSNAP_PAUSED", "HEAPSNAP_STATE", "HEAPSNAP_SITELINE")


def spec(python=None):
    """The kernel.json: this interpreter running this module; the package's
    directory on PYTHONPATH when the interpreter would not find it."""
    python = python or sys.executable
    here = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
    out = {"argv": [python, "-m", "heapsnap.kernel", "-f", "{connection_file}"],
           "display_name": DISPLAY_NAME, "language": "python",
           "metadata": {"debugger": False}}
    if here not in _default_path(python):
        out["env"] = {"PYTHONPATH": here}
    return out


def _default_path(python):
    """The sys.path the interpreter has without PYTHONPATH (this one's
    site directories, when it is this interpreter)."""
    import site
    import sysconfig
    if os.path.realpath(python) != os.path.realpath(sys.executable):
        return ()
    dirs = list(site.getsitepackages()) + [site.getusersitepackages()]
    dirs += [sysconfig.get_paths()[k] for k in ("purelib", "platlib")]
    return {os.path.abspath(d) for d in dirs}


def install(user=False, prefix=None, name=NAME):
    """Writes the spec where Jupyter finds kernels; the directory written."""
    from jupyter_client.kernelspec import KernelSpecManager
    with tempfile.TemporaryDirectory() as d:
        with open(os.path.join(d, "kernel.json"), "w") as f:
            json.dump(spec(), f, indent=1)
        try:  # ipykernel's logos, when it ships them
            from ipykernel.kernelspec import RESOURCES
            import shutil
            for logo in ("logo-32x32.png", "logo-64x64.png", "logo-svg.svg"):
                if os.path.isfile(os.path.join(RESOURCES, logo)):
                    shutil.copy(os.path.join(RESOURCES, logo), d)
        except ImportError:
            pass
        return KernelSpecManager().install_kernel_spec(d, name, user=user, prefix=prefix)


def _shim():
    from . import _early, _snapshot
    try:
        cli = _snapshot.cli_path()
    except RuntimeError:
        cli = None
    return _early.shim_for_exec(cli)


def _restore_env():
    """The environment the kernel was started with, back (the shim is in
    the process already)."""
    saved = json.loads(os.environ.pop(_SAVED, "{}"))
    os.environ.pop(_REEXEC, None)
    for k in _SHIM_VARS:
        if saved.get(k) is None:
            os.environ.pop(k, None)
        else:
            os.environ[k] = saved[k]


def launch(args):
    """Jupyter's command: the kernel, under the shim."""
    if os.environ.get(_REEXEC):
        _restore_env()
    elif "libheapsnap" not in os.environ.get("LD_PRELOAD", ""):
        shim = _shim()
        if shim:
            env = dict(os.environ)
            env[_SAVED] = json.dumps({k: os.environ.get(k) for k in _SHIM_VARS})
            env[_REEXEC] = "1"
            env["LD_PRELOAD"] = (shim + " " + env["LD_PRELOAD"]).strip() \
                if env.get("LD_PRELOAD") else shim
            env["HEAPSNAP_PAUSED"] = "1"
            if "HEAPSNAP_OUTPUT" not in env:  # no exit snapshot asked for: no files at all
                env.setdefault("HEAPSNAP_STATE", "0")
                env.setdefault("HEAPSNAP_SITELINE", "0")
            sys.stdout.flush()
            sys.stderr.flush()
            os.execve(sys.executable, [sys.executable, "-m", "heapsnap.kernel"] + args, env)
        print("heapsnap: libheapsnap.so is not found (set HEAPSNAP_SHIM, or put the heapsnap "
              "CLI on PATH): this kernel runs without the shim", file=sys.stderr)
    from ipykernel import kernelapp
    import heapsnap
    # %%heapsnap from the first cell on (IPython's --ext: the extension loaded at start)
    sys.argv = [sys.argv[0]] + args + (["--ext=heapsnap"] if heapsnap.is_loaded() else [])
    kernelapp.launch_new_instance()


def main(argv=None):
    argv = sys.argv[1:] if argv is None else argv
    if argv[:1] != ["install"]:
        return launch(argv)
    import argparse
    ap = argparse.ArgumentParser(prog="python3 -m heapsnap.kernel install",
                                 description="Installs the Jupyter kernel \"%s\"." % DISPLAY_NAME)
    where = ap.add_mutually_exclusive_group()
    where.add_argument("--user", action="store_true", help="for this user (~/.local/share/jupyter)")
    where.add_argument("--sys-prefix", action="store_true",
                       help="in this interpreter's prefix (%s: a virtualenv's)" % sys.prefix)
    where.add_argument("--prefix", metavar="DIR", help="under DIR/share/jupyter/kernels")
    ap.add_argument("--name", default=NAME, help="the kernel's directory name (default %s)" % NAME)
    a = ap.parse_args(argv[1:])
    prefix = sys.prefix if a.sys_prefix else a.prefix
    try:
        dest = install(user=a.user, prefix=prefix, name=a.name)
    except ImportError as e:
        sys.exit("heapsnap: jupyter_client is not installed (%s): install jupyter or ipykernel "
                 "first" % e)
    except OSError as e:
        sys.exit("heapsnap: cannot install the kernel: %s (try --user)" % e)
    print("heapsnap: installed the kernel \"%s\" in %s" % (DISPLAY_NAME, dest))
    return 0


if __name__ == "__main__":
    sys.exit(main())
