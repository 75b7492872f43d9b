# tests/report/symbols/test_dbgsym_hints.sh - the debug-information note names the
# host's own way to debug information, read from os-release's ID and ID_LIKE
# (HEAPSNAP_OS_RELEASE here, dbg_host): Debian's debug archive and server, Ubuntu's
# ddebs archive and server, Fedora's dnf debuginfo-install and server (and a
# Fedora-like ID_LIKE's), Arch's server, and for a host it does not know the
# DEBUGINFOD_URLS hint without a URL; one line each.  dpkg-query runs only on
# Debian and Ubuntu: a packaged program's note names its Debian package there and its
# path on Fedora.  (The note itself: test_symbolize.sh, test_no_debuginfo.sh.)
unset DEBUGINFOD_URLS # no network: libdw would ask a debuginfod server
# The note asks dpkg-query afresh each time: the stubs below change its answers where
# the modules' files, which the kept answers follow, do not (test_dbgsym_program).
export HEAPSNAP_DEBUG_CACHE=0
cat >"$T/keep.c" <<'C'
#include <stdlib.h>
void *volatile keep;
__attribute__((noinline)) void grow(void) { keep = malloc(4000); }
int main(void) { grow(); return 0; }
C
if ! t_build keep "$T/keep.c" 2>"$T/cc.err" || ! strip -g "$T/keep"; then
  t_fail hint_fixture_builds "$(head -c 300 "$T/cc.err")"; return 0 2>/dev/null || exit 0
fi
HEAPSNAP_OUTPUT=$T/keep.hsnap LD_PRELOAD=$SHIM "$T/keep"
if [ ! -s "$T/keep.hsnap" ]; then t_fail hint_snapshot_written "no $T/keep.hsnap"; return 0 2>/dev/null || exit 0; fi
printf 'PRETTY_NAME="Debian GNU/Linux 12 (bookworm)"\nID=debian\n' >"$T/os.debian"
printf 'NAME="Ubuntu"\nID=ubuntu\nID_LIKE=debian\n' >"$T/os.ubuntu"
printf 'NAME="Linux Mint"\nID=linuxmint\nID_LIKE="ubuntu debian"\n' >"$T/os.mint"
printf 'NAME="Fedora Linux"\nID=fedora\n' >"$T/os.fedora"
printf 'NAME="Rocky Linux"\nID="rocky"\nID_LIKE="rhel centos fedora"\n' >"$T/os.rocky"
printf 'NAME="Arch Linux"\nID=arch\n' >"$T/os.arch"
printf 'NAME="openSUSE Tumbleweed"\nID="opensuse-tumbleweed"\nID_LIKE="opensuse suse"\n' >"$T/os.suse"
printf 'NAME="Plan Nine"\nID=plan9\nID_LIKE="bell-labs"\n' >"$T/os.unknown"
# note NAME OS PATTERN: the one line of `top`'s stderr under os-release OS matches PATTERN
note() {
  HEAPSNAP_OS_RELEASE=$T/os.$2 "$HEAPSNAP" top -n 1 "$T/keep.hsnap" >/dev/null 2>"$T/err.$2"
  if [ "$(grep -c . "$T/err.$2")" = 1 ] &&
     grep -q '^heapsnap: note: no debug information in .*keep' "$T/err.$2" &&
     grep -Eq -- "for lines: $3\$" "$T/err.$2"; then t_pass "$1"
  else t_fail "$1" "$(tr '\n' '|' <"$T/err.$2")"; fi
}
U='DEBUGINFOD_URLS=https://debuginfod'
note hint_debian_archive_and_server debian "install their -dbgsym packages, or set $U\\.debian\\.net"
note hint_ubuntu_ddebs_and_server ubuntu "install their -dbgsym packages from Ubuntu's ddebs archive \\(ddebs\\.ubuntu\\.com\\), or set $U\\.ubuntu\\.com"
note hint_ubuntu_like_is_ubuntu mint ".*ddebs.*, or set $U\\.ubuntu\\.com"
note hint_fedora_dnf_and_server fedora "dnf debuginfo-install their packages, or set $U\\.fedoraproject\\.org"
note hint_rhel_like_is_fedora rocky "dnf debuginfo-install their packages, or set $U\\.fedoraproject\\.org"
note hint_arch_server arch "set $U\\.archlinux\\.org"
note hint_opensuse_zypper_and_server suse "zypper install PKG-debuginfo .*, or set $U\\.opensuse\\.org"
note hint_unknown_host_no_url unknown "set DEBUGINFOD_URLS to your distribution's debuginfod server"
# A packaged program without debug information (a Debian host's own, when dpkg
# knows it): its -dbgsym package on Debian and Ubuntu, its path on Fedora.
prog=$(command -v sort)
pkg=$(dpkg-query -S "$prog" 2>/dev/null | sed -n '1s/:.*//p')
if [ -z "$pkg" ] || dpkg-query -W -f='${Status}' "$pkg-dbgsym" 2>/dev/null | grep -q installed; then
  t_skip hint_packaged_names_package "no dpkg package owns $prog, or its -dbgsym is installed"
