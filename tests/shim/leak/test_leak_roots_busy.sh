# tests/shim/leak/test_leak_roots_busy.sh - a registration of roots
# (heapsnap_register_root, and pymalloc's arenas through the same
# roots_register) never waits for a snapshot being written: the roots have
# a lock of their own, not the snapshot's.  A thread's snapshot to a FIFO
# whose reader takes nothing holds the snapshot lock for DEST_STALL_MS (5
# s); the registration made one second in returned at once after the
# change, and 4 s later before it (the whole hold-up).  Fixture:
# tests/shim/leak/rootbusy.c.
t_build rootbusy tests/shim/leak/rootbusy.c -pthread ||
  { t_fail build "rootbusy does not build"; return 0 2>/dev/null || exit 0; }

mkfifo "$T/fifo"
exec 7<>"$T/fifo" # a reader that takes nothing (and a writer: the open does not block)
HEAPSNAP_COMPRESS=0 LD_PRELOAD="$SHIM" HEAPSNAP_OUTPUT="$T/x.%p.hsnap" \
  timeout 30 "$T/rootbusy" "$T/fifo" 20000 >"$T/busy.out" 2>"$T/busy.err"; rc=$?
exec 7<&-
reg=$(sed -n 's/^register_ms //p' "$T/busy.out")
unreg=$(sed -n 's/^unregister_ms //p' "$T/busy.out")
snap=$(sed -n 's/^snapshot //p' "$T/busy.out")
# the hold-up is real: the snapshot gave its reader up (-1), and said why
if [ $rc = 0 ] && [ "$snap" = -1 ] && grep -q "^heapsnap: cannot write $T/fifo" "$T/busy.err" &&
   grep -qx "register 0 unregister 0" "$T/busy.out" && [ -n "$reg" ] && [ -n "$unreg" ] &&
   [ "$reg" -lt 1000 ] && [ "$unreg" -lt 1000 ]; then
  t_pass "roots_register_waits_for_no_snapshot ($reg ms, $unreg ms)"
else
  t_fail roots_register_waits_for_no_snapshot "exit $rc: $(tr '\n' ' ' <"$T/busy.out"): $(head -c 300 "$T/busy.err")"
fi
