# test_soak_attach.sh - the attach soak's checks, short: scripts/bench/gotread.py
# on tests/shim/attach/target.c (the GOT entries point into the shim during
# a session, and hold their old values again after the detach), then
# scripts/soak-attach.sh for 3 cycles on redis-server under redis-benchmark
# (PING, RSS, threads, GOT and snapshots after each), and 6 cycles of its
# --kill-cli soak (the CLI killed at random: no target death).  The 50-cycle run is
# scripts/soak-attach.sh's default, quoted in docs/performance.md.
. tests/shim/attach/lib_attach.sh
PY=/usr/bin/python3; [ -x "$PY" ] || PY=$(command -v python3)

# --- the GOT reader on a C program: hooked while attached, put back after ---
t_build target tests/shim/attach/target.c -pthread
at_start "$T/target"
"$PY" scripts/bench/gotread.py "$AT_PID" --save "$T/got.json" >"$T/got.0" 2>&1; r0=$?
at_attach
at_cmd "a 8"
"$PY" scripts/bench/gotread.py "$AT_PID" --hooked "$T/got.json" >"$T/got.1" 2>&1; r1=$?
"$PY" scripts/bench/gotread.py "$AT_PID" --check "$T/got.json" >"$T/got.2" 2>&1; r2=$?
at_detach
"$PY" scripts/bench/gotread.py "$AT_PID" --check "$T/got.json" >"$T/got.3" 2>&1; r3=$?
at_end
if [ "$r0" = 0 ] && [ "$r1" = 0 ] && grep -qE 'entries, [1-9][0-9]* into the shim$' "$T/got.1" &&
   [ "$r2" = 1 ] && grep -qE '[1-9][0-9]* into the shim' "$T/got.2"; then
  t_pass gotread_sees_the_entries_attach_rewrites
else t_fail gotread_sees_the_entries_attach_rewrites "$r0 $r1 $r2: $(cat "$T/got.0" "$T/got.1" "$T/got.2")"; fi
if [ "$AT_DETACH_RC" = 0 ] && [ "$r3" = 0 ] && grep -q ' 0 into the shim, 0 changed' "$T/got.3"; then
  t_pass detach_puts_every_got_entry_back
else t_fail detach_puts_every_got_entry_back "detach $AT_DETACH_RC, check $r3: $(cat "$T/got.3")"; fi

# --- the soak, 3 cycles on redis ---
for tool in redis-server redis-cli redis-benchmark; do
  if ! command -v "$tool" >/dev/null; then
    t_skip soak_attach_three_cycles_on_redis "$tool is not installed (scripts/install-deps.sh test)"
    return 0
  fi
done
scripts/soak-attach.sh --cycles 3 --duration 1 --requests 2000 --keep "$T/soak" >"$T/soak.out" 2>&1; rc=$?
if [ "$rc" = 0 ] && grep -q '^verdict: ok, 3 of 3 sessions clean$' "$T/soak.out" &&
   [ "$(grep -cE '^cycle +[1-3]: .*: ok$' "$T/soak.out")" = 3 ]; then
  t_pass soak_attach_three_cycles_on_redis
else t_fail soak_attach_three_cycles_on_redis "exit $rc: $(tail -c 600 "$T/soak.out")"; fi
# every check ran: the GOT seen hooked (a reading may come after a session's end)
if grep -qE '^GOT: hooked during [1-3] of 3 sessions, put back after 3 of 3; snapshots read by heapsnap top: 3 of 3; PING answered after 3 of 3$' "$T/soak.out" &&
   grep -q "^threads: .* left after its detach: 0 of 3 cycles" "$T/soak.out" &&
   grep -qE '^time per cycle: median [0-9.]+ s ' "$T/soak.out" &&
   grep -qE '^RSS after each detach, against before: median [-+][0-9]+ KiB' "$T/soak.out" &&
   grep -q '^redis: 0 error lines from redis-benchmark, 0 errorstats, 0 crash lines' "$T/soak.out"; then
  t_pass soak_attach_reports_every_check
else t_fail soak_attach_reports_every_check "$(tail -c 600 "$T/soak.out")"; fi

# --- the kill soak, 6 cycles: the CLI killed at random, redis never dies ---
scripts/soak-attach.sh --kill-cli --cycles 6 --keep "$T/kill" >"$T/kill.out" 2>&1; rc=$?
if [ "$rc" = 0 ] && grep -q '^target deaths: 0 of 6 attaches; PING answered after 6 of 6; still traced after 0$' "$T/kill.out" &&
   grep -qE '^kills: SIGKILL [0-6], SIGHUP [0-6], SIGTERM [0-6], SIGINT [0-6]; ' "$T/kill.out"; then
  t_pass soak_attach_kill_cli_counts_no_target_death
else t_fail soak_attach_kill_cli_counts_no_target_death "exit $rc: $(tail -c 600 "$T/kill.out")"; fi
