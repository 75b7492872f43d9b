#!/usr/bin/env bash
# Installs the Debian packages heapsnap needs, only those that are missing.
# Usage: scripts/install-deps.sh [build|quick|test|bench|npm|glib|pyml|cpytest|minimal|all]   (default: build)
#   build: compiler toolchain and the libraries the shim and CLI link against
#          (libiberty's archive demangles Rust's names),
#          protobuf-c (protoc-c generates the pprof export's code from report/export/profile.proto),
#          toml++ for the gate's rules file, help2man for `make install`'s man pages,
#          ncurses for `heapsnap live`'s view, libmicrohttpd for `heapsnap serve`'s HTTP
#   quick: build + what `make check-fast` (tests/run.sh --quick) uses: python3 (the
#          layout checks' scripts), binutils' nm, procps
#   test:  build + what `make check` uses (clang for ASan/libFuzzer, with libclang-rt-dev,
#          the runtime of the release's default clang: 14 on Debian 12, 19 on Debian 13, xmllint, python3 and
#          python3-dev (tests/shim/python builds a C extension and checks the frame layout),
#          python3-venv, -pip, -wheel and -setuptools (pip installs ./python offline),
#          python3-pytest (the pytest plugin's tests run a real pytest; with python3-exceptiongroup
#          and python3-tomli, pyenv's 3.10 runs it too), python3-nbclient and
#          python3-ipykernel (a notebook runs %%heapsnap under the heapsnap kernel), python3-yaml and
#          systemd's systemd-analyze (tests/report/serve checks the shipped configurations),
#          curl (the HTTP client of tests/report/serve),
#          python3-numpy (numpy's arrays in tracemalloc's domain: test_python_domains.sh),
#          python3-pandas (import numpy, pandas is clean: test_python_clean_extensions.sh),
#          libglib2.0-dev (GObject programs: test_leak_glib.sh),
#          Debian's rustc (tests/report/symbols/test_rust.sh builds Rust programs),
#          binutils' nm and addr2line, go for `go tool pprof`, man-db (the man pages'
#          test renders one), chromium for the HTML
#          report, tmux (tests/report/commands/test_live*.sh drive the live view in it),
#          valgrind's ms_print, GNU time (test_bombs measures the CLI's peak RSS),
#          debhelper, dpkg-dev, fakeroot and lintian (the Debian package's test
#          builds it with dpkg-buildpackage and checks it with lintian),
#          and the services tests/services/ runs: redis,
#          nginx, memcached and their load clients, and prometheus (with promtool:
#          tests/report/serve scrapes `heapsnap serve` and tests the shipped alert
#          rules); installed without starting them: the tests run their own)
#   glib:  libglib2.0-dev alone (tests/shim/leak/test_leak_glib.sh builds GObject programs
#          and installs it with this level; `test` includes it)
#   cpytest: Debian's libpython3.X-testsuite alone, X being python3's (CPython's own
#          regression tests: tests/shim/python/test_python_cpython_suite.sh installs it
#          with this level and runs a subset of them under the shim; `test` includes it)
#   pyml:  Debian's python3-torch (CPU), python3-pandas and python3-sklearn alone (the
#          big Python programs of issue 70: tests/shim/leak/test_leak_torch.sh installs
#          them with this level, scripts/bench/pyimports.py times them; `bench` includes it)
#   npm:   nodejs/npm, then the JSON validators for the tests (ajv-cli, ajv-formats,
#          the SARIF 2.1.0 schema as @microsoft/sarif-multitool-linux ships it, and
#          speedscope's file-format schema as the speedscope package ships it)
#          into $BUILD/npm/node_modules (never committed); exits non-zero when the
#          npm registry cannot be reached
#   bench: test + the peers we compare against (heaptrack, valgrind, hyperfine, sqlite3,
#          jq, clang with LeakSanitizer's runtime for the bench's lsan column, and
#          Debian's liblsan0 that bench.py --lsan preloads into Debian's binaries)
#   minimal: what scripts/check-minimal.sh needs to make a minimal root (debootstrap, git)
set -eu
level=${1:-build}

build_pkgs="gcc g++ make pkg-config libunwind-dev uthash-dev libdw-dev libelf-dev libiberty-dev zlib1g-dev libzstd-dev
            libprotobuf-c-dev protobuf-c-compiler libtomlplusplus-dev help2man libncurses-dev
            libmicrohttpd-dev"
