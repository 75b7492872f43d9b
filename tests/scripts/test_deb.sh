# tests/scripts/test_deb.sh - heapsnap installed as Debian users install tools: the
# package that scripts/deb.sh (make deb) builds with dpkg-buildpackage from a copy of
# the tree (which gains no file, nor does its parent), lintian without an error or a warning, then `apt-get install
# ./heapsnap_VERSION_amd64.deb` on this machine, the installed heapsnap used (a
# fixture run with its own shim, top, a man page), and `apt-get purge` takes it all
# back.  Installing needs root (else SKIP), and no heapsnap package already
# installed (a user's is never replaced: SKIP).  The build compiles the whole tree
# (about 55 s of CPU: under a minute on two idle cores).
# serial: installs system-wide, and finds any file another test leaves in the tree
. tests/fixtures/lib.sh
FX_TEST=deb fx_ready sites || return 0
for tool in dpkg-buildpackage dh lintian; do
  command -v $tool >/dev/null || { t_fail deb_tools "$tool is not installed (scripts/install-deps.sh test)"; return 0; }
done
# what is in the tree and beside it, but for what the tests write into build/
litter() { git status --porcelain --ignored --untracked-files=all 2>/dev/null | grep '^\(??\|!!\)' | grep -v ' build/'; ls .. | grep -i heapsnap_; }
before=$(litter)
if deb=$(timeout 900 scripts/deb.sh "$T/deb" 2>"$T/deb.err"); then
  t_pass deb_builds
else
  t_fail deb_builds "$(tail -c 400 "$T/deb.err")"; return 0
fi
after=$(litter)
[ "$before" = "$after" ] && t_pass deb_build_leaves_no_file_in_the_tree \
  || t_fail deb_build_leaves_no_file_in_the_tree "$(diff <(echo "$before") <(echo "$after") | head -5 | tr '\n' ' ')"
ver=$(dpkg-deb -f "$deb" Version)
[ "$ver" = "$(cat VERSION)" ] && t_pass deb_version_is_the_trees || t_fail deb_version_is_the_trees "package $ver, VERSION $(cat VERSION)"
lintian --tag-display-limit 0 "$deb" >"$T/lintian.out" 2>&1
if grep -q '^E: ' "$T/lintian.out"; then t_fail deb_lintian_no_errors "$(grep '^E: ' "$T/lintian.out" | head -5 | tr '\n' ' ')"
else t_pass deb_lintian_no_errors; fi
# nor a warning (hardening-no-fortify-functions, uses-dpkg-database-directly were)
if grep -q '^W: ' "$T/lintian.out"; then t_fail deb_lintian_no_warnings "$(grep '^W: ' "$T/lintian.out" | head -5 | tr '\n' ' ')"
else t_pass deb_lintian_no_warnings; fi

if [ "$(id -u)" != 0 ]; then t_skip deb_installs "not root: apt-get install needs it"; return 0; fi
if dpkg-query -W -f='${Status}' heapsnap 2>/dev/null | grep -q 'install ok installed'; then
  t_skip deb_installs "a heapsnap package is installed on this machine already; not replaced"; return 0
fi
apt_get() { DEBIAN_FRONTEND=noninteractive timeout 300 apt-get -o DPkg::Lock::Timeout=120 -y -q "$@"; }
if apt_get install --no-install-recommends "$deb" >"$T/apt.log" 2>&1 && [ -x /usr/bin/heapsnap ]; then
  t_pass deb_installs
  /usr/bin/heapsnap run -o "$T/i.%p.hsnap" -- sh -c 'echo "$LD_PRELOAD"; exec "$1"' sh "$FX/sites" >"$T/i.out" 2>"$T/i.err"
  set -- "$T"/i.*.hsnap
  if [ "$(head -1 "$T/i.out")" = /usr/lib/heapsnap/libheapsnap.so ] && [ -s "$1" ] &&
     /usr/bin/heapsnap top "$1" >"$T/i.top" 2>&1; then
    t_golden deb_installed_run_and_top tests/golden/top_sites_lineno.txt "$T/i.top"
  else t_fail deb_installed_run_and_top "LD_PRELOAD '$(head -1 "$T/i.out")': $(head -c 300 "$T/i.err")"; fi
  man -w heapsnap-leaks >/dev/null 2>&1 && [ -s /usr/share/bash-completion/completions/heapsnap ] &&
    [ -s /usr/include/heapsnap.h ] && t_pass deb_installs_man_completion_header \
    || t_fail deb_installs_man_completion_header "$(dpkg -L heapsnap 2>&1 | head -c 300)"
else
  t_fail deb_installs "$(tail -c 400 "$T/apt.log")"
fi
apt_get purge heapsnap >"$T/purge.log" 2>&1
if ! dpkg-query -W -f='${Status}' heapsnap 2>/dev/null | grep -q 'install ok installed' &&
   [ ! -e /usr/bin/heapsnap ] && [ ! -e /usr/lib/heapsnap ]; then t_pass deb_removes
else t_fail deb_removes "$(tail -c 300 "$T/purge.log")"; fi
