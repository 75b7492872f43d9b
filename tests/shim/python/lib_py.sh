# tests/shim/python/lib_py.sh - helpers of the Python tests (sourced after
# tests/lib.sh): the CPython interpreters on this machine that heapsnap
# gives Python frames (3.10-3.15), and the C extension the tests build.
#
# py_interpreters: one line per interpreter, "TAG PATH": Debian's
# /usr/bin/python3 ("debian"), every pyenv build of a supported version
# (its shared libpython: "pyenv-3.12"), another on PATH ("path-3.12").
# Symlinks are resolved so each binary is listed once (pyenv's python3 on
# PATH is a shell script: the real binary is asked for its sys.executable).
PY_SUPPORTED="3.10 3.11 3.12 3.13 3.14 3.15"

py_pyenv_root() {
  if command -v pyenv >/dev/null 2>&1; then pyenv root; else echo "${PYENV_ROOT:-$HOME/.pyenv}"; fi
}

# py_candidates: every python binary worth asking, one a line.
py_candidates() {
  local root v
  root=$(py_pyenv_root)
  echo /usr/bin/python3
  for v in $PY_SUPPORTED; do
    ls -d "$root"/versions/"$v".*/bin/python"$v" 2>/dev/null
    command -v "python$v" 2>/dev/null
  done
  command -v python3 2>/dev/null
}

py_interpreters() {
  py_interpreters_here | py_only
}

# py_only: the "TAG ..." lines whose tag contains TEST_PYTHONS.
py_only() {
  local tag rest
  while read -r tag rest; do
    case "$tag" in *"${TEST_PYTHONS:-}"*) echo "$tag $rest" ;; esac
  done
}

py_interpreters_here() {
  local seen="" p real tag ver
  while read -r p; do
    [ -x "$p" ] || continue
    real=$("$p" -c 'import sys, sysconfig
v = "%d.%d" % sys.version_info[:2]
ft = sysconfig.get_config_var("Py_GIL_DISABLED")
print(v, sys.executable if (3, 10) <= sys.version_info[:2] <= (3, 15) and not ft else "")' 2>/dev/null)
    ver=${real%% *}; real=${real#* }
    [ -n "$real" ] && [ "$real" != "$ver" ] || continue
    real=$(readlink -f "$real")
    case " $seen " in *" $real "*) continue ;; esac
    seen="$seen $real"
    case "$real" in /usr/bin/*) tag=debian ;; */.pyenv/*|*/pyenv/*) tag=pyenv-$ver ;; *) tag=path-$ver ;; esac
    echo "$tag $real"
  done < <(py_candidates)
  py_root_interpreters supported
}

# py_root_interpreters supported|unread: "TAG WRAPPER" of the interpreters
# of the Debian roots (scripts/debian-root.sh, made by `make check`):
# Debian 13's python3.13 ("debian13-3.13") and sid's 3.14 and 3.15
# ("sid-3.14") among the supported ones; a root's version outside
# PY_SUPPORTED among those heapsnap does not read (unread).
# TEST_PYTHONS=PATTERN keeps only the tags that contain it (every
# interpreter list of these tests), to run one interpreter's tests.
py_root_interpreters() {
  local w name ver suite tag
  for w in "${BUILD:-build}"/roots/python3.*-*; do
    [ -x "$w" ] || continue
    name=${w##*/}; ver=${name%%-*}; ver=${ver#python}; suite=${name#*-}
    case "$suite" in trixie) tag=debian13-$ver ;; *) tag=$suite-$ver ;; esac
    case " $PY_SUPPORTED " in
      *" $ver "*) [ "$1" = supported ] || continue ;;
      *) [ "$1" = unread ] || continue ;;
    esac
    echo "$tag $PWD/$w"
  done
}

# py_include PY: the directory of PY's Python.h as seen from here.
py_include() {
  local inc
  inc=$("$1" -c 'import sysconfig; print(sysconfig.get_paths()["include"])') || return 1
  echo "$(py_root "$1")$inc"
}

# py_incafter PY: for a root's interpreter, its root's /usr/include after
# this machine's own headers (Debian's pyconfig.h includes a multiarch one
# from there; libc's headers stay this machine's, whose libc links it).
py_incafter() {
  local r
  r=$(py_root "$1")
  [ -n "$r" ] && echo "-idirafter $r/usr/include"
}

# The CLI reads a root's snapshots with the root's own files (its libc, its
# python binary): HEAPSNAP_SYSROOT tries this machine's first, then each
# root, and takes the file whose build-id the snapshot recorded.
for _r in "${BUILD:-build}"/roots/python3.*-*; do
  [ -x "$_r" ] || continue
  _r=$(scripts/debian-root.sh root "${_r##*-}")
  case ":${HEAPSNAP_SYSROOT:-/}:" in *":$_r:"*) ;; *) HEAPSNAP_SYSROOT=${HEAPSNAP_SYSROOT:-/}:$_r ;; esac
