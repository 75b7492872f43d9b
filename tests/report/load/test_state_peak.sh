# test_state_peak.sh - a read of a state file holds under twice what it
# builds: state_load (every reader's:
# heapsnap info and live, serve's /metrics and profiles) of a running
# program's state of 30,000 traces (manysites, beside this test), its
# mallocs counted by the reader itself (statepeak, beside it):
# the most held at once is under 1.9 times the snapshot it rebuilt
# (snap.len).  A reader that copies TRACES' stacks out of the rebuilt
# snapshot (parse_traces) holds 2.1 times; one that also copies the
# snapshot to load it, keeping the document it read beside it, 3.4.  Bytes counted,
# not resident memory: the bound is the reader's, whatever the machine.
OBJS=""
for f in $(link_srcs tests/report/load/statepeak.c); do OBJS="$OBJS $BUILD/obj/${f%.c}.o"; done
if ! ${CC:-gcc} -O1 -g -std=gnu11 -D_GNU_SOURCE $ROOM_INC -Itests tests/report/load/statepeak.c \
     $OBJS -o "$T/statepeak" -liberty -ldw -lelf -lz -lzstd -lm -ldl -pthread 2>"$T/cc.err" ||
   ! t_build manysites tests/report/load/manysites.c 2>>"$T/cc.err"; then
  t_fail state_peak_builds "$(head -c 400 "$T/cc.err" | tr '\n' ' ')"
  return 0
fi
mkfifo "$T/in"
HEAPSNAP_OUTPUT="$T/ms.%p.hsnap" LD_PRELOAD="$SHIM" "$T/manysites" 30000 <"$T/in" >"$T/ms.out" &
ms=$!
exec 7>"$T/in"
got=""
for _ in $(seq 300); do
  st=$(ls "$T"/ms.*.hsnap.state 2>/dev/null | head -1)
  if grep -qs ready "$T/ms.out" && [ -n "$st" ] && "$T/statepeak" "$st" >"$T/peak" 2>"$T/peak.err"; then
    read -r _ peak _ doc _ traces <"$T/peak"
    [ "$traces" -ge 30000 ] && { got=1; break; }
  fi
  sleep 0.05
done
exec 7>&-
wait "$ms"
if [ -z "$got" ]; then
  t_fail state_peak_reads_the_state "$(cat "$T/peak" "$T/peak.err" 2>/dev/null | head -c 300)"
elif [ $((peak * 10)) -ge $((doc * 19)) ]; then
  t_fail state_peak_holds_under_1_9_snapshots \
    "peak $peak bytes for a snapshot of $doc bytes ($traces traces)"
else
  t_pass state_peak_holds_under_1_9_snapshots
fi