test_pkgs="clang libclang-rt-dev rustc python3 python3-dev python3-venv python3-pip python3-wheel
           python3-setuptools python3-pytest python3-exceptiongroup python3-tomli python3-nbclient python3-ipykernel python3-yaml python3-numpy python3-pandas libglib2.0-dev libxml2-utils valgrind procps binutils golang-go man-db systemd
           curl
           chromium tmux time debhelper dpkg-dev fakeroot lintian strace"
service_pkgs="redis-server redis-tools nginx apache2-utils memcached libmemcached-tools prometheus"
bench_pkgs="heaptrack valgrind hyperfine sqlite3 jq time clang libclang-rt-dev liblsan0"
pyml_pkgs="python3-torch python3-pandas python3-sklearn"
minimal_pkgs="debootstrap git"
cpytest_pkgs="libpython$(python3 -c 'import sys; print("%d.%d" % sys.version_info[:2])' 2>/dev/null || echo 3)-testsuite"
quick_pkgs="python3 binutils procps git"

case "$level" in
  build) want="$build_pkgs" ;;
  quick) want="$build_pkgs $quick_pkgs" ;;
  test)  want="$build_pkgs $test_pkgs $service_pkgs $cpytest_pkgs" ;;
  bench|all) want="$build_pkgs $test_pkgs $service_pkgs $bench_pkgs $pyml_pkgs $cpytest_pkgs" ;;
  glib)  want="libglib2.0-dev" ;;
  pyml)  want="$pyml_pkgs" ;;
  cpytest) want="$cpytest_pkgs" ;;
  minimal) want="$minimal_pkgs" ;;
  npm)   if command -v npm >/dev/null; then want=""; else want="nodejs npm"; fi ;;
  *) echo "install-deps.sh: unknown level '$level' (build|quick|test|bench|npm|glib|pyml|cpytest|minimal|all)" >&2; exit 2 ;;
esac

missing=""
for p in $want; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing="$missing $p"
done
npm_install() {
  local dir=${BUILD:-build}/npm
  [ -f "$dir/.done-v2" ] && return 0
  mkdir -p "$dir"
  npm install --no-audit --no-fund --silent --prefix "$dir" \
      ajv-cli@5.0.0 ajv-formats@3.0.1 @microsoft/sarif-multitool-linux@5.7.0 \
      speedscope@1.25.0 >&2 &&
    [ -f "$dir/node_modules/@microsoft/sarif-multitool-linux/sarif-2.1.0.json" ] &&
    [ -f "$dir/node_modules/speedscope/dist/release/file-format-schema.json" ] &&
    touch "$dir/.done-v2"
}
if [ -z "$missing" ]; then
  [ "$level" = npm ] && { npm_install; exit $?; }
  exit 0
fi

echo "install-deps: installing$missing" >&2
if [ "$(id -u)" -eq 0 ]; then as_root=""; else as_root="sudo"; fi
export DEBIAN_FRONTEND=noninteractive
$as_root apt-get update -qq >/dev/null || true
# Debian starts a daemon when its package is installed (redis on 6379, nginx on
# 80, memcached on 11211).  The tests start their own on free ports and need
# none of these, so while apt installs them a policy-rc.d (Debian's switch for
# chroots and containers; invoke-rc.d and deb-systemd-invoke read it) says no.
# An existing policy-rc.d is left as it is.
policy=/usr/sbin/policy-rc.d
no_start=""
for p in $missing; do
  case " $service_pkgs " in *" $p "*) [ -e "$policy" ] || no_start=1 ;; esac
done
if [ -n "$no_start" ]; then
  trap '$as_root rm -f "$policy"' EXIT
  printf '#!/bin/sh\n# scripts/install-deps.sh: no daemon starts while it installs\nexit 101\n' |
    $as_root tee "$policy" >/dev/null
  $as_root chmod 0755 "$policy"
fi
# shellcheck disable=SC2086
# apt's and dpkg's own lines only when it fails (the demo's first screen is the demo)
log=$(mktemp)
if ! $as_root apt-get install -y -qq --no-install-recommends $missing >"$log" 2>&1; then
  tail -n 20 "$log" >&2; rm -f "$log"
  echo "install-deps: apt-get install$missing failed" >&2; exit 2
fi
rm -f "$log"
if [ "$level" = npm ]; then npm_install; fi