done
[ -n "${HEAPSNAP_SYSROOT:-}" ] && export HEAPSNAP_SYSROOT
unset _r

# py_root PY: the root directory PY runs in ("" for an interpreter of this
# machine), to find its headers from here.
py_root() {
  case "$1" in */roots/python3.*-*) scripts/debian-root.sh root "${1##*-}" ;; esac
}

# py_versions_missing: the supported versions no interpreter here has, one
# a line (each test of versions prints a SKIP line for them).
py_versions_missing() {
  local have v
  have=$(py_interpreters | while read -r tag py; do "$py" -c 'import sys; print("%d.%d" % sys.version_info[:2])'; done)
  for v in $PY_SUPPORTED; do
    echo "$have" | grep -qx "$v" || echo "$v"
  done
}

# py_old_interpreters: "VERSION PATH" of pyenv's CPythons older than 3.10
# (2.7, 3.6-3.9), which get native frames only.
py_old_interpreters() {
  local root p v
  root=$(py_pyenv_root)
  for p in "$root"/versions/[23].*/bin/python[23].[0-9]*; do
    [ -x "$p" ] || continue
    v=${p##*/python}
    case "$v" in 2.[0-9]|3.[0-9]) echo "$v $p" ;; esac
  done | sort -u -k1,1
}

# py_ext_build PY [NAME [CFLAGS...]]: builds tests/shim/python/NAME.c as the
# module NAME for interpreter PY into $T/ext-HASH/ (python3-dev's headers,
# or the interpreter's own); prints the directory.  NAME pyext and CFLAGS
# -O1 without them.  2 when PY has no Python.h to build against, 1 when the
# build fails (the compiler's errors on stderr).
py_ext_build() {
  local py=$1 name inc suffix dir
  [ $# -le 1 ] && set -- "$py" pyext -O1
  name=$2; shift 2
  inc=$(py_include "$py") || return 2
  suffix=$("$py" -c 'import sysconfig; print(sysconfig.get_config_var("EXT_SUFFIX"))') || return 2
  [ -f "$inc/Python.h" ] || return 2
  dir=$T/ext-$(echo "$py" | md5sum | cut -c1-8)
  mkdir -p "$dir"
  t_build "$dir/$name$suffix" "tests/shim/python/$name.c" -shared -fPIC -I"$inc" $(py_incafter "$py") "$@" || return 1
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

# py_pkg_src: a copy of python/ in $T without what a build left there
# (its build directory, *.egg-info), for `pip install`: pip builds in the tree it
# is given, and a source tree's leftovers would be installed again.
py_pkg_src() {
  rm -rf "$T/pkgsrc" && cp -r python "$T/pkgsrc" && rm -rf "$T/pkgsrc/build" "$T"/pkgsrc/*.egg-info &&
    echo "$T/pkgsrc"
}

# py_tb_frames FILE SITE: the frames of the traceback (top --key
# traceback) whose site line starts with SITE.
py_tb_frames() {
  awk -v s="$2" '/^[^ ]/ { on = index($0, s) == 1; next } on' "$1"
}

# py_deep_check NAME TB: deep_user.py's allocation 200 Python frames deep,
# in the tracebacks of TB, reaches <module> (201 frames of rec): test NAME.
py_deep_check() {
  local user=tests/shim/python/deep_user.py l_alloc l_mod rec
  l_alloc=$(py_line $user MARK_DEEP_ALLOC) l_mod=$(py_line $user MARK_DEEP_MODULE)
  py_tb_frames "$2" "$user:$l_alloc:" >"$T/$1.deep.txt"
  rec=$(grep -c ', in rec$' "$T/$1.deep.txt")
  if [ "$rec" = 201 ] && tail -1 "$T/$1.deep.txt" | grep -q "line $l_mod, in <module>$"; then
    t_pass "$1"
  else t_fail "$1" "$rec frames of rec, last: $(tail -1 "$T/$1.deep.txt")"; fi
}

# py_deep_run MODE PY EXTDIR SNAP: deep_user.py (the pyext extension built
# in EXTDIR) under HEAPSNAP_PYTHON_NATIVE=MODE and HEAPSNAP_DEPTH=256, its
# snapshot at SNAP, its output in SNAP.out.
py_deep_run() {
  HEAPSNAP_PYTHON_NATIVE=$1 HEAPSNAP_DEPTH=256 LD_PRELOAD=$SHIM HEAPSNAP_OUTPUT="$T/x.%p.hsnap" \
    "$2" tests/shim/python/deep_user.py "$3" "$4" >"$4.out" 2>&1
}
