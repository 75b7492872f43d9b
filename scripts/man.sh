#!/usr/bin/env bash
# scripts/man.sh - man pages from the one source of truth, the --help texts:
# heapsnap(1) from `heapsnap --help`, heapsnap-CMD(1) from `heapsnap CMD --help`
# for every command that `heapsnap --help` lists, with help2man.
# Usage: scripts/man.sh HEAPSNAP OUTDIR
set -eu
bin=$1 out=$2
mkdir -p "$out"
help2man -N -n "heap profiler and leak checker for any Linux process" \
  --version-option=--version "$bin" >"$out/heapsnap.1"
"$bin" --help | sed -n 's/^  \([a-z]*\)  *\(.*\)$/\1\t\2/p' | while IFS=$'\t' read -r cmd what; do
  help2man -N -n "$what" --help-option="$cmd --help" --version-option=--version "$bin" |
    sed "s/^\.TH HEAPSNAP /.TH HEAPSNAP-$(echo "$cmd" | tr a-z A-Z) /; s/^heapsnap \\\\- /heapsnap-$cmd \\\\- /" \
    >"$out/heapsnap-$cmd.1"
done
