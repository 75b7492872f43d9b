# tests/report/commands/test_run_checks.sh - `heapsnap run` checks its options before it
# runs anything (issue 19): a bad --interval, --depth, --signal, --sample or
# --unwind is one line naming the flag and what it accepts, exit 2, and the
# program never starts; fractional intervals work (the shim takes
# HEAPSNAP_INTERVAL with milliseconds).
bad() { # NAME FLAG VALUE WANT: run refuses FLAG VALUE with a line holding WANT
  local name=$1 flag=$2 val=$3 want=$4
  rm -f "$T/ran"
  "$HEAPSNAP" run "$flag" "$val" -o "$T/x.hsnap" -- touch "$T/ran" >"$T/bad.out" 2>"$T/bad.err"; local rc=$?
  if [ $rc = 2 ] && [ ! -e "$T/ran" ] && [ "$(wc -l <"$T/bad.err")" = 1 ] && [ ! -s "$T/bad.out" ] \
     && grep -qF "heapsnap: run: bad value for $flag: '$val' ($want" "$T/bad.err"
  then t_pass "$name"; else t_fail "$name" "exit $rc, ran: $([ -e "$T/ran" ] && echo yes || echo no): $(head -c 300 "$T/bad.err")"; fi
}
bad run_rejects_depth_1000 --depth 1000 "an integer from 1 to 256"
bad run_rejects_interval_garbage --interval 0.2s "seconds from 0 to 31536000, up to 3 decimals"
bad run_rejects_interval_4_decimals --interval 0.0001 "seconds from"
bad run_rejects_signal_foo --signal FOO "a signal name such as USR2"
bad run_rejects_signal_segv --signal SEGV "a signal name such as USR2"
bad run_rejects_sample_garbage --sample 1x "an integer from 0 to"
bad run_rejects_unwind_bogus --unwind bogus "auto, fp, libunwind"

# --- good values reach the shim, which takes them without a warning ---
"$HEAPSNAP" run --sample 4096 --unwind fp --signal usr2 --depth 8 -o "$T/s.hsnap" -- sh -c 'exit 0' >"$T/ok.out" 2>"$T/ok.err"; rc=$?
if [ $rc = 0 ] && ! grep -q 'bad value' "$T/ok.err" \
   && "$HEAPSNAP" info "$T/s.hsnap" | grep -qx 'sample interval: *4096 bytes' \
   && "$HEAPSNAP" info "$T/s.hsnap" | grep -qx 'depth: *8 frames'
then t_pass run_sample_unwind_signal_accepted; else t_fail run_sample_unwind_signal_accepted "exit $rc: $(head -c 300 "$T/ok.err")"; fi

# --- a fractional interval: 0.5 s over a 1.6 s run writes interval snapshots ---
"$HEAPSNAP" run --interval 0.5 -o "$T/i.%n.hsnap" -- sleep 1.6 >"$T/i.out" 2>"$T/i.err"; rc=$?
n=0; for f in "$T"/i.*.hsnap; do "$HEAPSNAP" info "$f" 2>/dev/null | grep -qx 'reason: *interval' && n=$((n + 1)); done
if [ $rc = 0 ] && [ $n -ge 1 ] && ! grep -q 'bad value' "$T/i.err"
then t_pass run_interval_fractional; else t_fail run_interval_fractional "exit $rc, $n interval snapshots: $(head -c 300 "$T/i.err")"; fi
HEAPSNAP_INTERVAL=0.5 HEAPSNAP_OUTPUT="$T/e.%n.hsnap" LD_PRELOAD=$SHIM sleep 1.6 2>"$T/e.err"
n=0; for f in "$T"/e.*.hsnap; do "$HEAPSNAP" info "$f" 2>/dev/null | grep -qx 'reason: *interval' && n=$((n + 1)); done
[ $n -ge 1 ] && [ ! -s "$T/e.err" ] && t_pass shim_interval_takes_milliseconds || t_fail shim_interval_takes_milliseconds "$n interval snapshots: $(head -c 300 "$T/e.err")"
