# test_adversarial.sh - scripts/bench/adversarial.py --quick: every campaign of the
# adversarial pass (docs/security.md, "Rerunning the adversarial pass") but fuzz, a
# few cases each, under a minute: the CLI killed at random around a target, mutated
# snapshots read by every command, hostile HTTP against serve, hostile HEAPSNAP_*
# values and a secure-execution run, 32 threads under SIGUSR2, RLIMIT_FSIZE 8 KiB.
# Each campaign's line must be there and report nothing found (the script marks a
# finding "FOUND"), so the script cannot rot; `make fuzz` has tests/fuzz/test_fuzz.sh.
# serial: it kills CLI processes at random moments and counts probes answered in 5 s
PY=/usr/bin/python3; [ -x "$PY" ] || PY=$(command -v python3)
timeout 120 "$PY" scripts/bench/adversarial.py --quick >"$T/adv.out" 2>"$T/adv.err"; rc=$?
for c in cycles mutate http env threads fsize; do
  line=$(grep "^$c: " "$T/adv.out")
  if [ -z "$line" ]; then
    t_fail "adversarial_quick_$c" "no line (exit $rc): $(tail -c 300 "$T/adv.err" | tr '\n' ' ')"
  elif echo "$line" | grep -q 'FOUND$'; then
    t_fail "adversarial_quick_$c" "$line; $(grep "^  $c: " "$T/adv.err" | head -3 | tr '\n' ' ' | head -c 400)"
  else t_pass "adversarial_quick_$c"; fi
done
# Each campaign really ran its cases: counts above zero where they are the figures.
if grep -qE '^cycles: [1-9][0-9]* ' "$T/adv.out" && grep -qE '^mutate: [1-9][0-9]* files.* [1-9][0-9]* runs' "$T/adv.out" &&
   grep -qE '^http: [1-9][0-9]* requests, [1-9][0-9]* probes' "$T/adv.out" &&
   grep -qE '^threads: [1-9][0-9]* runs' "$T/adv.out" && grep -qE '^fsize: 8 runs' "$T/adv.out"; then
  t_pass adversarial_quick_campaigns_ran_cases
else t_fail adversarial_quick_campaigns_ran_cases "$(tr '\n' '|' <"$T/adv.out")"; fi
if [ "$rc" = 0 ]; then t_pass adversarial_quick_exit_0
else t_fail adversarial_quick_exit_0 "exit $rc: $(tr '\n' '|' <"$T/adv.out")"; fi
