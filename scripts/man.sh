#!/usr/bin/env bash
# scripts/man.sh - man pages from the one source of truth, the --help texts:
# heapsnap(1) from `heapsnap --help`, heapsnap-CMD(1) from `heapsnap CMD --help`
# for every command that `heapsnap --help` lists, with help2man.  help2man finds
# a SYNOPSIS only after "Usage:"; ours say "usage: heapsnap CMD ...", so each
# page's SYNOPSIS is made here from that line (an include file), and the line
# leaves the DESCRIPTION.
# Usage: scripts/man.sh HEAPSNAP OUTDIR
set -eu
bin=$1 out=$2
mkdir -p "$out"
inc=$(mktemp)
trap 'rm -f "$inc"' EXIT

# page CMD WHAT OUT: one page, CMD "" for heapsnap(1) itself; stdin is kept
# away from help2man and the program (the caller reads its list there).
page() {
  local cmd=$1 what=$2 file=$3 use
  use=$("$bin" $cmd --help | sed -n 's/^usage: heapsnap //p' | head -1)
  use=${use%%   (*} # heapsnap(1)'s "(heapsnap <command> --help)"
  { echo "[SYNOPSIS]"
    echo ".B heapsnap${cmd:+ $cmd}"
    echo "${use#"$cmd"}" | sed 's/^ *//; s/\\/\\e/g; s/-/\\-/g; s/^\./\\\&./'
  } >"$inc"
  help2man -N -n "$what" -i "$inc" --help-option="${cmd:+$cmd }--help" --version-option=--version \
    "$bin" </dev/null | sed '/^usage: heapsnap /d' >"$file.tmp"
  [ -z "$cmd" ] || sed -i "s/^\.TH HEAPSNAP /.TH HEAPSNAP-$(echo "$cmd" | tr a-z A-Z) /; s/^heapsnap \\\\- /heapsnap-$cmd \\\\- /" "$file.tmp"
  grep -q '^\.SH SYNOPSIS' "$file.tmp" || { echo "man.sh: no SYNOPSIS in $file" >&2; return 1; }
  mv "$file.tmp" "$file"
}

page "" "heap profiler and leak checker for any Linux process" "$out/heapsnap.1"
"$bin" --help | sed -n 's/^  \([a-z]*\)  *\(.*\)$/\1\t\2/p' | while IFS=$'\t' read -r cmd what; do
  page "$cmd" "$what" "$out/heapsnap-$cmd.1"
done
