#!/usr/bin/env bash
# scripts/debian-root.sh - the Debian roots the tests run CPython in: the
# current Debian (trixie: CPython 3.13 as Debian 13 ships it) and Debian's
# development suite (sid: CPython 3.14 and 3.15), each made once with
# `debootstrap --variant=minbase` from Debian's mirror and kept between runs
# (a root is a cache: removing it costs the next run a few minutes).  A
# root holds only what the tests run there: the interpreters, their headers
# (python3-dev: the layout check and the test extension build against them),
# libunwind (the shim's one shared library), the CLI's (the Python API in
# the root runs this machine's build/heapsnap there, with the root's libdw,
# libelf, libprotobuf-c and ncurses), pytest (the plugin's tests)
# and, in trixie, numpy and pandas (the clean programs' tests: Debian 13's
# numpy 2.2 and pandas 2.2 leak references heapsnap's built-in
# suppressions name; 17 MB to download, 89 MB installed).
#
# Usage:
#   scripts/debian-root.sh make SUITE...     make the roots that are missing; prints each path
#   scripts/debian-root.sh wrappers DIR      for each root made, an executable DIR/pythonX.Y-SUITE
#                                            per interpreter, which runs it in its root
#   scripts/debian-root.sh run SUITE CMD...  CMD in the root, in the caller's directory
# The run: a private mount namespace (unshare -m) where /proc, /dev, /tmp and
# this checkout are bound at their own paths, then chroot: a path given to
# the program (a script, an output name, LD_PRELOAD=$PWD/build/libheapsnap.so)
# means inside what it means outside, and the environment passes whole.
# Needs root (debootstrap, unshare, chroot), as the tests that use it.
#   HEAPSNAP_ROOTS=DIR  where the roots live (default /var/tmp/heapsnap-roots)
#   MIRROR=URL          the Debian mirror (default http://deb.debian.org/debian)
# Exit: 0; 2 trouble (not root, no debootstrap, the mirror not reached), one line.
set -u
SRC=$(cd "${0%/*}/.." && pwd)
ROOTS=${HEAPSNAP_ROOTS:-/var/tmp/heapsnap-roots}
MIRROR=${MIRROR:-http://deb.debian.org/debian}
die() { echo "debian-root: $*" >&2; exit 2; }

# The packages and interpreters of each suite.
suite_pkgs() {
  local cli="libdw1t64 libelf1t64 libprotobuf-c1 libncurses6"
  case "$1" in
    trixie) echo "python3 python3-dev python3-pytest libunwind8 $cli python3-numpy python3-pandas" ;;
    sid) echo "python3.14 python3.14-dev python3.15 python3.15-dev python3-pytest libunwind8 $cli" ;;
    *) return 1 ;;
  esac
}
suite_pythons() {
  case "$1" in
    trixie) echo "python3.13" ;;
    sid) echo "python3.14 python3.15" ;;
  esac
}

# add_pkgs SUITE PKGS: a root made with an older list gets the packages
# added since, by its own apt-get (the list it has: .heapsnap-ready).
add_pkgs() {
  local dir=$ROOTS/$1
  [ "$(cat "$dir/.heapsnap-ready" 2>/dev/null)" = "$2" ] && return 0
  [ "$(id -u)" -eq 0 ] || die "needs root (chroot)"
  cp /etc/resolv.conf "$dir/etc/resolv.conf" 2>/dev/null
  # shellcheck disable=SC2086
  chroot "$dir" /usr/bin/env DEBIAN_FRONTEND=noninteractive sh -c \
    "apt-get -o Acquire::Check-Valid-Until=false update -qq && apt-get install -y -qq --no-install-recommends $2" \
    >"$ROOTS/$1.apt.log" 2>&1 || die "cannot add packages to the $1 root: $(tail -n 2 "$ROOTS/$1.apt.log" | tr '\n' ' ')"
  echo "$2" >"$dir/.heapsnap-ready"
}

