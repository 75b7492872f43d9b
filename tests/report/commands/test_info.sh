# tests/report/commands/test_info.sh - `heapsnap info` on snapshots whose numbers are known
# from the fixtures' source: the sites.c exit snapshot (golden, without the lines
# that change from run to run: executable path, pid, time, shim memory, modules,
# timeline points, memory over time) and the reasons/sequence of the api.c snapshots.
. tests/fixtures/lib.sh
FX_TEST=info fx_ready sites api || return 0
G=tests/golden
unstable='^(executable|pid|time|peak time|shim memory|modules|on disk|timeline points|memory over time|state file):'

# sites.c (see its header): 207 live blocks = 1113473 B; 20 blocks of 256 B were
# freed, the last one just after it was allocated, so peak = 1113473 + 256 B.
fx_profile "$T/sites.hsnap" "$FX/sites"
if "$HEAPSNAP" info "$T/sites.hsnap" >"$T/info.all" 2>"$T/info.err"; then
  # the capture's floor is 16 B per trace slot the shim keeps: not the fixture's
  grep -vE "$unstable" "$T/info.all" | sed "s|$FX/|FIXTURES/|g" |
    sed -E 's/(captured within 1% or) [0-9]+ KiB/\1 N KiB/' >"$T/info.txt"
  t_golden info_sites "$G/info_sites.txt" "$T/info.txt"
  grep -qE "^pid: +[0-9]+ \(parent $$\)$" "$T/info.all" && t_pass info_sites_parent_pid \
    || t_fail info_sites_parent_pid "want 'pid: N (parent $$)': $(grep '^pid' "$T/info.all")"
  case "$(sed -n 's/^executable: *//p' "$T/info.all")" in
    /*/fixtures/sites) t_pass info_sites_executable ;;
    *) t_fail info_sites_executable "$(grep '^executable' "$T/info.all")" ;;
  esac
else
  t_fail info_sites "info exited $?: $(head -c 300 "$T/info.err")"
fi

# api.c: two API snapshots, then the exit snapshot.
fx_profile "$T/exit.hsnap" "$FX/api" "$T/a.hsnap" "$T/b.hsnap"
for s in a b exit; do
  "$HEAPSNAP" info "$T/$s.hsnap" >"$T/$s.info" 2>&1 || t_fail "info_api_$s" "info exited $?"
done
reason() { sed -n 's/^reason: *//p' "$T/$1.info"; }
seq_of() { sed -n 's/^sequence: *//p' "$T/$1.info"; }
[ "$(reason a)/$(reason b)/$(reason exit)" = api/api/exit ] && t_pass info_api_reasons \
  || t_fail info_api_reasons "reasons a/b/exit = $(reason a)/$(reason b)/$(reason exit), want api/api/exit"
if [ -n "$(seq_of a)" ] && [ "$(seq_of a)" -lt "$(seq_of b)" ] && [ "$(seq_of b)" -lt "$(seq_of exit)" ]; then
  t_pass info_api_sequence
else t_fail info_api_sequence "sequence a/b/exit = $(seq_of a)/$(seq_of b)/$(seq_of exit), want increasing"; fi
# Snapshot A: 3 x 300 + 10 x 100 live from api.c (nothing else is traced by then).
grep -qx 'live blocks: *13' "$T/a.info" && grep -qx 'traced current: *1900 B (1900 bytes)' "$T/a.info" \
  && t_pass info_api_a_numbers \
  || t_fail info_api_a_numbers "want 13 live blocks, 1900 B: $(grep -E '^(live|traced)' "$T/a.info" | tr '\n' '|')"

# --- whether the snapshot holds a leak check, and why not (issue 19) ---
"$HEAPSNAP" run --leaks -o "$T/lk.hsnap" -- "$FX/sites" >/dev/null 2>&1
grep -qE '^leak check: +yes, [0-9]+ blocks lost \(.*\), [0-9]+ possibly lost$' <("$HEAPSNAP" info "$T/lk.hsnap") \
  && t_pass info_says_leak_check || t_fail info_says_leak_check "$("$HEAPSNAP" info "$T/lk.hsnap" 2>&1 | grep -i leak)"
