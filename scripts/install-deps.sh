#!/usr/bin/env bash
# Installs the Debian packages heapsnap needs, only those that are missing.
# Usage: scripts/install-deps.sh [build|test|bench|all]   (default: build)
#   build: compiler toolchain and the libraries the shim and CLI link against
#   test:  build + what `make check` uses (clang for ASan/libFuzzer, xmllint, python3)
#   bench: test + the peers we compare against (heaptrack, valgrind, hyperfine, sqlite3)
set -eu
level=${1:-build}

build_pkgs="gcc g++ make pkg-config libunwind-dev uthash-dev libdw-dev libelf-dev zlib1g-dev"
test_pkgs="clang libclang-rt-14-dev python3 libxml2-utils valgrind"
bench_pkgs="heaptrack valgrind hyperfine sqlite3 time"

case "$level" in
  build) want="$build_pkgs" ;;
  test)  want="$build_pkgs $test_pkgs" ;;
  bench|all) want="$build_pkgs $test_pkgs $bench_pkgs" ;;
  *) echo "install-deps.sh: unknown level '$level' (build|test|bench|all)" >&2; exit 2 ;;
esac

missing=""
for p in $want; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing="$missing $p"
done
[ -z "$missing" ] && exit 0

echo "install-deps: installing$missing" >&2
if [ "$(id -u)" -eq 0 ]; then as_root=""; else as_root="sudo"; fi
export DEBIAN_FRONTEND=noninteractive
$as_root apt-get update -qq >/dev/null || true
# shellcheck disable=SC2086
$as_root apt-get install -y -qq --no-install-recommends $missing >/dev/null
