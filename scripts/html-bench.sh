#!/usr/bin/env bash
# scripts/html-bench.sh - the HTML report and the exports on a big heap:
# scripts/bench/programs/htmlbig.c keeps BLOCKS live blocks from 2^BITS distinct stacks;
# its exit snapshot goes through `heapsnap html` and each export, and headless
# Chromium opens the page.  Prints the snapshot, the page's size, how long the
# CLI took, and how long the page took to draw itself (data-drawn-ms: from
# the start of navigation until page.js is done), for each BITS given.
# Usage: scripts/html-bench.sh [BLOCKS [BITS...]]   (default: 1000000 7 12 16)
set -eu
cd "$(dirname "$0")/.."
BUILD=${BUILD:-build}
blocks=${1:-1000000}; shift || true
bits=${*:-7 12 16}
work=$(mktemp -d); trap 'rm -rf "$work"' EXIT
gcc -O1 -g -fno-omit-frame-pointer scripts/bench/programs/htmlbig.c -o "$work/htmlbig"
for b in $bits; do
  snap=$work/big$b.hsnap
  HEAPSNAP_OUTPUT=$snap LD_PRELOAD=$PWD/$BUILD/libheapsnap.so "$work/htmlbig" "$blocks" "$b"
  t0=$(date +%s.%N)
  "$BUILD/heapsnap" html -o "$work/big$b.html" "$snap"
  t1=$(date +%s.%N)
  for f in pprof folded speedscope massif; do
    "$BUILD/heapsnap" export -f "$f" -o "$work/big$b.$f" "$snap"
  done
  t2=$(date +%s.%N)
  rm -rf "$work/chr"
  timeout 120 chromium --headless --no-sandbox --disable-gpu --disable-quic --no-first-run \
    --disable-background-networking --disable-component-update --disable-sync \
    --user-data-dir="$work/chr" --window-size=1280,900 --dump-dom "file://$work/big$b.html" \
    >"$work/dom" 2>/dev/null
  t3=$(date +%s.%N)
  drawn=$(grep -o 'data-drawn-ms="[0-9]*"' "$work/dom" | grep -o '[0-9]*' || echo "?")
  awk -v a="$t0" -v e="$t1" -v c="$t2" -v d="$t3" -v n="$blocks" -v s=$((1 << b)) \
    -v sb="$(stat -c %s "$snap")" -v hb="$(stat -c %s "$work/big$b.html")" -v dm="$drawn" \
    'BEGIN { printf "blocks=%s stacks=%s snapshot=%s B html=%s B html_s=%.2f exports_s=%.2f drawn_ms=%s chromium_s=%.2f\n", n, s, sb, hb, e - a, c - e, dm, d - c }'
done
