#!/usr/bin/env bash
# tests/shim/leak/classes/leakfix.sh - builds the leak-class fixtures (tests/shim/leak/classes/*.c,
# *.cc) into $BUILD/leakfix/, plus libleakfix_root.so for root_dlopen and
# libleakfix_tls.so for root_tls_dynamic.
# Compiled from the repository root with relative paths, -g -O0 and
# -fdebug-prefix-map=$PWD=. so allocation sites read "tests/shim/leak/classes/NAME.c:N"
# wherever the checkout is.  Only rebuilds what is older than its source,
# leakfix.h or this script.
# Usage: tests/shim/leak/classes/leakfix.sh [NAME...]   (default: all)   exits 1 on failure.
set -eu
cd "$(dirname "$0")/../../../.."
BUILD=${BUILD:-build}
out=$BUILD/leakfix
src=tests/shim/leak/classes
mkdir -p "$out"
flags="-g -O0 -fno-omit-frame-pointer -fdebug-prefix-map=$PWD=. -pthread"

stale() { # target sources...: true when target is missing or older than one of them
  local t=$1; shift
  [ -e "$t" ] || return 0
  for s in "$@" "$src/leakfix.h" "$0"; do [ "$s" -nt "$t" ] && return 0; done
  return 1
}

build_lib() { # source library-name
  stale "$out/$2" "$src/$1" || return 0
  gcc $flags -fPIC -shared "$src/$1" -o "$out/$2.tmp.$$" && mv "$out/$2.tmp.$$" "$out/$2"
}

build_one() { # name
  local name=$1 file cc extra=""
  if [ -f "$src/$name.c" ]; then file=$src/$name.c cc=gcc; else file=$src/$name.cc cc=g++; fi
  # shellcheck disable=SC2016
  case $name in
    root_dlopen) build_lib libroot.c libleakfix_root.so || return 1; extra='-ldl -Wl,-rpath,$ORIGIN' ;;
    root_tls_dynamic) build_lib libtlsroot.c libleakfix_tls.so || return 1; extra='-ldl -Wl,-rpath,$ORIGIN' ;;
  esac
  stale "$out/$name" "$file" || return 0
  # shellcheck disable=SC2086
  $cc $flags "$file" -o "$out/$name.tmp.$$" $extra && mv "$out/$name.tmp.$$" "$out/$name"
}

names=${*:-$(cd "$src" && ls ./*.c ./*.cc | sed 's|^\./||; s|\.cc*$||' | grep -vx 'libroot\|libtlsroot')}
rc=0
for n in $names; do
  build_one "$n" || { echo "leakfix: cannot build $n" >&2; rc=1; }
done
exit $rc