else
  seq 2000 | HEAPSNAP_OUTPUT=$T/sort.hsnap LD_PRELOAD=$SHIM "$prog" -r >/dev/null
  HEAPSNAP_OS_RELEASE=$T/os.debian "$HEAPSNAP" top -n 3 "$T/sort.hsnap" >/dev/null 2>"$T/sd.err"
  HEAPSNAP_OS_RELEASE=$T/os.ubuntu "$HEAPSNAP" top -n 3 "$T/sort.hsnap" >/dev/null 2>"$T/su.err"
  HEAPSNAP_OS_RELEASE=$T/os.fedora "$HEAPSNAP" top -n 3 "$T/sort.hsnap" >/dev/null 2>"$T/sf.err"
  if grep -q "apt install .*$pkg-dbgsym.* (Debian's debug archive), or set $U\\.debian\\.net\$" "$T/sd.err" &&
     grep -q "apt install .*$pkg-dbgsym.* (Ubuntu's ddebs archive" "$T/su.err" &&
     grep -q "dnf debuginfo-install .*/sort.*, or set $U\\.fedoraproject\\.org\$" "$T/sf.err" &&
     ! grep -q 'dbgsym' "$T/sf.err"; then
    t_pass hint_packaged_names_package
  else t_fail hint_packaged_names_package "$(cat "$T/sd.err" "$T/su.err" "$T/sf.err" | tr '\n' '|')"; fi
fi
# The owners' asks (dbg_owners), with a dpkg-query of the test's own on PATH that
# logs its arguments: the name Debian's policy gives the module asked with -L first
# (a program: its own name); then the packages that one depends on, three levels
# down, read from one -W of every package's dependencies and asked with one -L
# (`sort` in coreutils, a dependency two levels down here: sort -> libc6 | busybox,
# busybox -> coreutils; a version, an architecture and a choice taken apart);
# -S only for a module no package of those lists holds.
if [ -s "$T/sort.hsnap" ]; then
  mkdir -p "$T/stub"
  cat >"$T/stub/dpkg-query" <<'SH'
#!/bin/sh
echo "$*" >>"$STUB_LOG"
op=$1; shift
case "$op" in
-L) sep=; for p in "$@"; do [ -n "$sep" ] && echo; sep=1
      case "$p:$STUB_HOW" in
      sort:guess | coreutils:dep) printf '/usr\n/usr/bin\n/usr/bin/sort\n' ;;
      libc6:dep) printf '/usr/lib/x86_64-linux-gnu/libc.so.6\n' ;;
      esac; done ;;
