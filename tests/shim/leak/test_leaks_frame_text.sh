# tests/shim/leak/test_leaks_frame_text.sh - `heapsnap leaks --kinds all -n 0`
# does its per-frame work once per distinct frame, not once per record: the
# bench's kept program at 1,000 and at 10,000 distinct stacks (the same 17
# levels of two call sites each, so the same few frames) prints ten times the
# frame lines from the same number of formatted frame texts
# (HEAPSNAP_DEBUG=lossprint, lossprint_sites' memo) and of symbolized
# addresses (HEAPSNAP_DEBUG=symbols).  Counts, not times: a return to
# formatting or symbolizing each record's frames multiplies them by ten.

t_build kept scripts/bench/programs/kept.c -O2 -pthread ||
  { t_fail leaks_frame_text_build "cc failed"; return 0 2>/dev/null || exit 0; }
for s in 1000 10000; do
  (cd "$T" && "$HEAPSNAP" run -q --leaks -o "k$s.hsnap" -- ./kept $((s * 3)) $s) \
    >"$T/run$s.out" 2>&1
  (cd "$T" && HEAPSNAP_DEBUG=lossprint,symbols "$HEAPSNAP" leaks --kinds all -n 0 "k$s.hsnap") \
    >"$T/leaks$s.out" 2>"$T/leaks$s.err"
done

# "heapsnap: debug: lossprint: L frame lines, N frame texts formatted"
lp_field() { sed -n "s/^heapsnap: debug: lossprint: \([0-9]*\) frame lines, \([0-9]*\) frame texts formatted$/\\$2/p" "$T/leaks$1.err"; }
# "heapsnap: debug: symbols: kept: ...; N addresses, ..."
sym_addrs() { sed -n 's/^heapsnap: debug: symbols: kept: .*; \([0-9]*\) addresses, .*/\1/p' "$T/leaks$1.err"; }

l1=$(lp_field 1000 1) n1=$(lp_field 1000 2) l10=$(lp_field 10000 1) n10=$(lp_field 10000 2)
lines1=$(grep -c '^    \(at\|by\) ' "$T/leaks1000.out") lines10=$(grep -c '^    \(at\|by\) ' "$T/leaks10000.out")
if [ -n "$l1" ] && [ -n "$l10" ] && [ "$l1" = "$lines1" ] && [ "$l10" = "$lines10" ] &&
   [ "$l10" -ge $((l1 * 9)) ] && [ "$n1" -ge 1 ] && [ "$n1" = "$n10" ] && [ "$n10" -lt 100 ]; then
  t_pass leaks_frame_text_once_per_frame
else t_fail leaks_frame_text_once_per_frame "lines $l1/$lines1 -> $l10/$lines10, texts $n1 -> $n10: $(head -c 300 "$T/leaks10000.err" "$T/run10000.out" | tr '\n' '|')"; fi

a1=$(sym_addrs 1000) a10=$(sym_addrs 10000)
if [ -n "$a1" ] && [ "$a1" -ge 1 ] && [ "$a1" = "$a10" ]; then
  t_pass leaks_symbolized_once_per_address
else t_fail leaks_symbolized_once_per_address "kept's addresses $a1 -> $a10: $(grep 'debug: symbols' "$T/leaks10000.err" | head -3 | tr '\n' '|')"; fi

# The memo's text is printf's: every record's frame line as before, the
# marks included (--all-frames' [wrapper], a module+offset frame's "in").
if grep -q '^10001 loss records in ' "$T/leaks10000.out" &&
   ! grep -v -E '^    (at|by) 0x[0-9a-f]+: [^ ]+ \(([^ :]+:[0-9]+|in [^ )]+)\)( \[wrapper\])?$' "$T/leaks10000.out" |
     grep -q '^    \(at\|by\) '; then
  t_pass leaks_frame_text_lines_well_formed
else t_fail leaks_frame_text_lines_well_formed "$(grep -m3 '^    \(at\|by\) ' "$T/leaks10000.out" | tr '\n' '|')"; fi
