# test_attach_live_repeat.sh - live, attach and detach, again and again on
# one process (10 rounds, or ATTACH_REPEAT_ROUNDS: live, attach and detach, HEAPSNAP_STATE=64 live,
# in turn): each round works, its snapshot counts its own session only
# (info's totals and top agree: 100 allocations of the round's size), no
# file is left but the rounds' snapshots, no control socket and no call
# memory stays, and the program's output is that of a run without them.
# ATTACH_REPEAT_ROUNDS=50 tests/run.sh test_attach_live_repeat runs 50
# rounds (docs/usage.md quotes one such run).
. tests/shim/attach/lib_attach.sh
. tests/report/commands/lib_live.sh
if ! command -v tmux >/dev/null; then
  t_skip attach_live_detach_repeat_on_one_process "tmux is not installed (scripts/install-deps.sh test installs it)"
  return 0
fi
t_build target tests/shim/attach/target.c -pthread
at_start "$T/target"
bad="" want=""
rounds=${ATTACH_REPEAT_ROUNDS:-10}
for i in $(seq "$rounds"); do
  size=$((8 * (i % 12 + 1))) out="$AT_DIR/r$i.%p.hsnap" snap="$AT_DIR/r$i.$AT_PID.hsnap"
  case $((i % 3)) in
    1|0)
      env=""; [ $((i % 3)) = 0 ] && env="HEAPSNAP_STATE=64"
      lv_start "$env '$HEAPSNAP' live $AT_PID -o '$out' 2>'$T/live.err'"
      if lv_wait "^heapsnap live: pid $AT_PID \\(target\\)"; then
        at_cmd "a $size"
        lv_tmux send-keys -t v q
        lv_exit_wait && [ "$(cat "$T/exit")" = 0 ] ||
          bad="$bad; round $i: live exit $(cat "$T/exit" 2>/dev/null): $(head -c 200 "$T/live.err")"
      else
        at_cmd "a $size"
        bad="$bad; round $i: no view: $(tr '\n' ' ' <"$T/pane" | head -c 200) $(head -c 200 "$T/live.err")"
      fi
      lv_end ;;
    2)
      at_attach -o "$out" || bad="$bad; round $i: not attached: $(head -c 200 "$T/attach.err")"
      at_cmd "a $size"
      at_detach
      [ "$AT_DETACH_RC" = 0 ] || bad="$bad; round $i: detach $AT_DETACH_RC" ;;
  esac
  want="${want}allocated $((100 * i))
"
  "$HEAPSNAP" info "$snap" >"$T/info.$i" 2>&1
  "$HEAPSNAP" top "$snap" >"$T/top.$i" 2>/dev/null
  grep -q '^total: *100 allocations, 0 frees$' "$T/info.$i" &&
    grep -q "^traced current: *$((100 * size)) B " "$T/info.$i" &&
    [ "$(grep -c . "$T/top.$i")" = 1 ] &&
    grep -q "^tests/shim/attach/target.c:36: size=$((100 * size)) B, count=100," "$T/top.$i" ||
    bad="$bad; round $i: $(grep -E '^(total|traced current):' "$T/info.$i" | tr -s ' \n' ' ') top: $(head -c 200 "$T/top.$i")"
  [ -e "/tmp/heapsnap-$(id -u)/$AT_PID.sock" ] && bad="$bad; round $i: a socket stays"
  [ "$(at_regions)" = 0 ] || bad="$bad; round $i: call memory stays"
done
at_end
printf '%sbye\n' "$want" >"$T/want"
ls "$AT_DIR" >"$T/files"
seq "$rounds" | sed "s/.*/r&.$AT_PID.hsnap/" | sort >"$T/wantfiles"
sort -o "$T/files" "$T/files"
diff -u "$T/wantfiles" "$T/files" >"$T/files.diff" || bad="$bad; files: $(tr '\n' ' ' <"$T/files.diff")"
diff -u "$T/want" "$T/transcript" >"$T/diff" || bad="$bad; output: $(tr '\n' ' ' <"$T/diff")"
[ "$AT_STATUS" = 0 ] || bad="$bad; exit $AT_STATUS"
if [ -z "$bad" ]; then t_pass attach_live_detach_repeat_on_one_process
else t_fail attach_live_detach_repeat_on_one_process "${bad#; }"; fi

# A live view that cannot open (its attach can keep no state file: the
# peak's sums off) leaves no snapshot and no session behind, and a live
# view after it works.
at_start "$T/target"
lv_start "HEAPSNAP_PEAK=off '$HEAPSNAP' live $AT_PID -o '$AT_DIR/no.%p.hsnap' 2>'$T/live.err'"
lv_exit_wait; rc=$(cat "$T/exit" 2>/dev/null); lv_end
lv_start "'$HEAPSNAP' live $AT_PID -o '$AT_DIR/yes.%p.hsnap' 2>'$T/live2.err'"
lv_wait "^heapsnap live: pid $AT_PID \\(target\\)"; v=$?
lv_tmux send-keys -t v q; lv_exit_wait; rc2=$(cat "$T/exit" 2>/dev/null); lv_end
at_end
if [ "$rc" = 2 ] && grep -q 'state file is off' "$T/live.err" && [ ! -e "$AT_DIR/no.$AT_PID.hsnap" ] &&
   [ "$v" = 0 ] && [ "$rc2" = 0 ] && [ -e "$AT_DIR/yes.$AT_PID.hsnap" ]; then
  t_pass live_that_cannot_open_leaves_no_file_and_live_works_after
else t_fail live_that_cannot_open_leaves_no_file_and_live_works_after "exit $rc then $v $rc2: $(head -c 300 "$T/live.err") $(ls "$AT_DIR")"; fi