# info counts what leaks sums (blocks), not the model's records (one per
# leak root, which leaks groups by stack): 258 blocks from 2 lines.
printf '#include <stdlib.h>\nvoid *volatile p;\nint main(void){ for (int i = 0; i < 256; i++) p = malloc(24);\n for (int i = 0; i < 2; i++) p = malloc(40);\n p = 0; return 0; }\n' >"$T/lost.c"
gcc -g "$T/lost.c" -o "$T/lost" && "$HEAPSNAP" run --leaks -o "$T/lost.hsnap" -- "$T/lost" >/dev/null 2>&1
line=$("$HEAPSNAP" info "$T/lost.hsnap" 2>&1 | grep '^leak check:')
sum=$("$HEAPSNAP" leaks "$T/lost.hsnap" 2>&1 | awk '/^   (direct|indirect|cycle): / { n += $(NF - 1) } END { print n + 0 }')
records=$("$HEAPSNAP" leaks "$T/lost.hsnap" 2>&1 | sed -n 's/.* in loss record [0-9]* of \([0-9]*\)$/\1/p' | tail -1)
if [ "$sum" -ge 250 ] && [ "$records" = 2 ] &&
   echo "$line" | grep -qE "^leak check: +yes, $sum blocks lost \([0-9.]+ (B|KiB): $sum direct, 0 indirect, 0 in cycles\), 0 possibly lost$" &&
   [ "$("$HEAPSNAP" info --format json "$T/lost.hsnap" | python3 -c 'import json,sys; print(json.load(sys.stdin)["snapshots"][0]["lost_blocks"])')" = "$sum" ]
then t_pass info_leak_check_counts_lost_blocks
else t_fail info_leak_check_counts_lost_blocks "info: '$line'; leaks: $sum blocks in ${records:-?} loss records"; fi
printf '#include <signal.h>\nint main(void){ raise(SIGABRT); return 0; }\n' >"$T/abrt.c"
gcc -g "$T/abrt.c" -o "$T/abrt" && "$HEAPSNAP" run --leaks -o "$T/abrt.hsnap" -- "$T/abrt" >/dev/null 2>&1
grep -q '^leak check: *no (written at a fatal signal: no check runs in a crashing process)$' <("$HEAPSNAP" info "$T/abrt.hsnap") \
  && t_pass info_fatal_snapshot_no_leak_check_why || t_fail info_fatal_snapshot_no_leak_check_why "$("$HEAPSNAP" info "$T/abrt.hsnap" 2>&1 | grep -i -e leak -e reason)"
# the fatal signal is named, in text and JSON (a crash's reason says which)
printf '#include <stdlib.h>\nint *volatile p;\nint main(void){ p = malloc(16); free(p); p = 0; return *p; }\n' >"$T/segv.c"
gcc -g "$T/segv.c" -o "$T/segv" && "$HEAPSNAP" run -o "$T/segv.hsnap" -- "$T/segv" >/dev/null 2>&1
sa=$("$HEAPSNAP" info "$T/abrt.hsnap" 2>&1 | grep '^reason:'); ss=$("$HEAPSNAP" info "$T/segv.hsnap" 2>&1 | grep '^reason:')
js=$("$HEAPSNAP" info --format json "$T/segv.hsnap" 2>/dev/null | python3 -c 'import json,sys; d=json.load(sys.stdin)["snapshots"][0]; print(d["reason"] + "/" + d.get("signal", "-"))')
jx=$("$HEAPSNAP" info --format json "$T/lost.hsnap" 2>/dev/null | python3 -c 'import json,sys; print(json.load(sys.stdin)["snapshots"][0].get("signal", "-"))')
if echo "$sa" | grep -qx 'reason: *fatal signal SIGABRT (Aborted)' &&
   echo "$ss" | grep -qx 'reason: *fatal signal SIGSEGV (Segmentation fault)' &&
   [ "$js" = "fatal signal/SIGSEGV" ] && [ "$jx" = - ]
then t_pass info_fatal_snapshot_names_the_signal
else t_fail info_fatal_snapshot_names_the_signal "abrt '$sa'; segv '$ss'; json '$js', exit's signal '$jx'"; fi
"$HEAPSNAP" leaks "$T/abrt.hsnap" >/dev/null 2>"$T/abrt.err"; rc=$?
[ $rc = 2 ] && grep -q "^heapsnap: $T/abrt.hsnap: no leak check: the snapshot was written at a fatal signal (the program crashed" "$T/abrt.err" \
  && t_pass leaks_fatal_snapshot_says_crashed || t_fail leaks_fatal_snapshot_says_crashed "exit $rc: $(cat "$T/abrt.err")"
