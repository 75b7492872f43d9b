# test_live_any_order.sh - attach (ended by --duration), attach ended by
# detach, and live (--batch, no terminal) on one process, in every order of
# the three and with live inside an attach, 10 rounds (or
# LIVE_ORDER_ROUNDS), on tests/report/commands/ticker.c, which keeps 4 KiB
# a tick and writes its own count of the bytes it keeps: each session's
# view is its own and right (its heap and peak within what the program
# kept while it ran, its count of blocks times 4 KiB, a rate near the
# program's), the program never dies, its blocks keep their bytes, its
# output is that of a run without heapsnap, and no socket stays.
# serial: the bounds are of what the program keeps in the time each session takes
. tests/shim/attach/lib_attach.sh
t_build ticker tests/report/commands/ticker.c
# lo_truth: the bytes the ticker keeps now, by its own count
lo_truth() { local t b; read -r t b <"$T/truth" 2>/dev/null; echo "${b:-0}"; }
# lo_bytes "620 KiB": bytes (fmt_size's units; within its rounding)
lo_bytes() { awk -v v="$1" -v u="$2" 'BEGIN { m = u == "KiB" ? 1024 : u == "MiB" ? 1048576 : 1; printf "%.0f", v * m }'; }
# lo_snap NAME FILE LO HI: the session's snapshot counts its own blocks:
# current = peak = allocations x 4096, in (0, HI - LO], no frees
lo_snap() {
  local name=$1 f=$2 lo=$3 hi=$4 cur peak n
  "$HEAPSNAP" info "$f" >"$T/info" 2>&1 || { bad="$bad; $name: no snapshot: $(head -c 200 "$T/info")"; return; }
  cur=$(sed -n 's/^traced current: .*(\([0-9]*\) bytes)$/\1/p' "$T/info")
  peak=$(sed -n 's/^traced peak: .*(\([0-9]*\) bytes)$/\1/p' "$T/info")
  n=$(sed -n 's/^total: *\([0-9]*\) allocations, 0 frees$/\1/p' "$T/info")
  if [ -z "$cur" ] || [ -z "$n" ] || [ "$cur" != $((n * 4096)) ] || [ "$peak" != "$cur" ] ||
     [ "$cur" -le 0 ] || [ "$cur" -gt $((hi - lo)) ]; then
    bad="$bad; $name: current ${cur:-?} peak ${peak:-?} allocations ${n:-?}, the program kept $((hi - lo)) meanwhile"
  fi
}
# lo_view NAME LO HI SECS: the last frame of $T/view (a --batch run that
# took SECS seconds, the program keeping HI - LO bytes meanwhile)
lo_view() {
  local name=$1 lo=$2 hi=$3 secs=$4 head row heap peak rate count
  head=$(grep '^heap ' "$T/view" | tail -1)
  row=$(grep 'ticker\.c:[0-9]*$' "$T/view" | tail -1)
  set -- $head
  heap=$(lo_bytes "$2" "$3"); peak=$(lo_bytes "$5" "$6"); rate=${13%/s}
  count=$(echo "$row" | awk '{print $(NF-2)}')
  # fmt_size: whole KiB below 10 MiB (the sessions keep less)
  if [ -z "$head" ] || [ -z "$row" ] || [ "$heap" != $((count * 4096)) ] || [ "$heap" -le 0 ] ||
     [ "$heap" -gt $((hi - lo)) ] || [ "$peak" -lt "$heap" ] || [ "$peak" -gt $((hi - lo)) ] ||
     [ "${rate:-0}" -le 0 ] || [ "$rate" -gt $(( (hi - lo) / 4096 * 2 / secs + 20 )) ]; then
    bad="$bad; $name: '${head:-no frame}' '${row}', the program kept $((hi - lo)) in ${secs} s: $(grep -v '^ *$' "$T/view" | tail -3 | tr '\n' '|') $(head -c 200 "$T/live.err")"
  fi
}
# The sessions; $r the round.  A: attach --duration.  B: attach, detach
# (L inside when $1 is L).  L: live --batch 1.5 (it attaches, and detaches).
sess_A() {
  local lo hi
  lo=$(lo_truth)
  "$HEAPSNAP" attach "$AT_PID" --duration 0.6 -o "$AT_DIR/A$r.%p.hsnap" >/dev/null 2>"$T/a.err" ||
    bad="$bad; round $r A: attach $(head -c 200 "$T/a.err")"
  hi=$(lo_truth)
  lo_snap "round $r A" "$AT_DIR/A$r.$AT_PID.hsnap" "$lo" "$hi"
}
sess_L() {
  local lo=${1:-$(lo_truth)} hi t0=$SECONDS
  "$HEAPSNAP" live "$AT_PID" --batch 1.5 -o "$AT_DIR/L$r.%p.hsnap" >"$T/view" 2>"$T/live.err" </dev/null ||
    bad="$bad; round $r L: live exit $?: $(head -c 200 "$T/live.err")"
  hi=$(lo_truth)
  lo_view "round $r L${1:+ (inside B)}" "$lo" "$hi" 1
  [ -n "${1:-}" ] || lo_snap "round $r L" "$AT_DIR/L$r.$AT_PID.hsnap" "$lo" "$hi"
}
sess_B() {
  local lo hi
  lo=$(lo_truth)
  at_attach || bad="$bad; round $r B: not attached: $(head -c 200 "$T/attach.err")"
  sleep 0.6 # the session's length: the program ticks meanwhile
  [ "${1:-}" = L ] && sess_L "$lo"
  at_detach
  [ "$AT_DETACH_RC" = 0 ] && [ "$AT_ATTACH_RC" = 0 ] ||
    bad="$bad; round $r B: detach $AT_DETACH_RC attach $AT_ATTACH_RC: $(head -c 200 "$T/detach.err")"
  hi=$(lo_truth)
  lo_snap "round $r B" "$AT_DIR/$AT_PID.hsnap" "$lo" "$hi"
  mv "$AT_DIR/$AT_PID.hsnap" "$AT_DIR/B$r.$AT_PID.hsnap" 2>/dev/null
}
orders=("A B L" "A L B" "B A L" "B L A" "L A B" "L B A" "BL")
at_start "$T/ticker" "$T/truth"
bad=""
rounds=${LIVE_ORDER_ROUNDS:-10}
for r in $(seq "$rounds"); do
  for s in ${orders[$(( (r - 1) % ${#orders[@]} ))]}; do
    case $s in A) sess_A ;; B) sess_B ;; L) sess_L ;; BL) sess_B L ;; esac
    kill -0 "$AT_TPID" 2>/dev/null || { bad="$bad; round $r $s: the program died"; break 2; }
  done
  [ -e "/tmp/heapsnap-$(id -u)/$AT_PID.sock" ] && bad="$bad; round $r: a socket stays"
done
at_end
[ "$(cat "$T/transcript")" = "bye ok" ] || bad="$bad; output: $(tr '\n' ' ' <"$T/transcript")"
[ "$AT_STATUS" = 0 ] || bad="$bad; exit $AT_STATUS"
if [ -z "$bad" ]; then t_pass attach_detach_live_in_any_order_each_view_its_own
else t_fail attach_detach_live_in_any_order_each_view_its_own "${bad#; }"; fi
