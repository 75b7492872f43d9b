# test_live_blocks.sh - META's live blocks are one number however the
# snapshot is made (snap_live_blocks): the live counts STATS gives the
# traces, summed, blocks and mapped ranges alike, with sampled weights
# too.  On mapcuts.c's known heap (one 32 MiB malloc block and four mapped
# ranges, a hole's two among them) the exit snapshot's walk of the table
# and the state document a SIGKILL leaves (its live sums are the lines')
# give the same live blocks in heapsnap info and its JSON, with every
# allocation (5, and allocations less frees are 5) and with sampled
# weights (the same seed: the same weights both ways); and hsnap_dump
# finds META's live blocks equal to STATS' sum, and BLOCKS holding the
# malloc kind's live count.
. tests/shim/lib_shim.sh
. tests/shim/lib_kill.sh
s_dump_build
if ! s_build mapcuts -O1 -fno-inline; then t_fail live_blocks_builds "cc failed"; return 0 2>/dev/null || exit 0; fi

# live FILE: "live blocks N" and META's allocations less frees, from info
live() {
  "$HEAPSNAP" info "$1" 2>/dev/null | awk '
    /^live blocks:/ { n = $3 }
    /^total:/ { a = $2; f = $4 }
    END { print "live", n, "books", a - f }'
}
# json_live FILE: live_blocks of info --format json
json_live() { "$HEAPSNAP" info --format json "$1" 2>/dev/null | grep -o '"live_blocks": *[0-9]*' | grep -o '[0-9]*$'; }

for how in every sampled; do
  if [ $how = every ]; then s=0; else s=4194304; fi
  rm -f "$T/ready"; mkfifo "$T/ready"
  LD_PRELOAD=$SHIM HEAPSNAP_SAMPLE=$s HEAPSNAP_SAMPLE_SEED=7 HEAPSNAP_OUTPUT="$T/k.$how.%p.hsnap" \
    "$T/mapcuts" "$T/ready" 2>"$T/k.$how.err" & pid=$!
  kill_wait_fifo "$T/ready" && kill_settle "$T/k.$how.$pid.hsnap.state"
  kill_now "$pid"
  st=$T/k.$how.$pid.hsnap.state
  LD_PRELOAD=$SHIM HEAPSNAP_SAMPLE=$s HEAPSNAP_SAMPLE_SEED=7 HEAPSNAP_OUTPUT="$T/x.$how.hsnap" \
    "$T/mapcuts" 2>"$T/x.$how.err"
  ex=$T/x.$how.hsnap
  walk=$(live "$ex") state=$(live "$st")
  jw=$(json_live "$ex") js=$(json_live "$st")
  if [ $how = every ]; then want="live 5 books 5"; else want=$walk; fi
  if [ "$walk" = "$want" ] && [ "$state" = "$want" ] && [ -n "$jw" ] && [ "$jw" = "$js" ] &&
     [ "$walk" != "live  books 0" ]; then
    t_pass "live_blocks_walk_is_state_$how"
  else
    t_fail "live_blocks_walk_is_state_$how" "exit walk '$walk' (json $jw), state '$state' (json $js), want '$want'"
  fi
  if s_dump "$ex" >"$T/x.$how.dump" 2>"$T/x.$how.dumperr"; then t_pass "live_blocks_dump_agrees_$how"
  else t_fail "live_blocks_dump_agrees_$how" "$(head -c 200 "$T/x.$how.dumperr")"; fi
done
