# tests/shim/leak/test_leak_address_limit.sh - the exit's leak check under
# an address-space limit (RLIMIT_AS) that leaves it a little more room each
# run (tests/shim/leak/chain.c: 100,000 blocks from as many stacks, then
# the limit set at the program's VmSize plus 0, 2, ... 24 MiB, then 64):
# wherever it runs out (the recording, the snapshot's buffers, the check's
# copy of the live blocks, the retainers' table, the copy's part of the
# file), the program's run is its own, the check's copy never ends on a
# fault, and what the snapshot says of the check is true: an answer (with
# or without the retainers, which say why they are missing), or "no
# answer" for want of memory, never a thread that could not be stopped.
# Before, a check whose retainers' table could not grow wrote RETAINERS
# from an answer never set (collect_encode) and its copy died on SIGSEGV
# at 5 of the 13 margins up to 24 MiB on the machine it was written on.
# tier: full (14 runs of a 100,000-block program)
t_build chain tests/shim/leak/chain.c -O1 -g -fno-omit-frame-pointer \
    -fno-optimize-sibling-calls || { t_fail address_limit_builds "cc failed"; return 0 2>/dev/null || exit 0; }
line=$(grep -n 'L_LINK' tests/shim/leak/chain.c | head -1 | cut -d: -f1)
bad="" whole=0 short=0
for m in $(seq 0 2048 24576) 65536; do # the last: room for all of it
  d="$T/as$m"
  mkdir -p "$d"
  out=$(cd "$d" && LD_PRELOAD=$SHIM HEAPSNAP_OUTPUT="$d/a.hsnap" HEAPSNAP_LEAKS=1 "$T/chain" 100000 $m 2>"$d/err")
  rc=$?
  if [ "$rc" != 0 ] || [ "$out" != "chain done 100000" ]; then
    bad="$bad $m:program(rc=$rc,$out)"; continue
  fi
  grep -q 'killed by SIG' "$d/err" && { bad="$bad $m:$(grep -o 'killed by SIG[A-Z]*' "$d/err" | head -1)"; continue; }
  [ -f "$d/a.hsnap" ] || continue # the shim said it could not write it
  lc=$("$HEAPSNAP" info "$d/a.hsnap" 2>&1 | sed -n 's/^leak check: *//p')
  case "$lc" in
    yes,*)
      "$HEAPSNAP" leaks "$d/a.hsnap" >"$d/leaks" 2>&1 || { bad="$bad $m:leaks"; continue; }
      "$HEAPSNAP" top --retainers "$d/a.hsnap" >"$d/ret" 2>&1
      r=$?
      if [ $r = 0 ] && grep -q "blocks from .*chain.c:$line: 99999 refs" "$d/ret"; then
        whole=$((whole + 1))
      elif [ $r = 2 ] && grep -q 'no retainer data in this snapshot (its leak check kept none: it ran out of memory for them' "$d/ret"; then
        short=$((short + 1))
      else
        bad="$bad $m:retainers(rc=$r,$(head -c 120 "$d/ret"))"
      fi ;;
    "no answer (it ran out of memory"*)
      "$HEAPSNAP" leaks "$d/a.hsnap" >"$d/leaks" 2>&1
      r=$?
      [ $r = 2 ] && grep -q 'the leak check gave no answer: it ran out of memory' "$d/leaks" &&
        short=$((short + 1)) || bad="$bad $m:leaks-no-answer(rc=$r,$(head -c 120 "$d/leaks"))" ;;
    *) bad="$bad $m:info($lc)" ;;
  esac
done
if [ -z "$bad" ] && [ "$whole" -ge 1 ] && [ "$short" -ge 1 ]; then
  t_pass leak_check_out_of_address_space_answers_true
else
  t_fail leak_check_out_of_address_space_answers_true "whole=$whole short=$short bad:$bad"
fi