-W) [ "$STUB_HOW" = dep ] && printf 'sort\t, libc6 (>= 2.34), busybox:any | tar\nbusybox\t, coreutils (= 9.1)\nlibc6\tlibgcc-s1, \n' ;;
-S) for p in "$@"; do echo "coreutils: $p"; done ;;
esac
SH
  chmod +x "$T/stub/dpkg-query"
  for how in guess none dep; do
    : >"$T/stub.$how.log"
    STUB_LOG=$T/stub.$how.log STUB_HOW=$how PATH=$T/stub:$PATH HEAPSNAP_OS_RELEASE=$T/os.debian \
      "$HEAPSNAP" top -n 3 "$T/sort.hsnap" >/dev/null 2>"$T/stub.$how.err"
  done
  if grep -q 'apt install sort-dbgsym (Debian' "$T/stub.guess.err" &&
     [ "$(cat "$T/stub.guess.log")" = "-L sort" ] &&
     grep -q 'apt install coreutils-dbgsym (Debian' "$T/stub.none.err" &&
     [ "$(head -n 1 "$T/stub.none.log")" = "-L sort" ] &&
     grep -q '^-S .*/bin/sort' "$T/stub.none.log"; then
    t_pass hint_policy_name_asked_before_search
  else t_fail hint_policy_name_asked_before_search "$(cat "$T"/stub.*.err "$T"/stub.*.log | tr '\n' '|')"; fi
  if grep -q 'apt install coreutils-dbgsym (Debian' "$T/stub.dep.err" &&
     [ "$(sed -n 1p "$T/stub.dep.log")" = "-L sort" ] &&
     sed -n 2p "$T/stub.dep.log" | grep -q '^-W -f=' &&
     grep -qx -- '-L libc6 busybox tar libgcc-s1 coreutils' "$T/stub.dep.log" &&
     [ "$(grep -c '^-' "$T/stub.dep.log")" = 3 ]; then
    t_pass hint_dependencies_asked_before_search
  else t_fail hint_dependencies_asked_before_search "$(cat "$T"/stub.dep.err "$T"/stub.dep.log | tr '\n' '|')"; fi
fi
# Debian's own python3 as a user runs it: its program is in python3.X-minimal, which
# its own name's package (python3.X) depends on; named without dpkg-query -S, the
# search of every package's list (dpkg-query logged by a wrapper of the real one).
py=$(readlink -f /usr/bin/python3 2>/dev/null)
pkg=$(dpkg-query -S "$py" 2>/dev/null | sed -n '1s/:.*//p')
case "$pkg" in
python3.*-minimal)
  if dpkg-query -W -f='${Status}' "$pkg-dbgsym" 2>/dev/null | grep -q installed; then
    t_skip hint_python_program_without_search "$pkg-dbgsym is installed"
  else
    mkdir -p "$T/wrap"
    real=$(command -v dpkg-query)
    printf '#!/bin/sh\necho "$*" >>"%s"\nexec "%s" "$@"\n' "$T/wrap.log" "$real" >"$T/wrap/dpkg-query"
    chmod +x "$T/wrap/dpkg-query"
    HEAPSNAP_OUTPUT=$T/py.hsnap LD_PRELOAD=$SHIM /usr/bin/python3 -S -c pass
    : >"$T/wrap.log"
    PATH=$T/wrap:$PATH HEAPSNAP_OS_RELEASE=$T/os.debian "$HEAPSNAP" top -n 3 "$T/py.hsnap" \
      >/dev/null 2>"$T/py.err"
    if grep -q "apt install $pkg-dbgsym (Debian's debug archive)" "$T/py.err" &&
       grep -q '^-L ' "$T/wrap.log" && ! grep -q '^-S' "$T/wrap.log"; then
      t_pass hint_python_program_without_search
    else t_fail hint_python_program_without_search "$(cat "$T/py.err" "$T/wrap.log" | tr '\n' '|')"; fi
  fi ;;
*) t_skip hint_python_program_without_search "/usr/bin/python3 ($py) is no Debian python3.X-minimal's" ;;
esac
