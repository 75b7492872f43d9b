# tests/shim/record/test_temporaries.sh - temporary allocations (TEMPS, shim/record/peak.c):
# a block freed by its thread's very next allocation event, heaptrack's rule.  On
# tests/fixtures/temps.c, whose header gives the answer per line (1400 in all), and,
# when heaptrack is installed (scripts/install-deps.sh bench), against heaptrack's own
# count per line of that fixture.
. tests/fixtures/lib.sh
FX_TEST=temporaries fx_ready temps || return 0

"$HEAPSNAP" run -o "$T/t.hsnap" -- "$FX/temps" >"$T/run.out" 2>&1
if ! "$HEAPSNAP" top --temporary "$T/t.hsnap" >"$T/top.txt" 2>"$T/top.err"; then
  t_fail temps_top "top --temporary exited $?: $(head -c 300 "$T/top.err")"
  return 0 2>/dev/null || exit 0
fi
# "LINE COUNT" for the fixture's lines with temporaries, by line
awk -F'[: =,]+' '/^tests\/fixtures\/temps\.c:/ && $4 > 0 { print $2, $4 }' "$T/top.txt" | sort -n >"$T/hs.lines"
# temps NAME "LINE COUNT;..." : those lines have those counts (absent: 0)
temps() {
  local name=$1 want=$2 kv line n got bad=""
  IFS=';' read -ra kv <<<"$want"
  for e in "${kv[@]}"; do
    line=${e% *} n=${e#* }
    got=$(awk -v l="$line" '$1 == l { print $2 }' "$T/hs.lines")
    [ "${got:-0}" = "$n" ] || bad="$bad line $line: $got, want $n;"
  done
  if [ -z "$bad" ]; then t_pass "$name"; else t_fail "$name" "$bad $(tr '\n' '|' <"$T/top.txt")"; fi
}
temps temps_freed_at_once_counted "22 1000;37 100"
temps temps_interleaved_are_not_temporary "26 0;27 0;41 0"
temps temps_realloc_frees_then_allocates "32 100;33 100"
temps temps_last_freed_after_another_free "42 100"
total=$(awk '{ s += $2 } END { print s + 0 }' "$T/hs.lines")
[ "$total" = 1400 ] && t_pass temps_total_1400 || t_fail temps_total_1400 "got $total"

# The same temporaries among 50 more stacks that have none (`temps many`):
# the snapshot keeps only the traces with a count (snap_temps' sparse form)
# and writes TEMPS whole from them; every count as in the run above.
"$HEAPSNAP" run -o "$T/m.hsnap" -- "$FX/temps" many >"$T/runm.out" 2>&1
"$HEAPSNAP" top --temporary -n 0 "$T/m.hsnap" >"$T/topm.txt" 2>"$T/topm.err"
awk -F'[: =,]+' '/^tests\/fixtures\/temps\.c:/ && $4 > 0 { print $2, $4 }' "$T/topm.txt" | sort -n >"$T/hsm.lines"
ntr=$("$HEAPSNAP" info "$T/m.hsnap" 2>/dev/null | awk '/^traces:/ { print $2 }')
if [ "${ntr:-0}" -ge 50 ] && [ -s "$T/hsm.lines" ] && cmp -s "$T/hs.lines" "$T/hsm.lines"; then
  t_pass temps_among_many_stacks_as_among_few
else
  t_fail temps_among_many_stacks_as_among_few "traces ${ntr:-?}; few: $(tr '\n' ';' <"$T/hs.lines") many: $(tr '\n' ';' <"$T/hsm.lines") $(head -c 200 "$T/topm.err")"
fi

# heaptrack on the same fixture: the same count on every line of temps.c
if ! command -v heaptrack >/dev/null || ! command -v heaptrack_print >/dev/null; then
  t_skip temps_same_as_heaptrack "heaptrack is not installed (scripts/install-deps.sh bench)"
else
  timeout 120 heaptrack -o "$T/ht" "$FX/temps" >"$T/ht.log" 2>&1
  ht=$(ls "$T"/ht.* 2>/dev/null | grep -v '\.log$' | head -1)
  if [ -z "$ht" ]; then
    t_fail temps_same_as_heaptrack "heaptrack wrote no file: $(tail -c 300 "$T/ht.log" | tr '\n' ' ')"
  else
    # "N temporary allocations of M ... from" / "main" / "  at tests/fixtures/temps.c:L"
    heaptrack_print -f "$ht" 2>/dev/null | sed -n '/^MOST TEMPORARY ALLOCATIONS/,/^MOST ALLOCATIONS\|^PEAK MEMORY/p' |
      awk '/temporary allocations of .* from$/ { n = $1; next }
           n != "" && /^  at tests\/fixtures\/temps\.c:/ { split($2, a, ":"); print a[2], n; n = "" }
           /^$/ { n = "" }' | sort -n >"$T/ht.lines"
    if [ -s "$T/ht.lines" ] && cmp -s "$T/ht.lines" "$T/hs.lines"; then t_pass temps_same_as_heaptrack
    else t_fail temps_same_as_heaptrack "heaptrack: $(tr '\n' ';' <"$T/ht.lines") heapsnap: $(tr '\n' ';' <"$T/hs.lines")"; fi
  fi
fi
