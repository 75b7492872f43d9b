#!/usr/bin/env bash
# scripts/compare-valgrind.sh - runs the leak-class fixtures (tests/shim/leak/classes/)
# under Valgrind memcheck and under heapsnap, and prints, per fixture and per
# process, Valgrind's LEAK SUMMARY next to heapsnap's.  docs/peer-comparison.md
# explains every difference this prints.
#
#   valgrind --leak-check=full --show-leak-kinds=all --errors-for-leak-kinds=none
#   heapsnap run --leaks -o DIR/NAME.%p.hsnap -- FIXTURE ; heapsnap leaks SNAP
#
# Valgrind's classes map onto heapsnap's as: definitely lost ~ direct,
# indirectly lost ~ indirect, (none) ~ cycle, possibly lost ~ possibly lost,
# still reachable ~ still reachable.  Because Valgrind splits a leaked cycle
# into one "definitely" block and "indirect" for the rest, the last row adds
# up everything leaked (definitely + indirectly vs direct + indirect + cycle).
# A fixture that forks has one table per process, in pid order (the parent
# first).  When heapsnap has no leak check yet, its column reads "n/a".
#
# Usage: scripts/compare-valgrind.sh [NAME...]   (default: every fixture)
# Environment: BUILD (default build), VALGRIND (default valgrind).
# Exit status: 0 when every fixture ran under both tools, 2 on trouble.
set -u
cd "$(dirname "$0")/.."
BUILD=${BUILD:-build}
VALGRIND=${VALGRIND:-valgrind}
HEAPSNAP=${HEAPSNAP:-$PWD/$BUILD/heapsnap}
LFB=$BUILD/leakfix
CLASSES="direct indirect cycle possibly_lost still_reachable suppressed"

die() { echo "compare-valgrind: $*" >&2; exit 2; }
command -v "$VALGRIND" >/dev/null || die "valgrind not found (scripts/install-deps.sh bench)"
tests/shim/leak/classes/leakfix.sh "$@" >/dev/null || die "fixtures do not build"
tmp=$(mktemp -d) || die "no temporary directory"
trap 'rm -rf "$tmp"' EXIT

# vg_summary LOG: "class bytes blocks" lines in heapsnap's class names
# (definitely -> direct, indirectly -> indirect); all zero when Valgrind says
# "All heap blocks were freed".
vg_summary() {
  awk '
    function n(s) { gsub(/,/, "", s); return s + 0 }
    /definitely lost:/ { d = n($4) " " n($7) }
    /indirectly lost:/ { i = n($4) " " n($7) }
    /possibly lost:/   { p = n($4) " " n($7) }
    /still reachable:/ { r = n($4) " " n($7) }
    /suppressed:/ && /bytes in/ { s = n($3) " " n($6) }
    END {
      z = "0 0"
      print "direct " (d ? d : z); print "indirect " (i ? i : z); print "cycle - -"
      print "possibly_lost " (p ? p : z); print "still_reachable " (r ? r : z)
      print "suppressed " (s ? s : z)
    }' "$1"
}

# hs_summary SNAP: the same lines from `heapsnap leaks`.
hs_summary() {
  "$HEAPSNAP" leaks "$1" >"$tmp/hs.txt" 2>"$tmp/hs.err"
  [ $? -le 1 ] || return 1
  python3 tests/shim/leak/classes/check.py --summary "$tmp/hs.txt"
}

hs_available() {
  [ -x "$HEAPSNAP" ] && "$HEAPSNAP" run --help 2>&1 | grep -q -- '--leaks' &&
    "$HEAPSNAP" leaks --help >/dev/null 2>&1
}

# table NAME VG_FILE HS_FILE: one fixture process, both tools side by side.
table() {
  local name=$1 vg=$2 hs=$3 c
  echo "fixture: $name"
  printf '  %-22s %18s %18s\n' "class" "valgrind" "heapsnap"
  for c in $CLASSES; do
    printf '  %-22s %18s %18s\n' "$(label "$c")" "$(cell "$vg" "$c")" "$(cell "$hs" "$c")"
  done
  printf '  %-22s %18s %18s\n' "leaked (sum)" "$(leaked "$vg")" "$(leaked "$hs")"
}
label() {
  case $1 in
    direct) echo "definitely / direct" ;; indirect) echo "indirectly / indirect" ;;
    cycle) echo "- / cycle" ;; *) echo "${1//_/ }" ;;
  esac
}
cell() { # FILE CLASS -> "bytes/blocks", "-" or "n/a"
  [ -s "$1" ] || { echo n/a; return; }
  awk -v c="$2" '$1 == c { print ($2 == "-" ? "-" : $2 "/" $3); f = 1 } END { if (!f) print "?" }' "$1"
}
leaked() {
  [ -s "$1" ] || { echo n/a; return; }
  awk '$1 == "direct" || $1 == "indirect" || $1 == "cycle" { if ($2 != "-") { b += $2; n += $3 } }
       END { print b + 0 "/" n + 0 }' "$1"
}

names=${*:-$(ls tests/shim/leak/classes/expect/ | sed 's/\.txt$//; /+/d')}
hs_ok=0; hs_available && hs_ok=1
[ "$hs_ok" = 1 ] || echo "(heapsnap has no 'run --leaks' / 'leaks' yet: its column reads n/a)"
rc=0
for name in $names; do
  [ -x "$LFB/$name" ] || { echo "compare-valgrind: no fixture $name" >&2; rc=2; continue; }
  rm -f "$tmp"/vg.* "$tmp"/hs.*
  "$VALGRIND" --leak-check=full --show-leak-kinds=all --errors-for-leak-kinds=none \
      --log-file="$tmp/vg.%p.log" "$LFB/$name" >/dev/null 2>&1
  vlogs=$(ls "$tmp"/vg.*.log 2>/dev/null | sort -t. -k2 -n)
  [ -n "$vlogs" ] || { echo "compare-valgrind: $name: valgrind wrote no log" >&2; rc=2; continue; }
  hsnaps=""
  if [ "$hs_ok" = 1 ]; then
    "$HEAPSNAP" run --leaks -o "$tmp/hs.%p.hsnap" -- "$LFB/$name" >/dev/null 2>&1
    hsnaps=$(ls "$tmp"/hs.*.hsnap 2>/dev/null | sort -t. -k2 -n)
  fi
  i=0
  for vlog in $vlogs; do
    i=$((i + 1))
    vg_summary "$vlog" >"$tmp/vg$i.sum"
    : >"$tmp/hs$i.sum"
    snap=$(echo "$hsnaps" | sed -n "${i}p")
    if [ -n "$snap" ] && ! hs_summary "$snap" >"$tmp/hs$i.sum"; then
      echo "compare-valgrind: $name: heapsnap leaks failed: $(head -c 200 "$tmp/hs.err")" >&2
      : >"$tmp/hs$i.sum"; rc=2
    fi
    label=$name; [ "$(echo "$vlogs" | wc -l)" -gt 1 ] && label="$name (process $i, pid order)"
    table "$label" "$tmp/vg$i.sum" "$tmp/hs$i.sum"
    echo
  done
done
exit $rc
