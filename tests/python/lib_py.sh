# tests/python/lib_py.sh - helpers of the Python tests (sourced after
# tests/lib.sh): the CPython 3.11 interpreters on this machine, and the C
# extension the tests build.
#
# py_interpreters: one line per interpreter, "TAG PATH": Debian's
# /usr/bin/python3 ("debian") and every other CPython 3.11 found (a pyenv
# build with its shared libpython: "pyenv"; another on PATH: "path").
# Symlinks are resolved so each binary is listed once (pyenv's python3 on
# PATH is a shell script: the real binary is asked for its sys.executable).
py_interpreters() {
  local seen="" p real tag
  for p in /usr/bin/python3 $HOME/.pyenv/versions/3.11*/bin/python3 "$(command -v python3)"; do
    [ -x "$p" ] || continue
    real=$("$p" -c 'import sys; print(sys.executable if sys.version_info[:2] == (3, 11) else "")' 2>/dev/null)
    [ -n "$real" ] || continue
    real=$(readlink -f "$real")
    case " $seen " in *" $real "*) continue ;; esac
    seen="$seen $real"
    case "$real" in /usr/bin/*) tag=debian ;; */.pyenv/*) tag=pyenv ;; *) tag=path ;; esac
    echo "$tag $real"
  done
}

# py_ext_build PY: builds tests/python/pyext.c as the module "pyext" for
# interpreter PY into $T/ext-TAG/ (python3-dev's headers, or the
# interpreter's own); prints the directory; 1 when it cannot.
py_ext_build() {
  local py=$1 inc suffix dir
  inc=$("$py" -c 'import sysconfig; print(sysconfig.get_paths()["include"])') || return 1
  suffix=$("$py" -c 'import sysconfig; print(sysconfig.get_config_var("EXT_SUFFIX"))') || return 1
  [ -f "$inc/Python.h" ] || return 1
  dir=$T/ext-$(echo "$py" | md5sum | cut -c1-8)
  mkdir -p "$dir"
  t_build "$dir/pyext$suffix" tests/python/pyext.c -shared -fPIC -I"$inc" -O1 || return 1
  echo "$dir"
}

# py_run PY OUT SCRIPT ARGS...: SCRIPT under the shim, exit snapshot to
# $T/exit.%p.hsnap, stderr into OUT.err; the exit status.
py_run() {
  local py=$1 out=$2; shift 2
  LD_PRELOAD=$SHIM HEAPSNAP_OUTPUT="$T/exit.%p.hsnap" "$py" "$@" >"$out.out" 2>"$out.err"
}

# py_line FILE MARK: the line of FILE that holds MARK.
py_line() { grep -n "$2" "$1" | head -1 | cut -d: -f1; }
