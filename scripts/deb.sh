#!/usr/bin/env bash
# scripts/deb.sh - the Debian package (debian/), built with dpkg-buildpackage
# in a copy of the tree under /tmp, so that the tree itself stays as it is
# (no staging directory under debian/, no .deb beside it).  The copy is the files git
# tracks, as the work tree has them (uncommitted edits included), or without
# git the tree less build/.  Leaves heapsnap_VERSION_amd64.deb and the
# build's log (heapsnap-deb.log) in OUTDIR, prints the .deb's path, and
# removes the copy.
# Usage: scripts/deb.sh [OUTDIR]   (default: $BUILD, build/)
# Needs dpkg-dev and debhelper (scripts/install-deps.sh test) and the build's
# packages (debian/control's Build-Depends: scripts/install-deps.sh build).
set -eu
cd "$(dirname "$0")/.."
out=${1:-${BUILD:-build}}
ver=$(cat VERSION)
work=$(mktemp -d /tmp/heapsnap-deb.XXXXXX)
trap 'rm -rf "$work"' EXIT
src=$work/heapsnap-$ver
mkdir -p "$src" "$out"
if git rev-parse --is-inside-work-tree >/dev/null 2>&1; then
  git ls-files -z --cached --others --exclude-standard |
    tar --null --ignore-failed-read -T - -cf - 2>/dev/null | tar -xf - -C "$src"
else
  tar --exclude=./build -cf - . | tar -xf - -C "$src"
fi
jobs=$(nproc 2>/dev/null || echo 2)
if ! (cd "$src" && DEB_BUILD_OPTIONS="parallel=$jobs nocheck" dpkg-buildpackage -us -uc -b) \
     >"$out/heapsnap-deb.log" 2>&1; then
  echo "deb.sh: dpkg-buildpackage failed; the end of $out/heapsnap-deb.log:" >&2
  tail -20 "$out/heapsnap-deb.log" >&2
  exit 1
fi
cp "$work"/heapsnap_"$ver"_*.deb "$out"/
ls "$out"/heapsnap_"$ver"_*.deb