# make_one SUITE: the root, made once; a failed make leaves no half-made root.
make_one() {
  local suite=$1 dir=$ROOTS/$1 pkgs
  pkgs=$(suite_pkgs "$suite") || die "unknown suite '$suite' (trixie|sid)"
  if [ -f "$dir/.heapsnap-ready" ]; then
    (flock 9; add_pkgs "$suite" "$pkgs") 9>"$ROOTS/.$suite.lock" || exit 2
    echo "$dir"; return 0
  fi
  [ "$(id -u)" -eq 0 ] || die "needs root (debootstrap, chroot)"
  command -v debootstrap >/dev/null || "$SRC/scripts/install-deps.sh" minimal ||
    die "cannot install debootstrap"
  mkdir -p "$ROOTS" || die "cannot create $ROOTS"
  (
    flock 9
    [ -f "$dir/.heapsnap-ready" ] && exit 0
    echo "debian-root: debootstrap --variant=minbase $suite into $dir" >&2
    rm -rf --one-file-system "$dir.new"
    debootstrap --variant=minbase --include="${pkgs// /,}" "$suite" "$dir.new" "$MIRROR" \
      >"$ROOTS/$suite.log" 2>&1 ||
      die "debootstrap $suite failed (is $MIRROR reachable?): $(tail -n 2 "$ROOTS/$suite.log" | tr '\n' ' ')"
    rm -rf --one-file-system "$dir"
    mv "$dir.new" "$dir" && echo "$pkgs" >"$dir/.heapsnap-ready"
  ) 9>"$ROOTS/.$suite.lock" || exit 2
  echo "$dir"
}

run_in() {
  local suite=$1; shift
  local dir=$ROOTS/$suite chroot
  # by path: a caller may run with a PATH of its own, without /usr/sbin
  chroot=$(PATH=$PATH:/usr/sbin:/sbin command -v chroot) || die "no chroot (coreutils)"
  [ -f "$dir/.heapsnap-ready" ] || die "no $suite root in $ROOTS (scripts/debian-root.sh make $suite)"
  # LD_PRELOAD (the shim, say) is for CMD alone, not for the tools that
  # set the root up: it is put back by the root's shell right before CMD
  local pre=${HEAPSNAP_ROOT_PRELOAD-${LD_PRELOAD:-}}
  unset LD_PRELOAD HEAPSNAP_ROOT_PRELOAD
  # shellcheck disable=SC2016
  exec /usr/bin/env HEAPSNAP_ROOT_PRELOAD="$pre" /usr/bin/unshare -m /bin/sh -c '
    r=$1 src=$2 cwd=$3 chroot=$4; shift 4
    for d in /proc /dev /tmp "$src"; do
      /bin/mkdir -p "$r$d" && /bin/mount --rbind "$d" "$r$d" || exit 125
    done
    case "$cwd" in "$src"|"$src"/*|/tmp|/tmp/*) ;; *) cwd=/ ;; esac
    exec "$chroot" "$r" /bin/sh -c "cd \"\$0\" || exit 125
      [ -n \"\$HEAPSNAP_ROOT_PRELOAD\" ] && export LD_PRELOAD=\"\$HEAPSNAP_ROOT_PRELOAD\"
      unset HEAPSNAP_ROOT_PRELOAD
      exec \"\$@\"" "$cwd" "$@"' \
    sh "$dir" "$SRC" "$PWD" "$chroot" "$@"
}

wrappers() {
  local out=$1 suite py
  mkdir -p "$out" || die "cannot create $out"
  rm -f "$out"/python3.*-*
  for suite in trixie sid; do
    [ -f "$ROOTS/$suite/.heapsnap-ready" ] || continue
    for py in $(suite_pythons "$suite"); do
      [ -x "$ROOTS/$suite/usr/bin/$py" ] || continue
      printf '#!/bin/sh\n# %s of the Debian %s root (scripts/debian-root.sh)\nHEAPSNAP_ROOT_PRELOAD=${LD_PRELOAD:-}\nexport HEAPSNAP_ROOT_PRELOAD\nunset LD_PRELOAD\nexec /bin/bash %q run %s /usr/bin/%s "$@"\n' \
        "$py" "$suite" "$SRC/scripts/debian-root.sh" "$suite" "$py" >"$out/$py-$suite.new" &&
        chmod +x "$out/$py-$suite.new" && mv "$out/$py-$suite.new" "$out/$py-$suite"
    done
  done
}

case "${1:-}" in
  make) shift; for s in "$@"; do make_one "$s" || exit 2; done ;;
  run) shift; [ $# -ge 2 ] || die "usage: run SUITE CMD..."; run_in "$@" ;;
  wrappers) [ $# -eq 2 ] || die "usage: wrappers DIR"; wrappers "$2" ;;
  root) [ $# -eq 2 ] || die "usage: root SUITE"; echo "$ROOTS/$2" ;;
  *) die "usage: $0 make SUITE... | wrappers DIR | run SUITE CMD... | root SUITE" ;;
esac
