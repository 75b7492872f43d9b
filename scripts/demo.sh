#!/usr/bin/env bash
# scripts/demo.sh - what `make demo` shows after the build: profiles the bundled
# demo program (tests/fixtures/demo.c, a word counter with a hash table and a
# cache that never evicts, and a few deliberate leaks) under `heapsnap run
# --leaks`, then prints where its memory is at exit, what grew between its two
# API snapshots, and what leaked.  Snapshots go to
# $BUILD/demo/.  Works from a fresh clone once `make` has built build/.
set -eu
cd "$(dirname "$0")/.."
BUILD=${BUILD:-build}
hs=$BUILD/heapsnap
out=$BUILD/demo

tests/fixtures/build.sh demo
rm -rf "$out" && mkdir -p "$out"

echo "== heapsnap run -- demo: count 200000 words, snapshot after 100000 and at the end"
"$hs" run --leaks -o "$out/demo.%p.hsnap" -- "$BUILD/fixtures/demo" "$out/first.hsnap" "$out/second.hsnap"
echo
echo "== heapsnap top --key lineno -n 10: where the memory is at exit"
"$hs" top "$out"/demo.*.hsnap --key lineno -n 10
echo
echo "== heapsnap diff first.hsnap second.hsnap: what grew during the second half"
"$hs" diff "$out/first.hsnap" "$out/second.hsnap" --key lineno -n 10
echo
echo "== heapsnap leaks --kinds direct,indirect,cycle: what leaked, and what owns what"
"$hs" leaks "$out"/demo.*.hsnap --kinds direct,indirect,cycle
echo
echo "(snapshots are in $out/; try: $hs top $out/second.hsnap --key traceback -n 3)"
